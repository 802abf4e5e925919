import Foundation
import Generation
import PrismData
import PrismTestSupport
import SafeTensors
import PrismGrounding
import PrismTeacher
import PrismWire
import PrismWorker
import XCTest
@testable import PrismExplain

/// The serving guard on the tiny random-weight student, whose text is never grounded: every served
/// reply must still pass the checker (as a fallback), and allow_ungrounded must return the student's
/// own text with the verdict.
final class GroundingGuardTests: XCTestCase {
    /// The fixture student with its weights replaced by random ones of the same shapes: it writes
    /// token salad, never a grounded explanation.
    static let scrambled: URL = {
        let source = StudentParityTests.folder.appendingPathComponent("with-user")
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("prism-scrambled-\(UUID().uuidString)")
        do {
            try FileManager.default.copyItem(at: source, to: target)
            let weights = target.appendingPathComponent("model.safetensors")
            let file = try SafeTensorsFile(path: weights.path)
            var rng = TestRandom(seed: 5)
            let tensors = file.names.compactMap { name in
                file.tensors[name].map { TensorToWrite(name: name, shape: $0.shape,
                                                       values: (0..<$0.count).map { _ in Float.random(in: -0.5...0.5, using: &rng) }) }
            }
            try SafeTensorsWriter.write(tensors, to: weights.path, metadata: file.metadata)
        } catch {
            XCTFail("cannot scramble the fixture student: \(error)")
        }
        return target
    }()

    func fleetPieces(guardBeams: Int, model: URL = scrambled) async throws -> (ExplainHandler, InferenceThread, GroundingChecker, ItemCatalog) {
        let folder = StudentParityTests.folder
        let catalog = try SampleIO.readCatalog(from: folder.appendingPathComponent("catalog.jsonl"))
        let checker = GroundingChecker(catalog: catalog)
        let thread = try await InferenceThread(folder: model.path,
                                               groundingGuard: GroundingGuard(checker: checker, retryBeams: guardBeams))
        return (ExplainHandler(inference: thread, catalog: catalog, maxBatchSize: 4, maxHistoryItems: 20), thread, checker, catalog)
    }

    func request(user: String, history: [String], item: String, allowUngrounded: Bool = false) throws -> WorkRequest {
        try explainRequest(user: user, history: history, item: item, allowUngrounded: allowUngrounded)
    }

    func testEveryServedReplyIsGroundedAndFallbacksAreMarked() async throws {
        for beams in [0, 4] {
            let (handler, thread, checker, catalog) = try await fleetPieces(guardBeams: beams)
            let asks = [("alice", ["m1", "m2"], "m5"), ("someone-new", ["m3"], "m4"), ("bob", [], "m6"), ("alice", ["m7", "m8", "m9"], "m2")]
            let results = await handler.handle(batch: try asks.map { try request(user: $0.0, history: $0.1, item: $0.2) })
            await thread.close()
            for (ask, result) in zip(asks, results) {
                XCTAssertEqual(result.status.code, .ok, result.status.message)
                let reply = try ExplainReply(serializedBytes: result.body)
                let facts = GroundingFacts(history: ask.1.compactMap { catalog[$0] }, item: try XCTUnwrap(catalog[ask.2]))
                let report = checker.check(reply.explanation, facts: facts)
                XCTAssertTrue(report.fullyGrounded, "served: \(reply.explanation) — \(report.problems)")
                XCTAssertTrue([.grounded, .groundedBeam, .fallback].contains(reply.grounding), "\(reply.grounding)")
                XCTAssertTrue(reply.citedItemIds.contains(ask.2), "the reply cites the item: \(reply.citedItemIds)")
                if reply.grounding == .fallback {
                    XCTAssertFalse(reply.groundingProblems.isEmpty, "a fallback says why the student's text failed")
                }
            }
            let replies = try results.map { try ExplainReply(serializedBytes: $0.body) }
            XCTAssertTrue(replies.contains { $0.grounding == .fallback }, "random weights: the oracle answered at least once: \(replies.map { "\($0.grounding): \($0.explanation)" })")
        }
    }

    /// The trained fixture student writes grounded explanations: they are served as the student wrote them.
    func testATrainedStudentsGroundedTextIsServedAsIs() async throws {
        let (handler, thread, _, _) = try await fleetPieces(guardBeams: 4, model: StudentParityTests.folder.appendingPathComponent("with-user"))
        let results = await handler.handle(batch: [try request(user: "alice", history: ["m1", "m2"], item: "m5", allowUngrounded: true),
                                                   try request(user: "alice", history: ["m1", "m2"], item: "m5")])
        await thread.close()
        let replies = try results.map { try ExplainReply(serializedBytes: $0.body) }
        XCTAssertEqual(replies.map(\.grounding), [.grounded, .grounded], "\(replies.map(\.explanation))")
        XCTAssertEqual(replies[0].explanation, replies[1].explanation)
        XCTAssertTrue(replies[0].groundingProblems.isEmpty)
    }

