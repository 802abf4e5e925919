import Foundation
import Generation
import PrismData
import XCTest
@testable import PrismExplain

/// The exported tiny students (scripts/fixtures/make_student_fixtures.py) against PyTorch:
/// the same input text, the same input ids, the same greedy tokens — for known users, unknown
/// users and the w/o-user ablation — and the user changes the output only where it should.
final class StudentParityTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/student")

    struct Parity: Decodable {
        struct Case: Decodable {
            struct SampleRef: Decodable { var history: [String]; var item_id: String }
            struct Output: Decodable { var row: Int; var ids: [Int]; var text: String }
            var sample: SampleRef
            var user_id: String
            var text: String
            var history_dropped: Int
            var input_ids: [Int]
            var withUser: Output
            var noUser: Output
            enum CodingKeys: String, CodingKey {
                case sample, user_id, text, history_dropped, input_ids, withUser = "with-user", noUser = "no-user"
            }
        }
        struct Group: Decodable { var sample: Int; var users: [String]; var with_user_differs: Bool; var no_user_differs: Bool }
        struct Batched: Decodable { var model: String; var users: [String]; var inputs: [[Int]]; var sequences: [[Int]] }
        var cases: [Case]
        var groups: [Group]
        var batched: Batched
    }

    var parity: Parity!
    var catalog: ItemCatalog!

    override func setUpWithError() throws {
        parity = try JSONDecoder().decode(Parity.self, from: Data(contentsOf: Self.folder.appendingPathComponent("parity.json")))
        catalog = try SampleIO.readCatalog(from: Self.folder.appendingPathComponent("catalog.jsonl"))
    }

    func model(_ name: String) throws -> StudentModel { try StudentModel(folder: Self.folder.appendingPathComponent(name).path) }

    func testInputTextAndIdsMatchTraining() throws {
        let student = try model("with-user")
        for c in parity.cases {
            let history = c.sample.history.map { catalog.itemOrPlaceholder($0) }
            let fitted = student.renderer.render(history: history, item: catalog.itemOrPlaceholder(c.sample.item_id))
            XCTAssertEqual(fitted.text, c.text)
            XCTAssertEqual(fitted.droppedHistory, c.history_dropped, c.text)
            XCTAssertEqual(student.tokenizer.encode(fitted.text), c.input_ids, c.text)
        }
    }

    func testGreedyTokensEqualPyTorchWithAndWithoutUsers() throws {
        let withUser = try model("with-user"), noUser = try model("no-user")
        XCTAssertNotNil(withUser.generator.model.users)
        XCTAssertNil(noUser.generator.model.users, "the ablation exports no user table")
        XCTAssertGreaterThanOrEqual(parity.cases.count, 20)
        for c in parity.cases {
            let user = c.user_id.isEmpty ? nil : c.user_id
            XCTAssertEqual(try withUser.generateIDs(userID: user, inputText: c.text), c.withUser.ids, "with-user, user '\(c.user_id)': \(c.text)")
            XCTAssertEqual(try noUser.generateIDs(userID: user, inputText: c.text), c.noUser.ids, "no-user, user '\(c.user_id)'")
        }
        // Decoded text too.
        let first = parity.cases[0]
        XCTAssertEqual(withUser.tokenizer.decode(try withUser.generateIDs(userID: first.user_id, inputText: first.text)), first.withUser.text)
    }

    func testChangingOnlyTheUserChangesTheUserModelButNotTheAblation() throws {
        let withUser = try model("with-user"), noUser = try model("no-user")
        let samples = Dictionary(grouping: parity.cases, by: { $0.text })
        XCTAssertFalse(parity.groups.isEmpty)
        for group in parity.groups {
            let text = parity.cases.first { c in group.users.contains(c.user_id) && samples[c.text]!.count == group.users.count }?.text
                ?? parity.cases[group.sample].text
            let userOutputs = try Set(group.users.map { try withUser.generateIDs(userID: $0, inputText: text) })
            let ablationOutputs = try Set(group.users.map { try noUser.generateIDs(userID: $0, inputText: text) })
            XCTAssertEqual(userOutputs.count > 1, group.with_user_differs, text)
            XCTAssertEqual(ablationOutputs.count, 1, "the w/o-user ablation ignores the user: \(text)")
        }
    }

    func testBatchedGenerationWithMixedUsersEqualsPyTorch() throws {
        let student = try model(parity.batched.model)
        var config = student.generator.defaultConfig
        config.maxNewTokens = student.manifest.maxTargetTokens
        let requests = zip(parity.batched.inputs, parity.batched.users).map { GenerationRequest(inputIds: $0, userId: $1) }
        let results = try student.generator.generate(requests, config: config)
        XCTAssertEqual(results.map(\.tokens), parity.batched.sequences)
        XCTAssertEqual(results.map(\.coldStart), parity.batched.users.map { $0 == "zed" || $0.isEmpty })
    }
}
