import Foundation

/// Filled rating sheets, scored: per system and dimension mean/median/sd, Fleiss' κ per dimension
/// over the rows every annotator rated, and paired t-tests between systems (per case, the mean
/// rating over annotators).
public struct HumanScores: Sendable, Codable, Equatable {
    public struct Summary: Sendable, Codable, Equatable {
        public var system: String, dimension: String
        public var ratings: Int
        public var mean: Double, median: Double, sd: Double
    }

    public struct Agreement: Sendable, Codable, Equatable {
        public var dimension: String
        public var fleissKappa: Double?
        /// Rows rated by every annotator.
        public var subjects: Int
        public var raters: Int
    }

    public struct Comparison: Sendable, Codable, Equatable {
        public var dimension: String, a: String, b: String
        public var pairs: Int
        public var test: Statistics.TTest?
    }

    public var annotators: Int
    public var summaries: [Summary]
    public var agreement: [Agreement]
    public var comparisons: [Comparison]

    /// `key`: the records of key.csv (header first); `sheets`: each annotator's filled sheet
    /// (records, header first) with the file name for errors.
    public static func score(key: [[String]], sheets: [(name: String, records: [[String]])]) throws -> HumanScores {
        guard let header = key.first, let rowColumn = header.firstIndex(of: "row"), let sampleColumn = header.firstIndex(of: "sample_id"),
              let systemColumn = header.firstIndex(of: "system") else {
            throw EvalError.invalidInput("the key needs the columns row, sample_id, system")
        }
        var rows: [Int: (sample: String, system: String)] = [:]
        for record in key.dropFirst() where record.count > max(rowColumn, sampleColumn, systemColumn) {
            guard let row = Int(record[rowColumn]) else { throw EvalError.invalidInput("key: row '\(record[rowColumn])' is not a number") }
            rows[row] = (record[sampleColumn], record[systemColumn])
        }
        let dims = HumanEvaluation.dimensions.map(\.name)
        // ratings[dimension][row] = one rating per annotator that gave one
        var ratings = [String: [Int: [Int]]]()
        for sheet in sheets {
            guard let head = sheet.records.first, let r = head.firstIndex(of: "row") else {
                throw EvalError.invalidInput("\(sheet.name): no 'row' column")
            }
            let columns = try dims.map { d -> Int in
                guard let c = head.firstIndex(of: d) else { throw EvalError.invalidInput("\(sheet.name): no '\(d)' column") }
                return c
            }
            for (line, record) in sheet.records.enumerated().dropFirst() {
                guard record.count > r, let row = Int(record[r]), rows[row] != nil else {
                    throw EvalError.invalidInput("\(sheet.name):\(line + 1): row '\(record.first ?? "")' is not in the key")
                }
                for (d, c) in zip(dims, columns) where c < record.count {
                    let text = record[c].trimmingCharacters(in: .whitespaces)
                    if text.isEmpty { continue }
                    guard let value = Int(text), (1...5).contains(value) else {
                        throw EvalError.invalidInput("\(sheet.name):\(line + 1): \(d) '\(text)' is not a rating from 1 to 5")
                    }
                    ratings[d, default: [:]][row, default: []].append(value)
                }
            }
        }
        let systems = Array(Set(rows.values.map(\.system))).sorted()
        var summaries: [Summary] = [], agreement: [Agreement] = [], comparisons: [Comparison] = []
        for d in dims {
            let byRow = ratings[d] ?? [:]
            for s in systems {
                let values = byRow.filter { rows[$0.key]?.system == s }.values.flatMap { $0 }.map(Double.init)
                summaries.append(Summary(system: s, dimension: d, ratings: values.count, mean: Statistics.mean(values),
                                         median: Statistics.median(values), sd: Statistics.standardDeviation(values)))
            }
            let complete = byRow.filter { $0.value.count == sheets.count }.sorted { $0.key < $1.key }
            let table = complete.map { _, values in (1...5).map { c in values.filter { $0 == c }.count } }
            agreement.append(Agreement(dimension: d, fleissKappa: sheets.count >= 2 ? Statistics.fleissKappa(table) : nil,
                                       subjects: table.count, raters: sheets.count))
            // Per case and system: the mean over annotators.
            var perCase: [String: [String: Double]] = [:]
            for (row, values) in byRow where !values.isEmpty {
                guard let (sample, system) = rows[row] else { continue }
                perCase[system, default: [:]][sample] = Statistics.mean(values.map(Double.init))
            }
            for (i, a) in systems.enumerated() {
                for b in systems[(i + 1)...] {
                    let shared = Set(perCase[a].map { Array($0.keys) } ?? []).intersection(perCase[b].map { Array($0.keys) } ?? []).sorted()
                    let x = shared.compactMap { perCase[a]?[$0] }, y = shared.compactMap { perCase[b]?[$0] }
                    comparisons.append(Comparison(dimension: d, a: a, b: b, pairs: shared.count, test: Statistics.pairedTTest(x, y)))
                }
            }
        }
        return HumanScores(annotators: sheets.count, summaries: summaries, agreement: agreement, comparisons: comparisons)
    }

    /// A markdown summary: one table of means per system and dimension, κ, and the t-tests.
    public var markdown: String {
        let dims = HumanEvaluation.dimensions.map(\.name)
        var md = "# Human evaluation (\(annotators) annotators)\n\n| system | " + dims.joined(separator: " | ") + " |\n|---|" + dims.map { _ in "---|" }.joined() + "\n"
        for system in Array(Set(summaries.map(\.system))).sorted() {
            md += "| \(system) | " + dims.map { d in
                summaries.first { $0.system == system && $0.dimension == d }.map { String(format: "%.2f ± %.2f (median %.1f)", $0.mean, $0.sd, $0.median) } ?? "—"
            }.joined(separator: " | ") + " |\n"
        }
        md += "\nFleiss' κ: " + agreement.map { a in "\(a.dimension) " + (a.fleissKappa.map { String(format: "%.3f", $0) } ?? "—") + " (\(a.subjects) rows)" }.joined(separator: ", ") + "\n\n"
        md += "| dimension | a | b | pairs | mean a − b | t | p (two-sided) |\n|---|---|---|---|---|---|---|\n"
        for c in comparisons {
            let t = c.test
            md += "| \(c.dimension) | \(c.a) | \(c.b) | \(c.pairs) | " + (t.map { String(format: "%.3f | %.3f | %.4f", $0.meanDifference, $0.t, $0.p) } ?? "— | — | —") + " |\n"
        }
        return md
    }
}
