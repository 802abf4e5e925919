import Foundation
import PrismData
import PrismGrounding

/// Reading what `prism eval` compares: the split's cases, the distilled goldens, systems' output files.
public enum EvalInputs {
    /// `count` cases spread evenly over the split's samples (0: all), each with its facts and golden.
    public static func cases(samples: [Sample], catalog: ItemCatalog, split: Split, references: [String: String], count: Int) -> [EvalCase] {
        let pool = samples.filter { $0.split == split }
        let chosen: [Sample]
        if count <= 0 || count >= pool.count {
            chosen = pool
        } else {
            let step = max(1, pool.count / count)
            chosen = stride(from: 0, to: pool.count, by: step).prefix(count).map { pool[$0] }
        }
        return chosen.map { EvalCase(sample: $0, facts: GroundingFacts($0, catalog: catalog), reference: references[$0.sampleID]) }
    }

    /// Sample id → explanation from a JSON-lines file whose objects carry `sample_id` and
    /// `explanation` (or `text`): `distilled.jsonl`, `prism eval`'s own `outputs-*.jsonl`, any system's file.
    public static func readOutputs(_ url: URL) throws -> [String: String] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw EvalError.io("cannot read \(url.path): \(error.localizedDescription)") }
        var outputs: [String: String] = [:]
        var lineNumber = 0
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw EvalError.invalidInput("\(url.path):\(lineNumber): not a JSON object")
            }
            guard let id = object["sample_id"] as? String else {
                throw EvalError.invalidInput("\(url.path):\(lineNumber): no \"sample_id\" string")
            }
            guard let text = (object["explanation"] ?? object["text"]) as? String else {
                throw EvalError.invalidInput("\(url.path):\(lineNumber): no \"explanation\" (or \"text\") string")
            }
            outputs[id] = text
        }
        return outputs
    }

    /// Writes sample id → explanation as JSON lines (`sample_id`, `user_id`, `item_id`, `explanation`) in case order.
    public static func writeOutputs(_ outputs: [String: String], users: [String: String] = [:], cases: [EvalCase], to url: URL) throws {
        var data = Data()
        for c in cases {
            guard let text = outputs[c.sample.sampleID] else { continue }
            let object: [String: String] = ["sample_id": c.sample.sampleID, "user_id": users[c.sample.sampleID] ?? c.sample.userID,
                                            "item_id": c.sample.itemID, "explanation": text]
            data.append(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            data.append(0x0A)
        }
        do { try data.write(to: url, options: .atomic) } catch { throw EvalError.io("cannot write \(url.path): \(error.localizedDescription)") }
    }
}
