import PrismTestSupport
import XCTest
import PrismWire
@testable import PrismBroker

/// The routing logic, driven directly: no sockets, a hand-moved clock.
final class BrokerStateTests: XCTestCase {
    let client = PeerID([0xC1])
    let otherClient = PeerID([0xC2])

    func worker(_ n: UInt8) -> PeerID { PeerID([0xA0, n]) }

    func envelope(_ id: String, service: String = "echo", deadline: Int64 = 0, body: String = "x") -> Envelope {
        var e = Envelope()
        e.requestID = id
        e.service = service
        e.deadlineUnixMs = deadline
        e.attempt = 1
        e.body = Data(body.utf8)
        return e
    }

    func ready(_ service: String, capacity: UInt32 = 1, name: String = "w") -> WorkerMessage {
        var r = Ready()
        r.service = service
        r.capacity = capacity
        r.workerID = name
        return .ready(r)
    }

    func reply(_ id: String, _ body: String = "ok") -> WorkerMessage {
        var r = Reply(requestID: id, status: .ok)
        r.body = Data(body.utf8)
        return .reply(r)
    }

    func dispatches(_ actions: [BrokerAction]) -> [(PeerID, String)] {
        actions.compactMap { if case .dispatch(let w, let e) = $0 { return (w, e.requestID) } else { return nil } }
    }

    func replies(_ actions: [BrokerAction]) -> [(PeerID, Reply)] {
        actions.compactMap { if case .reply(let c, let r, _, _) = $0 { return (c, r) } else { return nil } }
    }

    func testLeastRecentlyUsedOrderAcrossWorkers() {
        var state = BrokerState(now: 0)
        for n: UInt8 in 1...3 { _ = state.handle(worker: worker(n), ready("echo"), now: 0) }
        var order: [PeerID] = []
        for i in 0..<3 {
            order += dispatches(state.handle(client: client, .request(envelope("r\(i)")), now: 1)).map(\.0)
        }
        XCTAssertEqual(order, [worker(1), worker(2), worker(3)])
        // Worker 2 finishes first, then 1: the next requests go to 2, then 1 (free, least recently used first).
        _ = state.handle(worker: worker(2), reply("r1"), now: 2)
        _ = state.handle(worker: worker(1), reply("r0"), now: 3)
        let next = dispatches(state.handle(client: client, .request(envelope("r3")), now: 4))
            + dispatches(state.handle(client: client, .request(envelope("r4")), now: 4))
        XCTAssertEqual(next.map(\.0), [worker(1), worker(2)], "worker 1 was used before worker 2")
    }

    func testCapacityIsRespectedAndQueueDrainsOnReplies() {
        var state = BrokerState(now: 0)
        _ = state.handle(worker: worker(1), ready("echo", capacity: 2), now: 0)
        var sent: [String] = []
        for i in 0..<5 { sent += dispatches(state.handle(client: client, .request(envelope("r\(i)")), now: 1)).map(\.1) }
        XCTAssertEqual(sent, ["r0", "r1"])
        XCTAssertEqual(state.holding(worker(1)), 2)
        XCTAssertEqual(state.queued("echo"), 3)
        let actions = state.handle(worker: worker(1), reply("r0"), now: 2)
        XCTAssertEqual(replies(actions).map(\.1.requestID), ["r0"])
        XCTAssertEqual(dispatches(actions).map(\.1), ["r2"])
        XCTAssertEqual(state.holding(worker(1)), 2)
    }

    func testTwoServicesRouteOnlyToTheirWorkers() {
        var state = BrokerState(now: 0)
        _ = state.handle(worker: worker(1), ready("echo", capacity: 4), now: 0)
        _ = state.handle(worker: worker(2), ready("sleep", capacity: 4), now: 0)
        let a = dispatches(state.handle(client: client, .request(envelope("a", service: "echo")), now: 1))
        let b = dispatches(state.handle(client: client, .request(envelope("b", service: "sleep")), now: 1))
        XCTAssertEqual(a.map(\.0), [worker(1)])
        XCTAssertEqual(b.map(\.0), [worker(2)])
    }

