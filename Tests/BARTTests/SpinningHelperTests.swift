import Dispatch
import Foundation
import TensorKernels
import XCTest

/// `Parallel.forEachRangeBackToBack`: every index is run exactly once, two parts really run on two threads,
/// the helper wakes again after sleeping, and concurrent or nested callers (who find it held) still get
/// their whole range.
final class SpinningHelperTests: XCTestCase {
    private func counts(count: Int, parts: Int) -> [Int] {
        let marks = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
        marks.initialize(repeating: 0, count: max(1, count))
        defer { marks.deallocate() }
        nonisolated(unsafe) let m = marks
        Parallel.forEachRangeBackToBack(count: count, parts: parts) { range in
            for i in range { m[i] += 1 }
        }
        return Array(UnsafeBufferPointer(start: marks, count: count))
    }

    func testEveryIndexRunsOnceForAnySplit() {
        for count in [0, 1, 2, 3, 7, 1000] {
            for parts in [1, 2, 3, 8] {
                XCTAssertEqual(counts(count: count, parts: parts), [Int](repeating: 1, count: count), "count \(count), parts \(parts)")
            }
        }
    }

    func testTwoPartsRunOnTwoThreadsBackToBackAndAfterASleep() {
        let caller = pthread_self()
        for round in 0..<2 {
            for call in 0..<2_000 {
                nonisolated(unsafe) var threads: [pthread_t?] = [nil, nil]
                Parallel.forEachRangeBackToBack(count: 2, parts: 2) { range in threads[range.lowerBound] = pthread_self() }
                guard let first = threads[0], let second = threads[1] else {
                    return XCTFail("round \(round), call \(call): a part did not run")
                }
                XCTAssertNotEqual(pthread_equal(first, caller), 0, "the first part runs on the caller")
                XCTAssertEqual(pthread_equal(second, caller), 0, "the second part runs on another thread")
            }
            // Longer than the spin window: the helper has gone to sleep and must be woken.
            usleep(20_000)
        }
    }

    func testConcurrentAndNestedCallersGetTheirWholeRange() {
        let callers = 4, count = 513
        let totals = UnsafeMutablePointer<Int>.allocate(capacity: callers)
        totals.initialize(repeating: 0, count: callers)
        defer { totals.deallocate() }
        nonisolated(unsafe) let t = totals
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for _ in 0..<200 {
                let inner = UnsafeMutablePointer<Int>.allocate(capacity: 2)
                inner.initialize(repeating: 0, count: 2)
                nonisolated(unsafe) let marks = inner
                Parallel.forEachRangeBackToBack(count: count, parts: 2) { range in
                    // A nested call finds the helper held (by this or another caller) and runs on GCD.
                    let part = range.lowerBound == 0 ? 0 : 1
                    Parallel.forEachRangeBackToBack(count: range.count, parts: 2) { sub in
                        if sub.lowerBound == 0 { marks[part] = range.count }
                    }
                }
                t[caller] += inner[0] + inner[1]
                inner.deallocate()
            }
        }
        for caller in 0..<callers { XCTAssertEqual(totals[caller], 200 * count, "caller \(caller)") }
    }
}
