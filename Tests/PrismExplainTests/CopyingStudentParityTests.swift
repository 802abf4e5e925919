import BART
import Foundation
import Generation
import PrismData
import XCTest
@testable import PrismExplain

/// A tiny copying student (scripts/fixtures/make_copying_student_fixtures.py; Sources/BART/COPYING.md): the
/// Swift runtime computes the same mixture of generating and copying as PyTorch and decodes the same tokens —
/// free, constrained, 4-beam and batched, known and unknown users.
final class CopyingStudentParityTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/student-copying")

    struct Parity: Decodable {
        struct SampleRef: Decodable { var history: [String]; var item_id: String }
        struct Output: Decodable { var ids: [Int]; var text: String }
        struct Case: Decodable {
            var sample: SampleRef
            var user_id: String
            var text: String
            var history_dropped: Int
            var input_ids: [Int]
            var unconstrained: Output
            var constrained: Output
            var beam4: Output
        }
        struct Batched: Decodable { var users: [String]; var inputs: [[Int]]; var samples: [SampleRef]; var sequences: [[Int]] }
        struct Mixture: Decodable { var user_id: String; var input_ids: [Int]; var decoder_prefix: [Int]; var log_probs: [[Float]] }
        var copy: String
        var cases: [Case]
        var batched: Batched
        var mixture: Mixture
    }

    var parity: Parity!
    var catalog: ItemCatalog!
    var student: StudentModel!

    override func setUpWithError() throws {
        parity = try JSONDecoder().decode(Parity.self, from: Data(contentsOf: Self.folder.appendingPathComponent("parity.json")))
        catalog = try SampleIO.readCatalog(from: Self.folder.appendingPathComponent("catalog.jsonl"))
        student = try StudentModel(folder: Self.folder.appendingPathComponent("model").path)
    }

    func shown(_ s: Parity.SampleRef, dropped: Int) -> (history: [CatalogItem], item: CatalogItem) {
        (s.history.dropFirst(dropped).map(catalog.itemOrPlaceholder), catalog.itemOrPlaceholder(s.item_id))
    }

    func testTheMixtureEqualsPyTorch() throws {
        let model = try BartModel.load(folder: Self.folder.appendingPathComponent("model").path)
        XCTAssertTrue(model.config.copying)
        XCTAssertEqual(parity.copy, BartConfig.copyFormat)
        XCTAssertEqual(model.screenedArgmaxRows, 0, "a mixture has no screened output projection")
        let m = parity.mixture
        let rows = try model.logits(input: m.input_ids, decoderPrefix: m.decoder_prefix, user: m.user_id)
        XCTAssertEqual(rows.count, m.log_probs.count)
        for (step, (got, want)) in zip(rows, m.log_probs).enumerated() {
            // log p of every token; tokens neither generated nor copied sit at log(FLT_MIN) in both.
            var total: Float = 0
            for (g, w) in zip(got, want) {
                XCTAssertEqual(g, w, accuracy: 2e-3 + 1e-4 * abs(w), "step \(step)")
                total += Foundation.exp(g)
            }
            XCTAssertEqual(total, 1, accuracy: 1e-3, "a distribution at step \(step)")
        }
    }

    func testGreedyConstrainedAndBeamTokensEqualPyTorch() throws {
        XCTAssertGreaterThanOrEqual(parity.cases.count, 20)
        for c in parity.cases {
            let user = c.user_id.isEmpty ? nil : c.user_id
            XCTAssertEqual(student.tokenizer.encode(c.text), c.input_ids)
            let row = (user, c.text, Optional(shown(c.sample, dropped: c.history_dropped)))
            XCTAssertEqual(try student.generateIDs([(user, c.text, nil)])[0], c.unconstrained.ids, "free, \(c.user_id): \(c.text)")
            XCTAssertEqual(try student.generateIDs([row])[0], c.constrained.ids, "constrained, \(c.user_id): \(c.text)")
            XCTAssertEqual(try student.generateIDs([row], numBeams: 4)[0], c.beam4.ids, "4 beams, \(c.user_id): \(c.text)")
        }
    }

    func testConstrainedBatchEqualsPyTorch() throws {
        let b = parity.batched
        let rows = zip(b.users, zip(b.inputs, b.samples)).map { user, pair -> (String?, String, (history: [CatalogItem], item: CatalogItem)?) in
            let c = parity.cases.first { $0.input_ids == pair.0 }!
            return (user, c.text, shown(pair.1, dropped: c.history_dropped))
        }
        XCTAssertEqual(try student.generateIDs(rows), b.sequences)
    }

    /// The served path (`explain`, constraints off) writes what generateIDs does: the item's title, copied
    /// from the input, for every fixture film the goldens named.
    func testFreeDecodingNamesTheItem() throws {
        var named = 0
        for id in ["m5", "m9", "m60"] {
            let item = catalog.itemOrPlaceholder(id)
            var job = ExplainJob(userID: "carol", history: [], item: item, maxNewTokens: 24, numBeams: 1, arrivedNs: 0)
            job.unconstrained = true
            let outcome = try XCTUnwrap(try student.explain([job])[0].get())
            XCTAssertFalse(outcome.constrained)
            if outcome.explanation.hasPrefix(item.title + " came out in") { named += 1 }
        }
        XCTAssertEqual(named, 3)
    }
}