    func testReplyGoesToTheClientThatAsked() {
        var state = BrokerState(now: 0)
        _ = state.handle(worker: worker(1), ready("echo", capacity: 2), now: 0)
        _ = state.handle(client: client, .request(envelope("a")), now: 1)
        _ = state.handle(client: otherClient, .request(envelope("b")), now: 1)
        XCTAssertEqual(replies(state.handle(worker: worker(1), reply("b"), now: 2)).map(\.0), [otherClient])
        XCTAssertEqual(replies(state.handle(worker: worker(1), reply("a"), now: 2)).map(\.0), [client])
    }

    func testLostWorkerRequestsAreRedispatchedAndLateRepliesDropped() {
        var config = BrokerConfiguration()
        config.heartbeatIntervalMs = 100
        var state = BrokerState(configuration: config, now: 0)
        _ = state.handle(worker: worker(1), ready("echo", capacity: 2), now: 0)
        _ = state.handle(client: client, .request(envelope("a")), now: 0)
        _ = state.handle(client: client, .request(envelope("b")), now: 0)
        _ = state.handle(worker: worker(2), ready("echo", capacity: 2), now: 50)
        // Worker 2 keeps beating; worker 1 falls silent and is buried after 3 intervals.
        var redispatched: [(PeerID, String)] = []
        var now: Int64 = 0
        while now < 1_000 {
            now += 100
            _ = state.handle(worker: worker(2), .heartbeat(Heartbeat()), now: now)
            redispatched += dispatches(state.tick(now: now))
        }
        XCTAssertEqual(Set(redispatched.map(\.1)), ["a", "b"])
        XCTAssertTrue(redispatched.allSatisfy { $0.0 == worker(2) })
        // The dead worker's late reply is not forwarded, and it is told to re-register.
        let late = state.handle(worker: worker(1), reply("a", "late"), now: now)
        XCTAssertTrue(replies(late).isEmpty)
        XCTAssertTrue(late.contains { if case .disconnect(let w, _) = $0 { return w == worker(1) } else { return false } })
        let answered = replies(state.handle(worker: worker(2), reply("a", "fresh"), now: now))
        XCTAssertEqual(answered.map(\.1.body), [Data("fresh".utf8)])
        // A second reply for an answered id is dropped.
        XCTAssertTrue(replies(state.handle(worker: worker(2), reply("a", "again"), now: now)).isEmpty)
    }

    func testRedispatchAttemptNumbersAndLimit() {
        var config = BrokerConfiguration()
        config.maxRedispatches = 2
        var state = BrokerState(configuration: config, now: 0)
        _ = state.handle(client: client, .request(envelope("a")), now: 0)
        var attempts: [UInt32] = []
        var final: [Reply] = []
        for n in 1...4 {
            let actions = state.handle(worker: worker(UInt8(n)), ready("echo"), now: 1)
            attempts += actions.compactMap { if case .dispatch(_, let e) = $0 { return e.attempt } else { return nil } }
            final += replies(state.handle(worker: worker(UInt8(n)), .disconnect(Disconnect()), now: 2)).map(\.1)
        }
        XCTAssertEqual(attempts, [1, 2, 3])
        XCTAssertEqual(final.map(\.status.code), [.unavailable])
        XCTAssertEqual(state.pendingCount, 0)
    }

