import Dispatch
import XCTest
import Synchronization
import ZeroMQ

extension Mailbox {
    /// A thread-safe tally for tests.
    final class Counter: Sendable {
        private let count = Atomic<Int>(0)
        var value: Int { count.load(ordering: .acquiring) }
        func add(_ n: Int) { count.add(n, ordering: .releasing) }
    }
}

final class ZeroMQTests: XCTestCase {
    func testMultipartRoundTripOverTCP() throws {
        let context = try Context()
        let router = try context.socket(.router)
        try router.bind("tcp://127.0.0.1:*")
        let endpoint = try router.lastEndpoint()
        XCTAssertTrue(endpoint.hasPrefix("tcp://127.0.0.1:"), endpoint)
        let dealer = try context.socket(.dealer)
        try dealer.setRoutingID(Array("client-1".utf8))
        try dealer.connect(endpoint)
        let frames: [[UInt8]] = [Array("tag".utf8), [], [0, 1, 2, 255], Array(repeating: 7, count: 100_000)]
        try dealer.send(frames)
        let received = try router.receive()
        XCTAssertEqual(received.first, Array("client-1".utf8), "the router prepends the routing id")
        XCTAssertEqual(Array(received.dropFirst()), frames)
        try router.send([received[0], Array("back".utf8)])
        XCTAssertEqual(try dealer.receive(), [Array("back".utf8)])
    }

    func testErrorsCarryErrnoAndText() throws {
        let context = try Context()
        let socket = try context.socket(.dealer)
        XCTAssertThrowsError(try socket.bind("nonsense://x")) { error in
            guard case .call(let operation, let errno, let message)? = error as? ZeroMQError else { return XCTFail("\(error)") }
            XCTAssertTrue(operation.contains("zmq_bind"))
            XCTAssertNotEqual(errno, 0)
            XCTAssertFalse(message.isEmpty)
        }
        XCTAssertThrowsError(try socket.receive(dontWait: true)) { XCTAssertEqual($0 as? ZeroMQError, .wouldBlock) }
        XCTAssertThrowsError(try socket.setRoutingID([])) { error in
            guard case .invalidArgument? = error as? ZeroMQError else { return XCTFail("\(error)") }
        }
    }

    func testRouterMandatoryReportsUnknownPeers() throws {
        let context = try Context()
        let router = try context.socket(.router)
        try router.bind("inproc://mandatory")
        XCTAssertThrowsError(try router.send([Array("nobody".utf8), [1]], dontWait: true)) {
            XCTAssertEqual($0 as? ZeroMQError, .hostUnreachable)
        }
    }

    func testPollerWakesOnMailboxFromAnotherThread() async throws {
        let mailbox = try Mailbox<Int>()
        let received = Mailbox<Int>.Counter()
        let thread = IOThread(name: "test-poll") {
            var poller = Poller()
            let index = poller.add(fileDescriptor: mailbox.wakeup.readDescriptor)
            // Bounded: a wake-up that never comes fails the test instead of hanging it.
            for _ in 0..<40 where received.value < 3 {
                _ = try? poller.poll(timeoutMs: 250)
                if poller.isReadable(index) { received.add(mailbox.take().count) }
            }
        }
        for i in 0..<3 { mailbox.post(i) }
        await thread.join()
        XCTAssertEqual(received.value, 3)
    }

    /// Posts from several threads at once, taken only when the poller reports the wake-up pipe readable:
    /// a post that joined a non-empty queue without signalling must still be collected (nothing stranded).
    func testConcurrentPostsAreAllTakenOnWakeUps() async throws {
        let mailbox = try Mailbox<Int>()
        let received = Mailbox<Int>.Counter()
        let total = 4 * 2_000
        let thread = IOThread(name: "test-many") {
            var poller = Poller()
            let index = poller.add(fileDescriptor: mailbox.wakeup.readDescriptor)
            // Bounded in time: a lost wake-up leaves commands in the queue and fails the count below.
            let deadline = ContinuousClock.now + .seconds(10)
            while received.value < total && ContinuousClock.now < deadline {
                _ = try? poller.poll(timeoutMs: 50)
                if poller.isReadable(index) { received.add(mailbox.take().count) }
            }
        }
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in 0..<2_000 { mailbox.post(worker * 2_000 + i) }
        }
        await thread.join()
        XCTAssertEqual(received.value, total)
    }

    func testClosedSocketFailsCleanly() throws {
        let context = try Context()
        let socket = try context.socket(.pair)
        socket.close()
        socket.close()
        XCTAssertThrowsError(try socket.send([[1]]))
    }
}
