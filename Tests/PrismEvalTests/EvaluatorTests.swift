import Foundation
import PrismData
import PrismWire
import PrismGrounding
import PrismTeacher
import XCTest
@testable import PrismEval

final class EvaluatorTests: XCTestCase {
    static let catalog = ItemCatalog([
        CatalogItem(id: "1", title: "Heat", year: 1995, genres: ["Action", "Crime"], directors: ["Michael Mann"], actors: ["Al Pacino"]),
        CatalogItem(id: "2", title: "The Piano", year: 1993, genres: ["Drama", "Romance"], directors: ["Jane Campion"]),
        CatalogItem(id: "3", title: "Jaws", year: 1975, genres: ["Action", "Horror"], directors: ["Steven Spielberg"]),
        CatalogItem(id: "4", title: "Casino", year: 1995, genres: ["Crime", "Drama"], directors: ["Martin Scorsese"], actors: ["Robert De Niro"]),
    ])

    func testCase(_ id: String, history: [String], item: String, reference: String?) -> EvalCase {
        let sample = Sample(sampleID: id, userID: "u\(id)", itemID: item, history: history, split: .test, timestamp: 0)
        return EvalCase(sample: sample, facts: GroundingFacts(sample, catalog: Self.catalog), reference: reference)
    }

    func testFaithfulnessDiversityAndLexicalFigures() throws {
        let cases = [
            testCase("a", history: ["2"], item: "1", reference: "Heat is a crime film, like The Piano."),
            testCase("b", history: ["1"], item: "4", reference: "Casino is a crime film, like Heat."),
            testCase("c", history: ["3"], item: "2", reference: "The Piano is a drama film."),
            testCase("d", history: ["2"], item: "3", reference: nil),
        ]
        let outputs = SystemOutputs(name: "s", texts: [
            "a": "Heat is a crime film, like The Piano.",          // grounded, same as the golden
            "b": "Casino is a crime film, like Jaws.",             // a wrong title (Jaws is not in the request)
            "c": "The Pianno is a drama film.",                    // the item is garbled: not named, an unsupported span
            // "d" missing
        ], latencyMs: [10, 20, 30], probes: [SensitivityProbe(real: "x y", unknown: "x y", other: "x z")])
        let (report, details) = Evaluator(checker: GroundingChecker(catalog: Self.catalog)).evaluate(cases, outputs)
        XCTAssertEqual(report.count, 3)
        XCTAssertEqual(report.missing, 1)
        XCTAssertEqual(details.map(\.sampleID), ["a", "b", "c"])
        let f = report.faithfulness
        XCTAssertEqual(f.fullyGrounded, 100.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(f.itemNamed, 200.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(f.wrongTitle, 100.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(f.unsupportedSpan, 100.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(f.falseClaim, 0)
        // Every golden names a genre of its item, and every output repeats it.
        XCTAssertEqual(f.featureCases, 3)
        XCTAssertEqual(f.featureMatchingRatio ?? -1, 100, accuracy: 1e-9)
        let lexical = try XCTUnwrap(report.lexical)
        XCTAssertEqual(lexical.pairs, 3)
        let scorer = RougeScorer(stemmed: false)
        let expectedL = (1.0 + scorer.rougeL(target: "Casino is a crime film, like Heat.", prediction: "Casino is a crime film, like Jaws.").f1
                         + scorer.rougeL(target: "The Piano is a drama film.", prediction: "The Pianno is a drama film.").f1) / 3
        XCTAssertEqual(lexical.rougeL, 100 * expectedL, accuracy: 1e-9)
        XCTAssertEqual(report.diversity.uniqueSentenceRatio, 1)
        // "[ITEM] is a [GENRE] film, like [TITLE]." twice, and the garbled one.
        XCTAssertEqual(report.diversity.topTemplates.first, SystemReport.Template(skeleton: "[ITEM] is a [GENRE] film, like [TITLE].", count: 2))
        XCTAssertEqual(report.diversity.topTemplates.count, 2)
        XCTAssertEqual(report.latency?.p50Ms, 20)
        XCTAssertEqual(report.userSensitivity?.changedUnknown, 0)
        XCTAssertEqual(report.userSensitivity?.changedOther, 100)
        XCTAssertEqual(report.userSensitivity?.distanceOther ?? -1, 0.5, accuracy: 1e-12)
    }

    func testOutputFilesRoundTripAndBadLinesAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prism-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = [testCase("a", history: [], item: "1", reference: nil), testCase("b", history: [], item: "2", reference: nil)]
        let file = dir.appendingPathComponent("out.jsonl")
        try EvalInputs.writeOutputs(["a": "Heat — «ünïcode» \"quoted\"", "b": "x"], users: ["b": "new-user-1"], cases: cases, to: file)
        XCTAssertEqual(try EvalInputs.readOutputs(file), ["a": "Heat — «ünïcode» \"quoted\"", "b": "x"])
        XCTAssertTrue(try String(contentsOf: file, encoding: .utf8).contains("\"user_id\":\"new-user-1\""))
        try Data("{\"sample_id\":\"a\",\"explanation\":\"ok\"}\n{\"sample_id\":\"b\"}\n".utf8).write(to: file)
        XCTAssertThrowsError(try EvalInputs.readOutputs(file)) { error in
            XCTAssertTrue("\(error)".contains(":2:"), "\(error)")
        }
        try Data("not json\n".utf8).write(to: file)
        XCTAssertThrowsError(try EvalInputs.readOutputs(file))
    }

    func testCasesAreSpreadOverTheSplitAndCarryTheirGoldens() {
        let samples = (0..<10).map { Sample(sampleID: "s\($0)", userID: "u\($0)", itemID: "1", history: ["2"], split: $0 % 2 == 0 ? .test : .train, timestamp: 0) }
        let cases = EvalInputs.cases(samples: samples, catalog: Self.catalog, split: .test, references: ["s4": "golden"], count: 3)
        XCTAssertEqual(cases.map(\.sample.sampleID), ["s0", "s2", "s4"])
        XCTAssertEqual(cases.map(\.reference), [nil, nil, "golden"])
        XCTAssertEqual(EvalInputs.cases(samples: samples, catalog: Self.catalog, split: .test, references: [:], count: 0).count, 5)
    }

    func testReportFilesAreWritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prism-eval-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = [testCase("a", history: ["2"], item: "1", reference: "Heat is a crime film.")]
        let (system, details) = Evaluator(checker: GroundingChecker(catalog: Self.catalog))
            .evaluate(cases, SystemOutputs(name: "prism w/o user", texts: ["a": "Given Aphrina, Heat is a crime film."]))
        let report = EvalReport(dataset: "toy", split: "test", cases: 1, references: 1, systems: [system], command: "prism eval")
        try ReportWriter.write(report, details: ["prism w/o user": details], to: dir)
        let decoded = try JSONDecoder().decode(EvalReport.self, from: Data(contentsOf: dir.appendingPathComponent("report.json")))
        XCTAssertEqual(decoded, report)
        let md = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("\"Aphrina\" matches no title, person or fact"), md)
        let detail = try String(contentsOf: dir.appendingPathComponent("details-prism_w_o_user.jsonl"), encoding: .utf8)
        XCTAssertTrue(detail.contains("\"fully_grounded\":false"), detail)
    }

    /// The checker judges names; a garbled lower-case word ("aguaxique") passed it. The vocabulary of the
    /// goldens outside the split and of the catalog catches it, and only it.
    func testUnknownLowerCaseWordsAreCounted() throws {
        let train = Sample(sampleID: "t", userID: "u", itemID: "1", history: ["2"], split: .train, timestamp: 0)
        let test = Sample(sampleID: "a", userID: "u", itemID: "1", history: ["2"], split: .test, timestamp: 0)
        let goldens = ["t": "Heat is a crime film by Michael Mann from 1995, like The Piano and Jaws.",
                       "a": "Heat is a crime film from the mysterious nineties."]  // test split: not vocabulary
        let vocabulary = WordVocabulary(goldens: goldens, samples: [train, test], split: .test, catalog: Self.catalog)
        XCTAssertEqual(vocabulary.unknownWords("Heat is a crime film, like The Piano."), [])
        // Catalog words count (a genre, a director's name in lower case), numbers and capitalised words are
        // the checker's, and each unknown word is listed once, as written.
        XCTAssertEqual(vocabulary.unknownWords("Heat is a drama by mann from 1995, like Aguaxique and aguaxique, Spelled."), ["aguaxique"])
        XCTAssertEqual(vocabulary.unknownWords("Heat is a mysterious crime film."), ["mysterious"], "test goldens are not vocabulary")
        let cases = [testCase("a", history: ["2"], item: "1", reference: goldens["a"]),
                     testCase("b", history: ["1"], item: "4", reference: nil)]
        let outputs = SystemOutputs(name: "s", texts: ["a": "Heat is a crime film, like The Piano and aguaxique.",
                                                       "b": "Casino is a crime film, like Heat."])
        let (report, details) = Evaluator(checker: GroundingChecker(catalog: Self.catalog), vocabulary: vocabulary)
            .evaluate(cases, outputs)
        XCTAssertEqual(report.faithfulness.fullyGrounded, 100, "the checker alone passes both")
        XCTAssertEqual(report.faithfulness.unknownWord ?? -1, 50, accuracy: 1e-9)
        XCTAssertEqual(details.map(\.unknownWords), [["aguaxique"], []])
        let (plain, _) = Evaluator(checker: GroundingChecker(catalog: Self.catalog)).evaluate(cases, outputs)
        XCTAssertNil(plain.faithfulness.unknownWord)
        XCTAssertTrue(ReportWriter.summaryTable(EvalReport(dataset: "d", split: "test", cases: 2, references: 1, systems: [report],
                                                            command: "prism eval")).contains("| 50.0 |"))
    }
}

/// The noise of the RQ3 experiment: every corrupted golden is caught by the checker as the kind of
/// error it was made to be, and the rest stay grounded.
final class GoldenNoiseTests: XCTestCase {
    func testCorruptedGoldensAreTheErrorsTheyClaimToBe() {
        let catalog = ItemCatalog((1...40).map { i in
            CatalogItem(id: "\(i)", title: "Film Number \(i)", year: 1950 + i, genres: [["Drama", "Comedy", "Horror", "Western"][i % 4]],
                        directors: ["Director \(i % 5)"])
        })
        let checker = GroundingChecker(catalog: catalog)
        let oracle = RuleOracleText(catalog: catalog)
        var cases: [EvalCase] = [], texts: [String: String] = [:]
        for i in 1...30 {
            let sample = Sample(sampleID: "s\(i)", userID: "u", itemID: "\(i)", history: ["\((i + 4) % 40 + 1)", "\((i + 8) % 40 + 1)", "\((i + 12) % 40 + 1)"],
                                split: .test, timestamp: 0)
            let c = EvalCase(sample: sample, facts: GroundingFacts(sample, catalog: catalog), reference: nil)
            cases.append(c)
            texts[sample.sampleID] = oracle.text(c)
            XCTAssertTrue(checker.check(texts[sample.sampleID]!, facts: c.facts).fullyGrounded, texts[sample.sampleID]!)
        }
        let corruptions = GoldenNoise(checker: checker).corrupt(cases, texts: texts, rate: 0.5, seed: 3)
        XCTAssertEqual(corruptions.count, 15)
        XCTAssertEqual(corruptions, GoldenNoise(checker: checker).corrupt(cases, texts: texts, rate: 0.5, seed: 3), "deterministic")
        for k in corruptions {
            let c = cases.first { $0.sample.sampleID == k.sampleID }!
            let report = checker.check(k.explanation, facts: c.facts)
            XCTAssertFalse(report.fullyGrounded, "\(k)")
            switch k.kind {
            case .wrongTitle: XCTAssertFalse(report.wrongTitles.isEmpty, "\(k)")
            case .falseGenre, .falseEra: XCTAssertFalse(report.falseClaims.isEmpty, "\(k): \(report.claims)")
            }
        }
    }

}

/// The rule oracle's text for a case (what distilled goldens hold).
struct RuleOracleText {
    let catalog: ItemCatalog
    func text(_ c: EvalCase) -> String {
        var prompt = TeacherPrompt()
        prompt.sampleID = c.sample.sampleID
        prompt.history = c.facts.history.map(ItemFacts.init)
        prompt.item = ItemFacts(c.facts.item)
        return RuleOracle().explain(prompt).text
    }

}