    func testDeadlineWhileQueuedAndWhileRunning() {
        var state = BrokerState(now: 0)
        _ = state.handle(worker: worker(1), ready("echo"), now: 0)
        _ = state.handle(client: client, .request(envelope("run", deadline: 100)), now: 0)
        _ = state.handle(client: client, .request(envelope("wait", deadline: 50)), now: 0)
        let at50 = state.tick(now: 50)
        XCTAssertEqual(replies(at50).map { [$0.1.requestID, $0.1.status.code.name] }, [["wait", "DEADLINE_EXCEEDED"]])
        let at100 = state.tick(now: 100)
        XCTAssertEqual(replies(at100).map { [$0.1.requestID, $0.1.status.code.name] }, [["run", "DEADLINE_EXCEEDED"]])
        XCTAssertTrue(at100.contains(.cancel(worker: worker(1), requestID: "run")))
        // The slot stays taken until the worker answers the cancelled request.
        XCTAssertEqual(state.holding(worker(1)), 1)
        XCTAssertTrue(replies(state.handle(worker: worker(1), reply("run"), now: 120)).isEmpty)
        XCTAssertEqual(state.holding(worker(1)), 0)
    }

    func testExpiredOnArrival() {
        var state = BrokerState(now: 1_000)
        let r = replies(state.handle(client: client, .request(envelope("a", deadline: 999)), now: 1_000))
        XCTAssertEqual(r.map(\.1.status.code), [.deadlineExceeded])
    }

    func testQueueBoundGivesResourceExhausted() {
        var config = BrokerConfiguration()
        config.maxQueuedPerService = 2
        var state = BrokerState(configuration: config, now: 0)
        var codes: [StatusCode] = []
        for i in 0..<4 { codes += replies(state.handle(client: client, .request(envelope("r\(i)")), now: 0)).map(\.1.status.code) }
        XCTAssertEqual(codes, [.resourceExhausted, .resourceExhausted])
        XCTAssertEqual(state.queued("echo"), 2)
    }

    func testCancelQueuedAndRunning() {
        var state = BrokerState(now: 0)
        _ = state.handle(worker: worker(1), ready("echo"), now: 0)
        _ = state.handle(client: client, .request(envelope("running")), now: 0)
        _ = state.handle(client: client, .request(envelope("queued")), now: 0)
        var c = Cancel(); c.requestID = "queued"
        XCTAssertEqual(replies(state.handle(client: client, .cancel(c), now: 1)).map(\.1.status.code), [.cancelled])
        c.requestID = "running"
        let actions = state.handle(client: client, .cancel(c), now: 1)
        XCTAssertEqual(replies(actions).map(\.1.status.code), [.cancelled])
        XCTAssertTrue(actions.contains(.cancel(worker: worker(1), requestID: "running")))
        // The cancelled queued request is never dispatched, even when the worker frees up.
        let after = state.handle(worker: worker(1), reply("running"), now: 2)
        XCTAssertTrue(dispatches(after).isEmpty)
        XCTAssertTrue(replies(after).isEmpty)
        XCTAssertEqual(state.pendingCount, 0)
    }

    func testUnknownServiceAnswersUnavailableAfterGrace() {
        var config = BrokerConfiguration()
        config.unavailableGraceMs = 500
        var state = BrokerState(configuration: config, now: 0)
        _ = state.handle(client: client, .request(envelope("a", service: "nobody")), now: 0)
        XCTAssertTrue(replies(state.tick(now: 499)).isEmpty)
        XCTAssertEqual(replies(state.tick(now: 500)).map(\.1.status.code), [.unavailable])
        // With a deadline sooner than the grace, UNAVAILABLE comes at the deadline.
        _ = state.handle(client: client, .request(envelope("b", service: "nobody", deadline: 600)), now: 550)
        XCTAssertEqual(replies(state.tick(now: 600)).map(\.1.status.code), [.unavailable])
    }

    func testWorkerArrivingWithinGraceServesTheQueue() {
        var state = BrokerState(now: 0)
        _ = state.handle(client: client, .request(envelope("a")), now: 0)
        XCTAssertEqual(dispatches(state.handle(worker: worker(1), ready("echo"), now: 100)).map(\.1), ["a"])
    }

