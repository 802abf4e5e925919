import Foundation
import PrismData
import PrismWire
import PrismTeacher
import PrismWorker
import XCTest
@testable import PrismExplain

/// The prism.explain handler on the tiny exported student: validation, cold start, history limits.
final class ExplainHandlerTests: XCTestCase {
    func handler() async throws -> (ExplainHandler, InferenceThread) {
        let folder = StudentParityTests.folder
        let thread = try await InferenceThread(folder: folder.appendingPathComponent("with-user").path)
        let catalog = try SampleIO.readCatalog(from: folder.appendingPathComponent("catalog.jsonl"))
        return (ExplainHandler(inference: thread, catalog: catalog, maxBatchSize: 4, maxHistoryItems: 20), thread)
    }

    func request(user: String, history: [String], item: String) throws -> WorkRequest {
        try explainRequest(user: user, history: history, item: item)
    }

    func testKnownUnknownAndInvalidRequestsInOneBatch() async throws {
        let (handler, thread) = try await handler()
        let results = await handler.handle(batch: [
            try request(user: "alice", history: ["m1", "m2"], item: "m5"),
            try request(user: "someone-new", history: ["m1", "m2"], item: "m5"),
            try request(user: "alice", history: ["m1"], item: "no-such-movie"),
            try request(user: "bob", history: [], item: "m5"),
        ])
        await thread.close()
        XCTAssertEqual(results.map(\.status.code), [.ok, .ok, .invalidArgument, .ok])
        let known = try ExplainReply(serializedBytes: results[0].body)
        let cold = try ExplainReply(serializedBytes: results[1].body)
        XCTAssertFalse(known.coldStart)
        XCTAssertTrue(cold.coldStart)
        XCTAssertFalse(known.explanation.isEmpty)
        XCTAssertFalse(cold.explanation.isEmpty, "an unknown user still gets a content-based explanation")
        XCTAssertEqual(known.timings.batchSize, 3, "the three valid requests ran as one batch")
        XCTAssertTrue(results[2].status.message.contains("no-such-movie"), results[2].status.message)
        let empty = try ExplainReply(serializedBytes: results[3].body)
        XCTAssertEqual(empty.historyDropped, 0)
        XCTAssertFalse(empty.explanation.isEmpty)
    }

    /// A ranker's name, rank and score travel with the request and come back as sent; the
    /// explanation does not depend on them.
    func testRankingMetadataIsEchoedAndIgnoredByTheModel() async throws {
        let (handler, thread) = try await handler()
        var ranked = ExplainRequest()
        ranked.userID = "alice"
        ranked.historyItemIds = ["m1", "m2"]
        ranked.itemID = "m5"
        ranked.ranking.ranker = "als"
        ranked.ranking.rank = 2
        ranked.ranking.score = 0.75
        var envelope = Envelope()
        envelope.requestID = "ranked"
        envelope.body = try ranked.serializedData()
        let results = await handler.handle(batch: [WorkRequest(envelope: envelope), try request(user: "alice", history: ["m1", "m2"], item: "m5")])
        await thread.close()
        let echoed = try ExplainReply(serializedBytes: results[0].body)
        let plain = try ExplainReply(serializedBytes: results[1].body)
        XCTAssertTrue(echoed.hasRanking)
        XCTAssertEqual(echoed.ranking, ranked.ranking)
        XCTAssertFalse(plain.hasRanking)
        XCTAssertEqual(echoed.explanation, plain.explanation)
    }

    func testOversizedHistoryIsCutFromTheOldestEnd() async throws {
        let (handler, thread) = try await handler()
        let long = (0..<300).map { "m\($0 % 15 + 1)" }
        let result = await handler.handle(batch: [try request(user: "carol", history: long, item: "m3")])[0]
        await thread.close()
        XCTAssertEqual(result.status.code, .ok, result.status.message)
        let reply = try ExplainReply(serializedBytes: result.body)
        XCTAssertGreaterThanOrEqual(reply.historyDropped, 280, "300 items, at most 20 considered, fewer fit 48 tokens")
    }

    func testMalformedBodyAndMissingItem() async throws {
        let (handler, thread) = try await handler()
        var garbage = Envelope()
        garbage.body = Data([0xFF, 0x00, 0x13])
        let results = await handler.handle(batch: [WorkRequest(envelope: garbage), try request(user: "a", history: [], item: "")])
        await thread.close()
        XCTAssertEqual(results.map(\.status.code), [.invalidArgument, .invalidArgument])
        XCTAssertTrue(results[1].status.message.contains("no recommended item"))
    }
}

final class InputBudgetTests: XCTestCase {
    /// An item too long for the budget even with no history is cut like training cuts it, not refused.
    func testAnItemLongerThanTheBudgetIsCutNotRefused() async throws {
        let folder = StudentParityTests.folder
        let thread = try await InferenceThread(folder: folder.appendingPathComponent("with-user").path)
        var item = ItemFacts()
        item.title = String(repeating: "A very long title indeed ", count: 12)
        item.genres = ["Drama", "Comedy", "Action"]
        var message = ExplainRequest()
        message.userID = "alice"
        message.item = item
        var envelope = Envelope()
        envelope.body = try message.serializedData()
        let handler = ExplainHandler(inference: thread, catalog: ItemCatalog())
        let result = await handler.handle(batch: [WorkRequest(envelope: envelope)])[0]
        await thread.close()
        XCTAssertEqual(result.status.code, .ok, result.status.message)
    }
}

/// A prism.explain request as the worker receives it.
func explainRequest(user: String, history: [String], item: String, allowUngrounded: Bool = false) throws -> WorkRequest {
    var message = ExplainRequest()
    message.userID = user
    message.historyItemIds = history
    message.itemID = item
    message.allowUngrounded = allowUngrounded
    var envelope = Envelope()
    envelope.body = try message.serializedData()
    return WorkRequest(envelope: envelope)
}
