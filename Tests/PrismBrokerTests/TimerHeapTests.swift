import XCTest
@testable import PrismBroker

/// The deadline heap against a sorted reference: pops come out in time order, and a `retain`
/// leaves exactly the kept timers, still in heap order.
final class TimerHeapTests: XCTestCase {
    func testPopsInTimeOrderAfterPushesAndRetains() {
        var random = SystemRandomNumberGenerator()
        for round in 0..<20 {
            var heap = TimerHeap()
            var reference: [(at: Int64, id: String)] = []
            for i in 0..<(200 + round * 50) {
                let at = Int64.random(in: 0..<1_000, using: &random)
                heap.push(at: at, id: "t\(i)")
                reference.append((at, "t\(i)"))
            }
            // Keep the even ids, as a compaction keeps live requests.
            let keep: (Int64, String) -> Bool = { _, id in (Int(id.dropFirst()) ?? 0) % 2 == 0 }
            heap.retain(keep)
            reference.removeAll { !keep($0.at, $0.id) }
            XCTAssertEqual(heap.count, reference.count)
            var popped: [(at: Int64, id: String)] = []
            while let id = heap.popDue(now: .max) { popped.append((reference.first { $0.id == id }!.at, id)) }
            XCTAssertEqual(popped.map(\.at), reference.map(\.at).sorted(), "round \(round)")
            XCTAssertEqual(Set(popped.map(\.id)), Set(reference.map(\.id)))
        }
    }

    func testOnlyDueTimersPop() {
        var heap = TimerHeap()
        for (at, id) in [(30, "c"), (10, "a"), (20, "b")] { heap.push(at: Int64(at), id: id) }
        XCTAssertNil(heap.popDue(now: 9))
        XCTAssertEqual(heap.popDue(now: 20), "a")
        XCTAssertEqual(heap.popDue(now: 20), "b")
        XCTAssertNil(heap.popDue(now: 29))
        XCTAssertEqual(heap.next, 30)
    }
}