    func testRetriesAreAbsorbedAndAnsweredRequestsReplayed() {
        var state = BrokerState(now: 0)
        _ = state.handle(worker: worker(1), ready("echo"), now: 0)
        XCTAssertEqual(dispatches(state.handle(client: client, .request(envelope("a")), now: 0)).count, 1)
        // A re-send from the same client (it keeps its routing id across reconnects): not dispatched again.
        let retry = state.handle(client: client, .request(envelope("a")), now: 10)
        XCTAssertTrue(dispatches(retry).isEmpty)
        XCTAssertTrue(replies(retry).isEmpty)
        let answer = replies(state.handle(worker: worker(1), reply("a", "once"), now: 20))
        XCTAssertEqual(answer.map(\.0), [client])
        // Retry after the answer: the same reply again, no new dispatch.
        let replay = state.handle(client: client, .request(envelope("a")), now: 30)
        XCTAssertTrue(dispatches(replay).isEmpty)
        XCTAssertEqual(replies(replay).map(\.1.body), [Data("once".utf8)])
    }

    /// A forwarded reply is replayed from the worker's own bytes (metadata and all, unchanged); one the
    /// broker changed (it fills in an empty worker id) is replayed as changed, never from stale bytes.
    func testReplaysAreTheRepliesTheClientGot() throws {
        var state = BrokerState(now: 0)
        _ = state.handle(worker: worker(1), ready("echo", capacity: 2, name: "w1"), now: 0)
        _ = state.handle(client: client, .request(envelope("named")), now: 0)
        _ = state.handle(client: client, .request(envelope("anonymous")), now: 0)
        var named = Reply(requestID: "named", status: .ok, workerID: "w1")
        named.metadata = ["tokens": "12"]
        named.body = Data("forwarded".utf8)
        let bytes = try named.serializedBytes() as [UInt8]
        XCTAssertEqual(replies(state.handle(worker: worker(1), .reply(named), encoded: bytes, now: 1)).map(\.1), [named])
        var anonymous = Reply(requestID: "anonymous", status: .ok)
        anonymous.body = Data("filled in".utf8)
        // Stale bytes passed along with a reply the broker changes must not be what a replay returns.
        let stale = try Reply(requestID: "anonymous", status: .internal).serializedBytes() as [UInt8]
        let first = replies(state.handle(worker: worker(1), .reply(anonymous), encoded: stale, now: 2)).map(\.1)
        XCTAssertEqual(first.map(\.workerID), ["w1"])
        XCTAssertEqual(replies(state.handle(client: client, .request(envelope("named")), now: 3)).map(\.1), [named])
        XCTAssertEqual(replies(state.handle(client: client, .request(envelope("anonymous")), now: 4)).map(\.1), first)
    }

    /// Another client that sends a request id it has seen (or guessed) gets neither the reply, nor
    /// the replay, nor the power to cancel: each stays with the client that sent the request.
    func testAnotherClientsRequestIDNeverReachesItsReply() {
        var state = BrokerState(now: 0)
        _ = state.handle(worker: worker(1), ready("echo", capacity: 2), now: 0)
        _ = state.handle(client: client, .request(envelope("secret", body: "mine")), now: 0)
        // In flight: the other client's copy is refused, not absorbed into the victim's request.
        let stolen = state.handle(client: otherClient, .request(envelope("secret", body: "theirs")), now: 1)
        XCTAssertTrue(dispatches(stolen).isEmpty)
        XCTAssertEqual(replies(stolen).map(\.0), [otherClient])
        XCTAssertEqual(replies(stolen).map(\.1.status.code), [.alreadyExists])
        // Its cancel does nothing to the victim's request.
        var c = Cancel()
        c.requestID = "secret"
        XCTAssertTrue(state.handle(client: otherClient, .cancel(c), now: 2).isEmpty)
        let answered = replies(state.handle(worker: worker(1), reply("secret", "for the owner"), now: 3))
        XCTAssertEqual(answered.map(\.0), [client], "the reply goes to the client that sent the request")
        XCTAssertEqual(answered.map(\.1.body), [Data("for the owner".utf8)])
        // Answered: the replay cache answers the owner only; another client's request with that id
        // is a request of its own, run and answered on its own.
        let theirs = state.handle(client: otherClient, .request(envelope("secret", body: "theirs")), now: 4)
        XCTAssertEqual(dispatches(theirs).map(\.1), ["secret"])
        XCTAssertTrue(replies(theirs).isEmpty, "no replay of the owner's reply to another client")
        let own = replies(state.handle(worker: worker(1), reply("secret", "for the other"), now: 5))
        XCTAssertEqual(own.map(\.0), [otherClient])
        XCTAssertEqual(own.map(\.1.body), [Data("for the other".utf8)])
    }

