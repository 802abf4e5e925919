import Foundation
import Synchronization
import XCTest
@testable import ZeroMQ

/// The thread that owns a value: made there, jobs run there one at a time in order, a failing `make`
/// reaches the caller, and a closed thread finishes its queue and refuses new work.
final class OwnedThreadTests: XCTestCase {
    final class Counter {
        var count = 0
        let thread = pthread_self()
    }

    func testJobsRunInOrderOnTheOwningThread() async throws {
        let owned = try await OwnedThread(name: "test-owned") { Counter() }
        let results = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<50 {
                group.addTask {
                    let value = await owned.run { counter -> (Int, Bool) in
                        counter.count += 1
                        return (counter.count, pthread_equal(counter.thread, pthread_self()) != 0)
                    }
                    return try XCTUnwrap(value, "job \(i)")
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(results.map(\.0).sorted(), Array(1...50), "every job saw the previous ones: one at a time")
        XCTAssertTrue(results.allSatisfy(\.1), "every job ran on the thread that made the value")
        await owned.close()
        let refused = await owned.run { $0.count }
        XCTAssertNil(refused, "a closed thread takes no new work")
    }

    func testCloseFinishesQueuedJobs() async throws {
        let owned = try await OwnedThread(name: "test-drain") { Counter() }
        let done = Tally()
        async let first: Int? = owned.run { counter in
            Thread.sleep(forTimeInterval: 0.05)
            counter.count += 1
            done.add()
            return counter.count
        }
        async let second: Int? = owned.run { counter in
            counter.count += 1
            done.add()
            return counter.count
        }
        try await Task.sleep(for: .milliseconds(10))
        await owned.close()
        let values = await [first, second]
        XCTAssertEqual(done.count, 2)
        XCTAssertEqual(values.compactMap { $0 }.sorted(), [1, 2])
    }

    final class Tally: Sendable {
        private let value = Mutex(0)
        func add() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }

    struct MakeFailed: Error, Equatable {}

    func testAFailingMakeReachesTheCaller() async {
        do {
            _ = try await OwnedThread<Counter>(name: "test-fail") { throw MakeFailed() }
            XCTFail("expected the make error")
        } catch {
            XCTAssertEqual(error as? MakeFailed, MakeFailed())
        }
    }
}