    /// With a vocabulary the guard also refuses words found in neither the goldens nor the catalog: the
    /// trained student's text ("… is directed by …") is served with the goldens' words, and falls back
    /// to the oracle when "directed" is no longer one of them.
    func testAWordOutsideTheVocabularyIsNotServed() async throws {
        let folder = StudentParityTests.folder
        let catalog = try SampleIO.readCatalog(from: folder.appendingPathComponent("catalog.jsonl"))
        let goldens = try String(contentsOf: folder.appendingPathComponent("distilled.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["explanation"] as? String
            }
        XCTAssertGreaterThan(goldens.count, 100)
        var served: [ExplainReply] = []
        for texts in [goldens, goldens.map { $0.replacingOccurrences(of: "directed", with: "") }] {
            let gate = GroundingGuard(checker: GroundingChecker(catalog: catalog), retryBeams: 4,
                                      vocabulary: WordVocabulary(texts: texts, catalog: catalog))
            let thread = try await InferenceThread(folder: folder.appendingPathComponent("with-user").path, groundingGuard: gate)
            let handler = ExplainHandler(inference: thread, catalog: catalog, maxBatchSize: 4, maxHistoryItems: 20)
            let results = await handler.handle(batch: [try request(user: "alice", history: ["m1", "m2"], item: "m5")])
            await thread.close()
            served.append(try ExplainReply(serializedBytes: results[0].body))
        }
        XCTAssertTrue(served[0].explanation.contains(" is directed by "), served[0].explanation)
        XCTAssertEqual(served[0].grounding, .grounded)
        XCTAssertEqual(served[1].grounding, .fallback, served[1].explanation)
        XCTAssertFalse(served[1].explanation.contains("directed"), served[1].explanation)
        XCTAssertTrue(served[1].groundingProblems.contains { $0.hasPrefix("\"directed\" is no word") }, "\(served[1].groundingProblems)")
    }

    /// A student folder's words.txt is read as whitespace-separated pieces, folded like the text checked.
    func testWordsFileOfAStudentFolder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prism-words-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertNil(try WordVocabulary.load(studentFolder: dir.path, catalog: ItemCatalog()))
        try Data("children's\nDon't\nfilm,\n(ID4)\n".utf8).write(to: dir.appendingPathComponent("words.txt"))
        let vocabulary = try XCTUnwrap(try WordVocabulary.load(studentFolder: dir.path, catalog: ItemCatalog()))
        XCTAssertEqual(vocabulary.unknownWords("a children's film, dont id4 and don't"), ["a", "and"])
        try Data([0xFF, 0xFE]).write(to: dir.appendingPathComponent("words.txt"))
        XCTAssertThrowsError(try WordVocabulary.load(studentFolder: dir.path, catalog: ItemCatalog()))
    }

    func testAllowUngroundedReturnsTheStudentsTextWithItsVerdict() async throws {
        let (handler, thread, checker, catalog) = try await fleetPieces(guardBeams: 4)
        let results = await handler.handle(batch: [try request(user: "alice", history: ["m1", "m2"], item: "m5", allowUngrounded: true)])
        await thread.close()
        let reply = try ExplainReply(serializedBytes: results[0].body)
        let report = checker.check(reply.explanation, facts: GroundingFacts(history: ["m1", "m2"].compactMap { catalog[$0] }, item: catalog["m5"]!))
        XCTAssertFalse(report.fullyGrounded, reply.explanation)
        XCTAssertEqual(reply.grounding, .ungrounded)
        XCTAssertEqual(reply.groundingProblems, report.problems)
    }

    func testWithoutAGuardRepliesAreUnchecked() async throws {
        let folder = StudentParityTests.folder
        let catalog = try SampleIO.readCatalog(from: folder.appendingPathComponent("catalog.jsonl"))
        let thread = try await InferenceThread(folder: folder.appendingPathComponent("with-user").path)
        let handler = ExplainHandler(inference: thread, catalog: catalog, maxBatchSize: 4)
        let results = await handler.handle(batch: [try request(user: "alice", history: ["m1"], item: "m5")])
        await thread.close()
        XCTAssertEqual(try ExplainReply(serializedBytes: results[0].body).grounding, .unchecked)
    }

    func testBeamHypothesesAreBestFirstAndTheFirstIsTheBeamSearchResult() throws {
        let model = try StudentModel(folder: Self.scrambled.path)
        var config = model.generator.defaultConfig
        config.maxNewTokens = 12
        config.numBeams = 4
        let text = model.inputText(history: [], item: CatalogItem(id: "x", title: "Heat"))
        let request = GenerationRequest(inputIds: model.tokenizer.encode(text, maxLength: model.inputBudget))
        let best = try model.generator.generate(request, config: config)
        let all = try model.generator.generateBeams([request], config: config)[0]
        XCTAssertEqual(all.first, best)
        XCTAssertGreaterThan(all.count, 1)
        let scores = all.compactMap(\.score)
        XCTAssertEqual(scores, scores.sorted(by: >), "best first")
    }
}
