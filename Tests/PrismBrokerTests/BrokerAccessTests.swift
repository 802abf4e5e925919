import PrismSecurity
import PrismWire
import XCTest
@testable import PrismBroker

/// Authorization and key scoping in the routing state machine (no sockets: keys are given as the
/// broker loop reads them from each message's ZAP user id).
final class BrokerAccessTests: XCTestCase {
    let client = PeerID([0xC1])
    let worker = PeerID([0xA1])
    // 40-character Z85 strings stand in for keys: the state machine only compares them.
    let ranker = String(repeating: "r", count: 40)
    let intruder = String(repeating: "i", count: 40)
    let explainWorker = String(repeating: "w", count: 40)
    let anyWorker = String(repeating: "a", count: 40)

    func state() -> BrokerState {
        var config = BrokerConfiguration()
        config.access = AccessPolicy(
            clients: AccessList(grants: [ranker: .only(["echo"]), intruder: .all]),
            workers: AccessList(grants: [explainWorker: .only(["prism.explain"]), anyWorker: .all]))
        return BrokerState(configuration: config, now: 0)
    }

    func request(_ id: String, service: String = "echo") -> ClientMessage {
        var e = Envelope()
        e.requestID = id
        e.service = service
        e.attempt = 1
        return .request(e)
    }

    func ready(_ service: String) -> WorkerMessage {
        var r = Ready()
        r.service = service
        r.capacity = 1
        r.workerID = "w"
        return .ready(r)
    }

    func replies(_ actions: [BrokerAction]) -> [(PeerID, Reply)] {
        actions.compactMap { if case .reply(let c, let r, _, _) = $0 { return (c, r) } else { return nil } }
    }

    func testAClientKeyOnlyReachesItsServices() {
        var s = state()
        let denied = replies(s.handle(client: client, key: ranker, request("a", service: "prism.explain"), now: 1))
        XCTAssertEqual(denied.map(\.1.status.code), [.permissionDenied])
        XCTAssertEqual(s.pendingCount, 0, "a refused request leaves no state")
        _ = s.handle(client: client, key: ranker, request("b"), now: 1)
        XCTAssertEqual(s.pendingCount, 1, "echo is granted")
        let anonymous = replies(s.handle(client: client, key: nil, request("c"), now: 1))
        XCTAssertEqual(anonymous.map(\.1.status.code), [.unauthenticated])
    }

    func testAWorkerKeyOnlyRegistersItsServices() {
        var s = state()
        let refused = s.handle(worker: worker, key: explainWorker, ready("echo"), now: 0)
        XCTAssertTrue(refused.contains { if case .refuseWorker(let w, _) = $0 { return w == worker } else { return false } })
        XCTAssertEqual(s.health(HealthRequest(), now: 0).services.count, 0, "the refused worker is not registered")
        let unauthenticated = s.handle(worker: worker, key: nil, ready("prism.explain"), now: 0)
        XCTAssertTrue(unauthenticated.contains { if case .refuseWorker = $0 { return true } else { return false } })
        _ = s.handle(worker: worker, key: explainWorker, ready("prism.explain"), now: 0)
        XCTAssertEqual(s.health(HealthRequest(), now: 0).services.map(\.workers), [1])
    }

    func testAnotherKeyOnTheSameRoutingIDGetsNothingOfTheRequest() {
        var s = state()
        _ = s.handle(worker: worker, key: anyWorker, ready("echo"), now: 0)
        _ = s.handle(client: client, key: ranker, request("r1"), now: 1)
        // Same routing id and request id, another key: refused, and it cannot cancel the request.
        let clash = replies(s.handle(client: client, key: intruder, request("r1"), now: 2))
        XCTAssertEqual(clash.map(\.1.status.code), [.alreadyExists])
        XCTAssertTrue(s.handle(client: client, key: intruder, .cancel({ var c = Cancel(); c.requestID = "r1"; return c }()), now: 2).isEmpty)
        var answer = Reply(requestID: "r1", status: .ok)
        answer.body = Data("secret".utf8)
        XCTAssertEqual(replies(s.handle(worker: worker, key: anyWorker, .reply(answer), now: 3)).map(\.1.body), [Data("secret".utf8)])
        // After the answer, the other key's re-send is not a replay of it, and the owner's is.
        let other = replies(s.handle(client: client, key: intruder, request("r1"), now: 4))
        XCTAssertFalse(other.contains { $0.1.body == Data("secret".utf8) })
        XCTAssertEqual(replies(s.handle(client: client, key: ranker, request("r1"), now: 5)).map(\.1.body), [Data("secret".utf8)])
    }

    func testAWorkerRoutingIDUsedByAnotherKeyIsNotThatWorker() {
        var s = state()
        _ = s.handle(worker: worker, key: anyWorker, ready("echo"), now: 0)
        _ = s.handle(client: client, key: ranker, request("r1"), now: 1)
        let forged = s.handle(worker: worker, key: explainWorker, .reply(Reply(requestID: "r1", status: .ok)), now: 2)
        XCTAssertTrue(replies(forged).isEmpty, "a reply from another key is not forwarded")
        XCTAssertEqual(s.pendingCount, 1)
    }

    func testHealthListsOnlyTheServicesTheKeyMayCall() {
        var s = state()
        _ = s.handle(worker: PeerID([0xA1]), key: anyWorker, ready("echo"), now: 0)
        _ = s.handle(worker: PeerID([0xA2]), key: anyWorker, ready("teacher"), now: 0)
        let seen = s.handle(client: client, key: ranker, .health(HealthRequest()), now: 1).compactMap {
            if case .health(_, let h) = $0 { return h.services.map(\.service) } else { return nil }
        }
        XCTAssertEqual(seen, [["echo"]])
        XCTAssertEqual(s.health(HealthRequest(), now: 1).services.map(\.service), ["echo", "teacher"], "the broker's own view is whole")
    }

    func testMetricsLabelsAreBoundedWhateverNamesClientsSend() {
        let metrics = BrokerMetrics()
        for i in 0..<(BrokerMetrics.maxServiceLabels + 50) { _ = metrics.label("service-\(i)") }
        XCTAssertEqual(metrics.label("service-0"), "service-0", "the first names keep their own label")
        XCTAssertEqual(metrics.label("service-\(BrokerMetrics.maxServiceLabels + 10)"), BrokerMetrics.otherService)
        XCTAssertEqual(metrics.label("yet-another"), BrokerMetrics.otherService)
    }
}
