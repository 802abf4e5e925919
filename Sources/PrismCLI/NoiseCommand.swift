import ArgumentParser
import Foundation
import PrismData
import PrismEval
import PrismGrounding

struct NoiseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noise",
        abstract: "Corrupt a known share of goldens the way LLM teachers err (wrong title, false genre, false era), for the noise-filter experiment.",
        discussion: "Writes OUTPUT/distilled.jsonl (the goldens, the chosen ones corrupted and marked again with grounding marks, every other field kept) and OUTPUT/corrupted.jsonl (sample id, kind, original and replacement words).")

    @Option(help: "Folder with samples.jsonl and catalog.jsonl.") var data = "out/data"
    @Option(help: "distilled.jsonl to corrupt.") var references: String
    @Option(help: "Share of the goldens of the chosen splits to corrupt, 0–1.") var rate = 0.1
    @Option(help: "Splits whose goldens may be corrupted, comma-separated.") var splits = "train,valid"
    @Option(help: "Seed (the same seed corrupts the same goldens the same way).") var seed: UInt64 = 1
    @Option(help: "Output folder.") var output = "out/noisy"

    func validate() throws {
        guard (0...1).contains(rate) else { throw ValidationError("--rate is a share between 0 and 1") }
    }

    func run() async throws {
        let folder = URL(fileURLWithPath: data)
        let samples = try SampleIO.readSamples(from: folder.appendingPathComponent("samples.jsonl"))
        let catalog = try SampleIO.readCatalog(from: folder.appendingPathComponent("catalog.jsonl"))
        let wanted = Set(try splits.split(separator: ",").map { name -> Split in
            guard let split = Split(rawValue: String(name)) else { throw ValidationError("unknown split '\(name)'") }
            return split
        })
        let url = URL(fileURLWithPath: references)
        let goldens = try EvalInputs.readOutputs(url)
        let cases = samples.filter { wanted.contains($0.split) && goldens[$0.sampleID] != nil }
            .map { EvalCase(sample: $0, facts: GroundingFacts($0, catalog: catalog), reference: nil) }
        let checker = GroundingChecker(catalog: catalog)
        let corruptions = GoldenNoise(checker: checker).corrupt(cases, texts: goldens, rate: rate, seed: seed)
        let marker = GroundedMarker(checker: checker)
        let facts = Dictionary(uniqueKeysWithValues: cases.map { ($0.sample.sampleID, $0.facts) })
        let byID = Dictionary(uniqueKeysWithValues: corruptions.map { ($0.sampleID, $0) })
        let out = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        // Every line of the input, in order, with only the chosen explanations replaced.
        var noisy = Data()
        for line in try Data(contentsOf: url).split(separator: 0x0A) {
            guard var object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
            if let id = object["sample_id"] as? String, let corruption = byID[id] {
                object["explanation"] = corruption.explanation
                // The marks follow the corrupted text: the false words stay unmarked, as a teacher's would.
                if object["marked"] != nil, let f = facts[id] {
                    let marks = marker.mark(corruption.explanation, facts: f)
                    object["marked"] = marks.marked
                    object["grounded"] = marks.markable
                }
            }
            noisy.append(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            noisy.append(0x0A)
        }
        try noisy.write(to: out.appendingPathComponent("distilled.jsonl"), options: .atomic)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var list = Data()
        for c in corruptions {
            list.append(try encoder.encode(c))
            list.append(0x0A)
        }
        try list.write(to: out.appendingPathComponent("corrupted.jsonl"), options: .atomic)
        let kinds = Dictionary(grouping: corruptions, by: \.kind.rawValue).mapValues(\.count).sorted { $0.key < $1.key }
        print("corrupted \(corruptions.count) of \(cases.count) goldens (\(String(format: "%.1f", 100 * Double(corruptions.count) / Double(max(1, cases.count))))%): "
              + kinds.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "; \(out.path)/distilled.jsonl, corrupted.jsonl")
    }
}
