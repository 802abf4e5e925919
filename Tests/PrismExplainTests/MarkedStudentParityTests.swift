import Foundation
import Generation
import PrismData
import PrismGrounding
import XCTest
@testable import PrismExplain

/// A tiny student trained on marked goldens (scripts/fixtures/make_marked_student_fixtures.py): the Swift
/// worker's constrained decoding gives the same tokens as PyTorch's GroundedLogitsProcessor — greedy, 4-beam
/// and batched, known and unknown users — and the constraints do change what the model writes.
final class MarkedStudentParityTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/student-marked")

    struct Parity: Decodable {
        struct SampleRef: Decodable { var history: [String]; var item_id: String }
        struct Output: Decodable { var ids: [Int]; var text: String; var min_margin: Double? }
        struct Case: Decodable {
            var sample: SampleRef
            var user_id: String
            var text: String
            var history_dropped: Int
            var input_ids: [Int]
            var constrained: Output
            var unconstrained: Output
            var beam4: Output
            var no_user: Output
        }
        struct Batched: Decodable { var users: [String]; var inputs: [[Int]]; var samples: [SampleRef]; var sequences: [[Int]] }
        var marks: [Int]
        var capitalised: [Int]
        var sentence_end: [Int]
        var cases: [Case]
        var batched: Batched
    }

    var parity: Parity!
    var catalog: ItemCatalog!
    var student: StudentModel!
    var ablation: StudentModel!

    override func setUpWithError() throws {
        parity = try JSONDecoder().decode(Parity.self, from: Data(contentsOf: Self.folder.appendingPathComponent("parity.json")))
        catalog = try SampleIO.readCatalog(from: Self.folder.appendingPathComponent("catalog.jsonl"))
        student = try StudentModel(folder: Self.folder.appendingPathComponent("model").path)
        ablation = try StudentModel(folder: Self.folder.appendingPathComponent("no-user").path)
    }

    func shown(_ s: Parity.SampleRef, dropped: Int) -> (history: [CatalogItem], item: CatalogItem) {
        (s.history.dropFirst(dropped).map(catalog.itemOrPlaceholder), catalog.itemOrPlaceholder(s.item_id))
    }

    func testTheStudentIsMarked() throws {
        XCTAssertTrue(student.isMarked)
        XCTAssertEqual(student.manifest.grounding, "grounding-marks/1")
        XCTAssertEqual(student.grounded?.markIds, parity.marks)
        // The capitalisation rule's token tables equal Python's (the same tokenizer read by both).
        let shapes = try XCTUnwrap(student.grounded?.shapes)
        XCTAssertEqual(shapes.capitalised, parity.capitalised)
        XCTAssertEqual(shapes.sentenceEnd.indices.filter { shapes.sentenceEnd[$0] }, parity.sentence_end)
        XCTAssertGreaterThan(parity.capitalised.count, 10)
    }

    /// A span the length limit cut is dropped from the text, mark and partial name together; closed
    /// spans and unmarked text are kept.
    func testASpanLeftOpenAtTheLengthLimitIsDropped() throws {
        let g = try XCTUnwrap(student.grounded)
        let title = try XCTUnwrap(GroundingMarks.Kind.allCases.firstIndex(of: .title).map { g.markIds[$0] })
        let close = try XCTUnwrap(g.markIds.last)
        let words = student.tokenizer.encode(" like", addSpecialTokens: false)
        let name = student.tokenizer.encode(" Alien", addSpecialTokens: false)
        XCTAssertEqual(g.droppingUnclosedSpan(words + [title] + name), words, "the open span goes")
        XCTAssertEqual(g.droppingUnclosedSpan(words + [title] + name + [close]), words + [title] + name + [close])
        XCTAssertEqual(g.droppingUnclosedSpan(words), words)
        XCTAssertEqual(student.decodeText(ArraySlice(words + [title] + name)), "like")
    }

    func testConstrainedGreedyAndBeamTokensEqualPyTorch() throws {
        XCTAssertGreaterThanOrEqual(parity.cases.count, 20)
        var changed = 0
        for c in parity.cases {
            let user = c.user_id.isEmpty ? nil : c.user_id
            XCTAssertEqual(student.tokenizer.encode(c.text), c.input_ids)
            let row = (user, c.text, Optional(shown(c.sample, dropped: c.history_dropped)))
            XCTAssertEqual(try student.generateIDs([row])[0], c.constrained.ids, "constrained, \(c.user_id): \(c.text)")
            XCTAssertEqual(try student.generateIDs([row], numBeams: 4)[0], c.beam4.ids, "4 beams, \(c.user_id): \(c.text)")
            XCTAssertEqual(try student.generateIDs([(user, c.text, nil)])[0], c.unconstrained.ids, "unconstrained, \(c.user_id)")
            XCTAssertEqual(try ablation.generateIDs([row])[0], c.no_user.ids, "w/o user, constrained, \(c.user_id)")
            XCTAssertEqual(student.decodeText(c.constrained.ids.dropFirst()), c.constrained.text.trimmingCharacters(in: .whitespaces))
            if c.constrained.ids != c.unconstrained.ids { changed += 1 }
        }
        XCTAssertGreaterThan(changed, 5, "the constraints change the tiny model's output")
    }

    func testConstrainedBatchEqualsPyTorch() throws {
        let b = parity.batched
        let rows = zip(b.users, zip(b.inputs, b.samples)).map { user, pair -> (String?, String, (history: [CatalogItem], item: CatalogItem)?) in
            let c = parity.cases.first { $0.input_ids == pair.0 }!
            return (user, c.text, shown(pair.1, dropped: c.history_dropped))
        }
        XCTAssertEqual(try student.generateIDs(rows), b.sequences)
    }

    func testServedRepliesNameTheUnseenItemAndCarryNoMarks() throws {
        // "Zephyr Quartz" never appears in a golden: unconstrained the model names a training film instead.
        let item = catalog.itemOrPlaceholder("m16")
        let job = ExplainJob(userID: "alice", history: [], item: item, maxNewTokens: 24, numBeams: 1, arrivedNs: 0)
        let outcome = try XCTUnwrap(try student.explain([job])[0].get())
        XCTAssertTrue(outcome.constrained)
        XCTAssertTrue(outcome.explanation.contains("Zephyr Quartz"), outcome.explanation)
        XCTAssertFalse(outcome.explanation.contains("<e:"), outcome.explanation)
        var free = job
        free.unconstrained = true
        let freeOutcome = try XCTUnwrap(try student.explain([free])[0].get())
        XCTAssertFalse(freeOutcome.constrained)
        XCTAssertFalse(freeOutcome.explanation.contains("Zephyr Quartz"), freeOutcome.explanation)
    }
}
