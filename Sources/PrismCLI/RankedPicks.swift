import ArgumentParser
import Foundation
import PrismData

/// A ranker's picks (scripts/ranker/train_ranker.py's rankings.jsonl): per sample, the ranker's best
/// unseen item, which `prism eval --ranked` explains instead of the held-out one.
struct RankedPicks {
    struct Row: Decodable {
        struct Entry: Decodable { var item_id: String; var rank: Int; var score: Double }
        var sample_id: String
        var ranked: [Entry]
    }

    var top: [String: String]

    static func read(_ url: URL) throws -> RankedPicks {
        var top: [String: String] = [:]
        let text = try String(contentsOf: url, encoding: .utf8)
        for (number, line) in text.split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let row: Row
            do { row = try JSONDecoder().decode(Row.self, from: Data(line.utf8)) } catch {
                throw ValidationError("\(url.path):\(number + 1): not a rankings row: \(error)")
            }
            if let best = row.ranked.min(by: { $0.rank < $1.rank }) { top[row.sample_id] = best.item_id }
        }
        guard !top.isEmpty else { throw ValidationError("\(url.path) ranks nothing") }
        return RankedPicks(top: top)
    }

    /// The samples the ranker ranked, each with its item replaced by the ranker's pick.
    func apply(to samples: [Sample]) -> [Sample] {
        samples.compactMap { sample in
            guard let item = top[sample.sampleID] else { return nil }
            var picked = sample
            picked.itemID = item
            return picked
        }
    }
}