    /// Service names come from clients: 20,000 distinct unknown names leave at most
    /// `maxServicesWithoutWorkers` entries while they wait, each request is still answered once, and
    /// nothing is left once they have been answered.
    func testUnknownServiceNamesLeaveBoundedState() {
        var config = BrokerConfiguration()
        config.maxServicesWithoutWorkers = 100
        var state = BrokerState(configuration: config, now: 0)
        _ = state.handle(worker: worker(1), ready("echo"), now: 0)
        var answered: [String: StatusCode] = [:]
        for i in 0..<20_000 {
            for (_, r) in replies(state.handle(client: client, .request(envelope("r\(i)", service: "no-such-\(i)")), now: 1)) {
                XCTAssertNil(answered[r.requestID], "answered twice")
                answered[r.requestID] = r.status.code
            }
            XCTAssertLessThanOrEqual(state.services.count, 101, "the echo service plus the bound")
        }
        XCTAssertEqual(answered.count, 20_000 - 100, "beyond the bound: answered at once")
        XCTAssertTrue(answered.values.allSatisfy { $0 == .unavailable })
        for (_, r) in replies(state.tick(now: 1 + config.unavailableGraceMs)) { answered[r.requestID] = r.status.code }
        XCTAssertEqual(answered.count, 20_000, "the waiting ones after the grace period")
        XCTAssertEqual(Set(state.services.keys), ["echo"], "no entry left for names without workers")
        XCTAssertEqual(state.pendingCount, 0)
        // A worker that leaves takes its service's entry along when nothing waits.
        _ = state.handle(worker: worker(1), .disconnect(Disconnect()), now: 3_000)
        XCTAssertTrue(state.services.isEmpty)
    }

    /// A deadline timer goes with its request: answered requests with deadlines far ahead (a year, as a
    /// careless or hostile client may send) must not pile up timers until those deadlines pass.
    func testTimersOfAnsweredRequestsDoNotAccumulate() {
        var state = BrokerState(now: 0)
        _ = state.handle(worker: worker(1), ready("echo", capacity: 4), now: 0)
        let yearMs: Int64 = 365 * 24 * 3_600_000
        for i in 0..<50_000 {
            let id = "r\(i)"
            XCTAssertEqual(dispatches(state.handle(client: client, .request(envelope(id, deadline: yearMs + Int64(i))), now: 1)).count, 1)
            XCTAssertEqual(replies(state.handle(worker: worker(1), reply(id), now: 2)).map(\.1.requestID), [id])
            XCTAssertLessThanOrEqual(state.pendingTimers, 2_048, "after \(i + 1) answered requests")
        }
        // Live timers still fire: one request left running expires at its deadline, once.
        _ = state.handle(client: client, .request(envelope("late", deadline: 10)), now: 3)
        for i in 0..<5_000 {
            let id = "s\(i)"
            _ = state.handle(client: client, .request(envelope(id, deadline: yearMs)), now: 4)
            _ = state.handle(worker: worker(1), reply(id), now: 5)
        }
        let expired = replies(state.tick(now: 10))
        XCTAssertEqual(expired.map(\.1.requestID), ["late"])
        XCTAssertEqual(expired.first?.1.status.code, .deadlineExceeded)
        XCTAssertTrue(replies(state.tick(now: 11)).isEmpty)
    }

