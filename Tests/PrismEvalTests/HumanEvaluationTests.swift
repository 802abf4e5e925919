import Foundation
import PrismData
import PrismGrounding
import PrismTestSupport
import XCTest
@testable import PrismEval

final class HumanEvaluationTests: XCTestCase {
    struct Reference: Decodable { var kappa: [Double?]; var ttest: [[Double]?] }

    func reference(tables: [[[Int]]], pairs: [[[Double]]]) throws -> Reference {
        try runReferenceScript("scripts/eval/reference_stats.py", input: ["tables": tables, "pairs": pairs], as: Reference.self)
    }

    func testFleissKappaAndPairedTTestEqualStatsmodelsAndScipy() throws {
        var rng = TestRandom(seed: 3)
        var tables: [[[Int]]] = []
        for raters in [2, 3, 5] {
            for _ in 0..<6 {
                tables.append((0..<Int.random(in: 5...40, using: &rng)).map { _ in
                    var row = [Int](repeating: 0, count: 5)
                    let centre = Int.random(in: 0..<5, using: &rng)
                    for _ in 0..<raters { row[min(4, max(0, centre + Int.random(in: -1...1, using: &rng)))] += 1 }
                    return row
                })
            }
        }
        var pairs: [[[Double]]] = []
        for n in [2, 3, 8, 30, 200] {
            let a = (0..<n).map { _ in Double(Int.random(in: 1...5, using: &rng)) }
            let b = a.map { min(5, max(1, $0 + Double(Int.random(in: -2...1, using: &rng)))) }
            pairs.append([a, b])
        }
        pairs.append([[4.5, 3, 5, 4.25, 2], [1, 2.5, 2, 1.75, 1]])  // a large t: p near 0
        let ref = try reference(tables: tables, pairs: pairs)
        for (table, expected) in zip(tables, ref.kappa) {
            guard let expected else { XCTAssertNil(Statistics.fleissKappa(table), "\(table)"); continue }
            XCTAssertEqual(try XCTUnwrap(Statistics.fleissKappa(table)), expected, accuracy: 1e-9)
        }
        for (pair, expected) in zip(pairs, ref.ttest) {
            guard let t = Statistics.pairedTTest(pair[0], pair[1]), let expected else {
                XCTAssertNil(expected, "scipy found a statistic for \(pair)")
                XCTAssertNil(Statistics.pairedTTest(pair[0], pair[1]), "scipy found none for \(pair)")
                continue
            }
            XCTAssertEqual(t.t, expected[0], accuracy: 1e-9)
            XCTAssertEqual(t.p, expected[1], accuracy: 1e-9 + 1e-7 * expected[1])
        }
    }

    func testKnownValues() {
        // Fleiss (1971)'s worked example as Wikipedia gives it: 10 subjects, 14 raters, κ = 0.210.
        let table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                     [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
        XCTAssertEqual(Statistics.fleissKappa(table) ?? -1, 0.210, accuracy: 0.0005)
        XCTAssertEqual(Statistics.fleissKappa([[3, 0], [0, 3], [3, 0]]) ?? -1, 1, accuracy: 1e-12, "perfect agreement")
        XCTAssertNil(Statistics.fleissKappa([[2, 1], [3]]), "rows with different rater counts")
        // t with 1 degree of freedom is Cauchy: P(|T| ≥ 1) = 0.5.
        XCTAssertEqual(Statistics.studentTwoSidedP(1, df: 1), 0.5, accuracy: 1e-12)
    }

    func testSheetsAreBlindShuffledAndScoreBack() throws {
        let catalog = ItemCatalog([CatalogItem(id: "1", title: "Heat", year: 1995), CatalogItem(id: "2", title: "Jaws, with \"quotes\", commas", year: 1975)])
        let cases = (0..<6).map { i -> EvalCase in
            let s = Sample(sampleID: "s\(i)", userID: "u\(i)", itemID: i % 2 == 0 ? "1" : "2", history: ["2"], split: .test, timestamp: 0)
            return EvalCase(sample: s, facts: GroundingFacts(s, catalog: catalog), reference: nil)
        }
        let systems = ["good", "bad"].map { name in
            SystemOutputs(name: name, texts: Dictionary(uniqueKeysWithValues: cases.map { ($0.sample.sampleID, "\(name) text for \($0.sample.sampleID), with a comma") }))
        }
        let rows = HumanEvaluation.sheet(cases: cases, systems: systems, count: 5, seed: 9)
        XCTAssertEqual(rows.count, 10)
        XCTAssertEqual(rows, HumanEvaluation.sheet(cases: cases, systems: systems, count: 5, seed: 9), "same seed, same sheet")
        XCTAssertNotEqual(rows.map(\.sampleID), HumanEvaluation.sheet(cases: cases, systems: systems, count: 5, seed: 10).map(\.sampleID))
        let csv = HumanEvaluation.sheetCSV(rows)
        XCTAssertFalse(csv.split(separator: "\n")[0].contains("system"), "the sheet has no system column")
        XCTAssertTrue(HumanEvaluation.sheetHTML(rows).contains("Download my ratings"))

        // Three annotators rate "good" 5/4 and "bad" 2/1 on every dimension, disagreeing a little.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prism-human-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyURL = dir.appendingPathComponent("key.csv")
        try Data(HumanEvaluation.keyCSV(rows).utf8).write(to: keyURL)
        let blank = dir.appendingPathComponent("sheet.csv")
        try Data(csv.utf8).write(to: blank)
        let filled = try readCSVRecords(blank)
        XCTAssertEqual(filled.count, 11, "header and 10 rows, quoted fields intact")
        XCTAssertFalse(filled.joined().contains { $0 == "good" || $0 == "bad" }, "no field names a system")
        var sheets: [(String, [[String]])] = []
        for annotator in 0..<3 {
            let url = dir.appendingPathComponent("a\(annotator).csv")
            var records = [filled[0]]
            for record in filled.dropFirst() {
                let row = Int(record[0])!
                let system = rows.first { $0.row == row }!.system
                let score = system == "good" ? (annotator == 2 && row % 3 == 0 ? 4 : 5) : (annotator == 1 && row % 2 == 0 ? 1 : 2)
                records.append(Array(record.prefix(4)) + ["\(score)", "\(score)", "\(score)"])
            }
            try Data(records.map { $0.map(HumanEvaluation.csvField).joined(separator: ",") }.joined(separator: "\n").utf8).write(to: url)
            sheets.append((url.lastPathComponent, try readCSVRecords(url)))
        }
        let scores = try HumanScores.score(key: try readCSVRecords(keyURL), sheets: sheets)
        XCTAssertEqual(scores.annotators, 3)
        let good = try XCTUnwrap(scores.summaries.first { $0.system == "good" && $0.dimension == "faithfulness" })
        XCTAssertEqual(good.ratings, 15)
        XCTAssertGreaterThan(good.mean, 4.5)
        let comparison = try XCTUnwrap(scores.comparisons.first { $0.dimension == "persuasiveness" })
        XCTAssertEqual(comparison.pairs, 5)
        XCTAssertLessThan(try XCTUnwrap(comparison.test).p, 0.001, "good beats bad")
        XCTAssertEqual(scores.agreement.first?.subjects, 10)
        XCTAssertTrue(scores.markdown.contains("Fleiss"))

        // A rating out of range names the file and line.
        var broken = sheets[0].1
        broken[1][4] = "7"
        XCTAssertThrowsError(try HumanScores.score(key: try readCSVRecords(keyURL), sheets: [("a0.csv", broken)])) { error in
            XCTAssertTrue("\(error)".contains("a0.csv:2"), "\(error)")
        }
    }
}
