import Foundation
import PrismWire
import XCTest
@testable import PrismWorker

/// The worker's scheduling decisions, driven directly: capacity, dynamic batching, cancels, deadlines.
final class WorkerQueueTests: XCTestCase {
    func envelope(_ id: String, deadline: Int64 = 0) -> Envelope {
        var e = Envelope()
        e.requestID = id
        e.service = "s"
        e.deadlineUnixMs = deadline
        return e
    }

    func ids(_ batches: [[WorkRequest]]) -> [[String]] { batches.map { $0.map(\.requestID) } }

    func testAPartialBatchWaitsForCompanyUpToTheBatchWait() {
        var q = WorkerQueue(limits: .init(capacity: 8, maxBatchSize: 4, maxBatchWaitMs: 5))
        _ = q.accept(envelope("a"), now: 0)
        _ = q.accept(envelope("b"), now: 1)
        XCTAssertEqual(ids(q.startBatches(now: 2)), [], "two of four: wait for more")
        XCTAssertEqual(q.batchDeadline(), 5, "the oldest has waited 5 ms at t=5")
        _ = q.accept(envelope("c"), now: 3)
        _ = q.accept(envelope("d"), now: 3)
        _ = q.accept(envelope("e"), now: 3)
        XCTAssertEqual(ids(q.startBatches(now: 3)), [["a", "b", "c", "d"]], "a full batch starts at once")
        XCTAssertEqual(ids(q.startBatches(now: 4)), [], "e waits for company (its own 5 ms)")
        XCTAssertEqual(ids(q.startBatches(now: 8)), [["e"]])
        XCTAssertEqual(q.running.count, 5)
    }

    func testCapacityBoundsWhatRunsAndCompletionsFreeIt() {
        var q = WorkerQueue(limits: .init(capacity: 3, maxBatchSize: 2, maxBatchWaitMs: 0))
        for i in 0..<6 { _ = q.accept(envelope("r\(i)"), now: 0) }
        XCTAssertEqual(ids(q.startBatches(now: 0)), [["r0", "r1"], ["r2"]], "two slots, then one: never more than 3")
        XCTAssertEqual(ids(q.startBatches(now: 1)), [])
        let replies = q.completed(["r0", "r1"], [.ok(Data("0".utf8)), .ok(Data("1".utf8))])
        XCTAssertEqual(replies.map(\.id), ["r0", "r1"])
        XCTAssertEqual(ids(q.startBatches(now: 2)), [["r3", "r4"]])
        XCTAssertEqual(q.held, 4)
    }

    func testWithoutBatchingEachRequestRunsAlone() {
        var q = WorkerQueue(limits: .init(capacity: 2, maxBatchSize: 1, maxBatchWaitMs: 50))
        _ = q.accept(envelope("a"), now: 0)
        XCTAssertEqual(ids(q.startBatches(now: 0)), [["a"]], "batch size 1 never waits")
    }

    func testCancelsDeadlinesAndDuplicatesAreAnsweredOnce() {
        var q = WorkerQueue(limits: .init(capacity: 1, maxBatchSize: 1, maxBatchWaitMs: 0))
        XCTAssertEqual(q.accept(envelope("late", deadline: 10), now: 20)?.1.status.code, .deadlineExceeded)
        XCTAssertNil(q.accept(envelope("a"), now: 0))
        XCTAssertNil(q.accept(envelope("a"), now: 1), "a re-delivery of a held id is ignored")
        _ = q.accept(envelope("b", deadline: 50), now: 1)
        _ = q.accept(envelope("c"), now: 1)
        XCTAssertEqual(ids(q.startBatches(now: 2)), [["a"]])
        // A waiting request is cancelled at once; a running one when its handler returns.
        XCTAssertEqual(q.cancel("c")?.1.status.code, .cancelled)
        XCTAssertNil(q.cancel("a"))
        XCTAssertEqual(q.expire(now: 60).map(\.id), ["b"], "b expired while waiting")
        let done = q.completed(["a"], [.ok(Data())])
        XCTAssertEqual(done.map(\.1.status.code), [.cancelled], "OK of a cancelled request becomes CANCELLED")
        XCTAssertTrue(q.completed(["a"], [.ok(Data())]).isEmpty, "answered once")
        XCTAssertTrue(q.isEmpty)
    }

    func testAHandlerThatReturnsTooFewResultsAnswersTheRestInternal() {
        var q = WorkerQueue(limits: .init(capacity: 2, maxBatchSize: 2, maxBatchWaitMs: 0))
        _ = q.accept(envelope("a"), now: 0)
        _ = q.accept(envelope("b"), now: 0)
        _ = q.startBatches(now: 0)
        XCTAssertEqual(q.completed(["a", "b"], [.ok(Data())]).map(\.1.status.code), [.ok, .internal])
    }
}