    /// Replies kept for re-sends are bounded in bytes as well as in count: the oldest go first, and
    /// a re-send of an evicted one runs again rather than being lost.
    func testReplayCacheIsBoundedInBytes() {
        var config = BrokerConfiguration()
        config.replayCacheBytes = 1 << 20
        var state = BrokerState(configuration: config, now: 0)
        _ = state.handle(worker: worker(1), ready("echo"), now: 0)
        let big = String(repeating: "x", count: 100_000)
        for i in 0..<50 {
            _ = state.handle(client: client, .request(envelope("big\(i)")), now: Int64(i))
            _ = state.handle(worker: worker(1), reply("big\(i)", big), now: Int64(i))
            XCTAssertLessThanOrEqual(state.replay.bytes, 1 << 20)
        }
        XCTAssertLessThanOrEqual(state.replay.count, 10)
        XCTAssertEqual(replies(state.handle(client: client, .request(envelope("big49")), now: 60)).map(\.1.body.count), [100_000],
                       "the newest is replayed")
        XCTAssertEqual(dispatches(state.handle(client: client, .request(envelope("big0")), now: 61)).map(\.1), ["big0"],
                       "an evicted one runs again")
    }

    func testMetadataIsBounded() {
        var state = BrokerState(now: 0)
        _ = state.handle(worker: worker(1), ready("echo"), now: 0)
        var many = envelope("many")
        for i in 0..<100_000 { many.metadata["k\(i)"] = "v" }
        let refused = state.handle(client: client, .request(many), now: 1)
        XCTAssertTrue(dispatches(refused).isEmpty, "not forwarded to a worker")
        XCTAssertEqual(replies(refused).map(\.1.status.code), [.invalidArgument])
        XCTAssertTrue(replies(refused)[0].1.status.message.contains("100000 metadata entries"))
        var long = envelope("long")
        long.metadata["k"] = String(repeating: "v", count: 20_000)
        XCTAssertEqual(replies(state.handle(client: client, .request(long), now: 1)).map(\.1.status.code), [.invalidArgument])
        var fine = envelope("fine")
        fine.metadata = ["trace": "abc", "tenant": "t1"]
        XCTAssertEqual(dispatches(state.handle(client: client, .request(fine), now: 1)).map(\.1), ["fine"])
        XCTAssertEqual(state.pendingCount, 1)
    }

    func testInvalidEnvelopesAndWorkerProtocolErrors() {
        var state = BrokerState(now: 0)
        XCTAssertEqual(replies(state.handle(client: client, .request(envelope("")), now: 0)).map(\.1.status.code), [.invalidArgument])
        XCTAssertEqual(replies(state.handle(client: client, .request(envelope("a", service: "")), now: 0)).map(\.1.status.code), [.invalidArgument])
        XCTAssertTrue(state.handle(worker: worker(1), ready("", capacity: 1), now: 0).contains { if case .disconnect = $0 { return true }; return false })
        XCTAssertTrue(state.handle(worker: worker(1), ready("echo", capacity: 0), now: 0).contains { if case .disconnect = $0 { return true }; return false })
        XCTAssertEqual(state.workerCount, 0)
        _ = state.handle(worker: worker(1), ready("echo"), now: 0)
        XCTAssertTrue(state.handle(worker: worker(1), ready("echo"), now: 0).contains { if case .disconnect = $0 { return true }; return false })
        XCTAssertEqual(state.workerCount, 0)
    }

