import Foundation
import PrismWire
import XCTest
import ZeroMQ
@testable import PrismClient

/// The client's decisions, driven directly: no sockets, a hand-moved clock.
final class ClientStateTests: XCTestCase {
    func envelope(_ id: String, deadline: Int64 = 60_000) -> Envelope {
        var e = Envelope()
        e.requestID = id
        e.service = "echo"
        e.attempt = 1
        e.deadlineUnixMs = deadline
        return e
    }

    func options(brokers: Int) -> ClientState.Options {
        var o = ClientState.Options()
        o.brokers = brokers
        o.resendIntervalMs = 1_000
        o.pingIntervalMs = 500
        o.failoverAfterMs = 2_000
        return o
    }

    func sends(_ actions: [ClientState.Action]) -> [(String, Int)] {
        actions.compactMap {
            switch $0 {
            case .send(.request(let e), let broker): return (e.requestID, broker)
            case .send(.health(let h), let broker): return (h.requestID, broker)
            default: return nil
            }
        }
    }

    func completions(_ actions: [ClientState.Action]) -> [Reply] {
        actions.compactMap { if case .complete(let r, _) = $0 { return r } else { return nil } }
    }

    func ok(_ id: String) -> ClientResponse { .reply(Reply(requestID: id, status: .ok)) }

    func testASilentBrokerIsPingedThenFailedOverAndEveryWaitingCallIsResentToTheNext() {
        var s = ClientState(options: options(brokers: 2), now: 0)
        XCTAssertEqual(sends(s.call(envelope("a"), now: 0)).map(\.1), [0])
        _ = s.call(envelope("b"), now: 100)
        // Quiet for 500 ms: a ping goes to the active broker.
        let ping = sends(s.tick(now: 520))
        XCTAssertEqual(ping.count, 1)
        XCTAssertTrue(ping[0].0.hasPrefix(ClientState.pingPrefix))
        XCTAssertEqual(ping[0].1, 0)
        // Re-sends keep going to broker 0 while it may still answer.
        XCTAssertEqual(Set(sends(s.tick(now: 1_100)).filter { !$0.0.hasPrefix(ClientState.pingPrefix) }.map(\.0)), ["a", "b"])
        // 2 s of silence: broker 1 takes over, both requests go there at once.
        let over = s.tick(now: 2_000)
        XCTAssertTrue(over.contains(.failedOver(from: 0, to: 1, reason: "no answer for 2000 ms")))
        XCTAssertEqual(Set(sends(over).map(\.0)), ["a", "b"])
        XCTAssertTrue(sends(over).allSatisfy { $0.1 == 1 })
        XCTAssertEqual(s.active, 1)
        XCTAssertEqual(sends(s.call(envelope("c"), now: 2_010)).map(\.1), [1], "new calls go to the new broker")
        // The old broker's late answer still counts (first answer wins); the new one's copy is a duplicate.
        XCTAssertEqual(completions(s.received(ok("a"), from: 0, now: 2_050)).map(\.requestID), ["a"])
        XCTAssertTrue(completions(s.received(ok("a"), from: 1, now: 2_060)).isEmpty)
        XCTAssertEqual(s.duplicates, 1)
    }

    func testABrokerThatAnswersIsNeverFailedOver() {
        var s = ClientState(options: options(brokers: 2), now: 0)
        _ = s.call(envelope("a", deadline: 100_000), now: 0)
        var now: Int64 = 0
        while now < 10_000 {
            now += 20
            XCTAssertFalse(s.tick(now: now).contains { if case .failedOver = $0 { return true } else { return false } })
            // Each ping is answered.
            if now % 400 == 0 { _ = s.received(.health(HealthReply()), from: 0, now: now) }
        }
        XCTAssertEqual(s.active, 0)
    }

    func testOneBrokerIsNeverPingedAndDeadlinesEndCalls() {
        var s = ClientState(options: options(brokers: 1), now: 0)
        _ = s.call(envelope("a", deadline: 3_000), now: 0)
        var sent: [String] = []
        var ended: [Reply] = []
        for now in stride(from: Int64(20), through: 3_100, by: 20) {
            let actions = s.tick(now: now)
            sent += sends(actions).map(\.0)
            ended += completions(actions)
        }
        XCTAssertEqual(sent, ["a", "a"], "re-sent at 1 s and 2 s (the deadline comes at 3 s), no pings")
        XCTAssertEqual(ended.map(\.status.code), [.deadlineExceeded])
        XCTAssertFalse(s.isWaiting)
    }

    func testABrokerShuttingDownHandsOverAtOnce() {
        var s = ClientState(options: options(brokers: 2), now: 0)
        _ = s.call(envelope("a"), now: 0)
        var retry = Reply(requestID: "a", status: .unavailable, message: "the broker is shutting down; retry")
        retry.metadata["prism-retry"] = "true"
        let actions = s.received(.reply(retry), from: 0, now: 10)
        XCTAssertTrue(completions(actions).isEmpty, "not an answer")
        XCTAssertEqual(sends(actions).map(\.1), [1])
    }

    func testARefusedHandshakeEndsWaitingAndNewCallsAtOnce() {
        var s = ClientState(options: options(brokers: 1), now: 0)
        _ = s.call(envelope("a"), now: 0)
        let ended = completions(s.handshake(.refusedKey(status: 400), broker: 0))
        XCTAssertEqual(ended.map(\.status.code), [.unauthenticated])
        XCTAssertTrue(ended[0].status.message.contains("--client-keys"), ended[0].status.message)
        XCTAssertEqual(completions(s.call(envelope("b"), now: 1)).map(\.status.code), [.unauthenticated])
        // A dropped connection mid-handshake is not a refusal; a later success clears it.
        _ = s.handshake(.failed, broker: 0)
        _ = s.handshake(.succeeded, broker: 0)
        XCTAssertEqual(sends(s.call(envelope("c"), now: 2)).map(\.0), ["c"])
    }

    func testAnOversizedBodyFailsAtOnceInsteadOfSilently() {
        var o = options(brokers: 1)
        o.maxBodyBytes = 10
        var s = ClientState(options: o, now: 0)
        var big = envelope("big")
        big.body = Data(repeating: 1, count: 11)
        let ended = completions(s.call(big, now: 0))
        XCTAssertEqual(ended.map(\.status.code), [.resourceExhausted])
        XCTAssertTrue(sends(s.call(big, now: 0)).isEmpty, "nothing is sent")
        var fits = envelope("fits")
        fits.body = Data(repeating: 1, count: 10)
        XCTAssertEqual(sends(s.call(fits, now: 0)).map(\.0), ["fits"])
    }

    func testADuplicateIDIsRefusedWithoutTouchingTheRunningCall() {
        var s = ClientState(options: options(brokers: 1), now: 0)
        _ = s.call(envelope("a"), now: 0)
        XCTAssertEqual(completions(s.call(envelope("a"), now: 1)).map(\.status.code), [.alreadyExists])
        XCTAssertEqual(completions(s.received(ok("a"), from: 0, now: 2)).map(\.status.code), [.ok])
        XCTAssertEqual(completions(s.close()), [])
    }
}