    func testHealthCountsWorkersQueueAndInFlight() {
        var state = BrokerState(now: 0)
        _ = state.handle(worker: worker(1), ready("echo", capacity: 2), now: 0)
        _ = state.handle(worker: worker(2), ready("echo", capacity: 3), now: 0)
        for i in 0..<7 { _ = state.handle(client: client, .request(envelope("r\(i)")), now: 0) }
        var request = HealthRequest(); request.requestID = "h"
        let actions = state.handle(client: client, .health(request), now: 1_500)
        guard case .health(_, let health)? = actions.first else { return XCTFail("no health reply") }
        XCTAssertEqual(health.requestID, "h")
        XCTAssertEqual(health.uptimeMs, 1_500)
        XCTAssertEqual(health.services.map(\.service), ["echo"])
        XCTAssertEqual(health.services.first?.workers, 2)
        XCTAssertEqual(health.services.first?.capacity, 5)
        XCTAssertEqual(health.services.first?.inFlight, 5)
        XCTAssertEqual(health.services.first?.queued, 2)
    }

    func testHeartbeatsAreSentEveryInterval() {
        var config = BrokerConfiguration()
        config.heartbeatIntervalMs = 100
        var state = BrokerState(configuration: config, now: 0)
        _ = state.handle(worker: worker(1), ready("echo"), now: 0)
        XCTAssertFalse(state.tick(now: 50).contains(.heartbeat(worker: worker(1))))
        XCTAssertTrue(state.tick(now: 100).contains(.heartbeat(worker: worker(1))))
        XCTAssertEqual(state.nextTimer(now: 100), 200)
    }

    /// Many random interleavings: every accepted request is answered exactly once.
    func testRandomScheduleAnswersEveryRequestExactlyOnce() {
        var rng = TestRandom(seed: 42)
        var config = BrokerConfiguration()
        config.heartbeatIntervalMs = 10
        config.maxRedispatches = 100
        config.unavailableGraceMs = 10_000
        var state = BrokerState(configuration: config, now: 0)
        var answers: [String: Int] = [:]
        var holding: [PeerID: [String]] = [:]
        var alive: Set<UInt8> = []
        var next: UInt8 = 1
        var now: Int64 = 0
        func run(_ actions: [BrokerAction]) {
            for action in actions {
                switch action {
                case .reply(_, let r, _, _): answers[r.requestID, default: 0] += 1
                case .dispatch(let w, let e): holding[w, default: []].append(e.requestID)
                default: break
                }
            }
        }
        for step in 0..<5_000 {
            now += 1
            switch rng.next() % 10 {
            case 0 where alive.count < 5:
                alive.insert(next); run(state.handle(worker: worker(next), ready("echo", capacity: UInt32(1 + rng.next() % 3)), now: now)); next &+= 1
            case 1 where !alive.isEmpty:  // a worker dies silently
                let w = alive.randomElement(using: &rng)!; alive.remove(w); holding[worker(w)] = nil
            case 2, 3, 4:
                if step < 4_000 { run(state.handle(client: client, .request(envelope("r\(step)")), now: now)) }
            default:
                for w in alive {
                    run(state.handle(worker: worker(w), .heartbeat(Heartbeat()), now: now))
                    if let id = holding[worker(w)]?.first, rng.next() % 2 == 0 {
                        holding[worker(w)]?.removeFirst()
                        run(state.handle(worker: worker(w), reply(id), now: now))
                    }
                }
            }
            run(state.tick(now: now))
        }
        // Let the survivors finish everything.
        if alive.isEmpty { run(state.handle(worker: worker(200), ready("echo", capacity: 8), now: now)); alive.insert(200) }
        for _ in 0..<10_000 where state.pendingCount > 0 {
            now += 1
            for w in alive {
                run(state.handle(worker: worker(w), .heartbeat(Heartbeat()), now: now))
                if let id = holding[worker(w)]?.first { holding[worker(w)]?.removeFirst(); run(state.handle(worker: worker(w), reply(id), now: now)) }
            }
            run(state.tick(now: now))
        }
        XCTAssertEqual(state.pendingCount, 0)
        XCTAssertGreaterThan(answers.count, 1_000)
        XCTAssertEqual(answers.values.filter { $0 != 1 }.count, 0, "some request was answered more than once")
    }
}

