import AsyncHTTPClient
import Foundation
import NIOCore
import PrismBench
import PrismClient
import PrismWire
import XCTest

/// `prism gateway` as ranking services use it: a real HTTP client against real gateway, broker and
/// worker processes (echo, sleep, and prism.explain hosting the committed tiny marked student).
final class GatewayProcessTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/student-marked")

    var fleet: ProcessFleet!
    var gateways: [ChildProcess] = []
    var http: HTTPClient!

    override func setUpWithError() throws {
        http = HTTPClient(eventLoopGroupProvider: .singleton)
        fleet = try ProcessFleet(brokerArguments: ["--grace-ms", "300"])
        try fleet.startWorker(service: "echo", handler: "echo", capacity: 4, id: "echo-0")
        try fleet.startWorker(service: "sleep", handler: "sleep", sleepMs: 1_000, capacity: 4, id: "sleep-0")
        try fleet.startWorker(service: "prism.explain", handler: "explain", capacity: 4, id: "explain-0", extra: [
            "--model", Self.fixtures.appendingPathComponent("model").path,
            "--catalog", Self.fixtures.appendingPathComponent("catalog.jsonl").path])
    }

    override func tearDown() async throws {
        try? await http.shutdown()
        for gateway in gateways { gateway.terminate() }
        fleet.stop()
    }

    /// Starts a gateway on a free port; returns its base URL once every service has a worker.
    func startGateway(_ extra: [String] = []) async throws -> String {
        let gateway = try ChildProcess(executable: ProcessFleet.prismPath, arguments: [
            "gateway", "--listen", "127.0.0.1:0", "--broker", fleet.frontend, "--log-level", "error"] + extra)
        gateways.append(gateway)
        let line = try gateway.waitForLine(containing: "prism gateway ready")
        guard let listen = line.split(separator: " ").first(where: { $0.hasPrefix("listen=") }) else { throw BenchError.notReady(line) }
        let base = "http://\(listen.dropFirst(7))"
        for _ in 0..<100 {
            let (status, body, _) = try await send("GET", base + "/v1/health")
            let text = String(decoding: body, as: UTF8.self)
            if status == 200, ["echo", "sleep", "prism.explain"].allSatisfy({ text.contains("\"\($0)\"") }),
               (try? HealthReply(jsonUTF8Bytes: body))?.services.allSatisfy({ $0.workers > 0 }) == true {
                return base
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError.notReady("the gateway's health never showed every worker")
    }

    func send(_ method: String, _ url: String, body: [UInt8]? = nil, headers: [(String, String)] = []) async throws
        -> (status: Int, body: [UInt8], headers: [(String, String)]) {
        try await Self.send(http, method, url, body: body, headers: headers)
    }

    static func send(_ http: HTTPClient, _ method: String, _ url: String, body: [UInt8]? = nil, headers: [(String, String)] = []) async throws
        -> (status: Int, body: [UInt8], headers: [(String, String)]) {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await http.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 8 << 20)
        return (Int(response.status.code), Array(bytes.readableBytesView), response.headers.map { ($0.name, $0.value) })
    }

    func errorStatus(_ body: [UInt8]) -> String? {
        ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: [String: Any]])?["error"]?["status"] as? String
    }

    func testExplainOverHTTPMatchesTheZeroMQClient() async throws {
        let base = try await startGateway()
        let json = #"{"userId": "u1", "historyItemIds": ["m0", "m1"], "itemId": "m2", "ranking": {"ranker": "als", "rank": 3, "score": 0.25}}"#
        let (status, body, headers) = try await send("POST", base + "/v1/explain", body: Array(json.utf8),
                                                     headers: [("Content-Type", "application/json")])
        XCTAssertEqual(status, 200, String(decoding: body, as: UTF8.self))
        XCTAssertTrue(headers.contains { $0.0.lowercased() == "content-type" && $0.1 == "application/json" })
        XCTAssertTrue(headers.contains { $0.0.lowercased() == "prism-request-id" && !$0.1.isEmpty })
        let overHTTP = try ExplainReply(jsonUTF8Bytes: body)

        // The same request through the ZeroMQ client: the same explanation and verdict.
        let client = try PrismClient(configuration: ClientConfiguration(broker: fleet.frontend))
        let request = try ExplainRequest(jsonString: json)
        let direct = try ExplainReply(serializedBytes: try await client.call(service: "prism.explain", body: try request.serializedData()).body)
        await client.close()
        XCTAssertFalse(direct.explanation.isEmpty)
        XCTAssertEqual(overHTTP.explanation, direct.explanation)
        XCTAssertEqual(overHTTP.grounding, direct.grounding)
        XCTAssertEqual(overHTTP.modelID, direct.modelID)
        XCTAssertEqual(overHTTP.ranking.ranker, "als", "the ranking is echoed")
        XCTAssertEqual(overHTTP.ranking.rank, 3)
    }

    func testBadRequestsGetClearStatusesAndTheGatewayKeepsServing() async throws {
        let base = try await startGateway(["--max-body-bytes", "4096"])
        for (body, why) in [("{", "malformed JSON"), (#"{"userId": 7}"#, "a wrong type"), (#"{"nope": 1}"#, "an unknown field"), ("", "no body")] {
            let (status, reply, _) = try await send("POST", base + "/v1/explain", body: Array(body.utf8))
            XCTAssertEqual(status, 400, why)
            XCTAssertEqual(errorStatus(reply), "INVALID_ARGUMENT", why)
        }
        let invalidUTF8 = try await send("POST", base + "/v1/explain", body: [0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D])
        XCTAssertEqual(invalidUTF8.status, 400)
        // The worker's own refusal (an item its catalog lacks) comes back with its status and message.
        let unknown = try await send("POST", base + "/v1/explain", body: Array(#"{"userId": "u1", "itemId": "no-such-item"}"#.utf8))
        XCTAssertEqual(unknown.status, 400)
        XCTAssertTrue(String(decoding: unknown.body, as: UTF8.self).contains("no-such-item"))
        let huge = try await send("POST", base + "/v1/services/echo:call", body: [UInt8](repeating: 0x61, count: 100_000))
        XCTAssertEqual(huge.status, 413)
        let status1 = try await send("GET", base + "/v1/nothing-here").status
        XCTAssertEqual(status1, 404)
        let status2 = try await send("GET", base + "/v1/explain").status
        XCTAssertEqual(status2, 405)
        let nobody = try await send("POST", base + "/v1/services/nobody:call", body: Array("x".utf8))
        XCTAssertEqual(nobody.status, 503)
        XCTAssertTrue(nobody.headers.contains { $0.0.lowercased() == "retry-after" && $0.1 == "1" })
        XCTAssertEqual(errorStatus(nobody.body), "UNAVAILABLE")

        let echo = try await send("POST", base + "/v1/services/echo:call", body: Array("still here".utf8))
        XCTAssertEqual(echo.status, 200)
        XCTAssertEqual(String(decoding: echo.body, as: UTF8.self), "still here")
    }

    func testDeadlineHeaderAndOverload() async throws {
        let base = try await startGateway(["--max-in-flight", "1"])
        let started = Date()
        let late = try await send("POST", base + "/v1/services/sleep:call", body: Array("z".utf8), headers: [("Prism-Timeout-Ms", "200")])
        XCTAssertEqual(late.status, 504)
        XCTAssertEqual(errorStatus(late.body), "DEADLINE_EXCEEDED")
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.9, "answered at the deadline, not when the worker finished")
        let status3 = try await send("POST", base + "/v1/services/echo:call", body: [1], headers: [("Prism-Timeout-Ms", "soon")]).status
        XCTAssertEqual(status3, 400)

        // One call in flight (the sleep worker holds it for a second): the next gets 429 with Retry-After.
        let http: HTTPClient = self.http
        async let first = Self.send(http, "POST", base + "/v1/services/sleep:call", body: Array("a".utf8))
        try await Task.sleep(for: .milliseconds(300))
        let second = try await send("POST", base + "/v1/services/echo:call", body: Array("b".utf8))
        XCTAssertEqual(second.status, 429)
        XCTAssertTrue(second.headers.contains { $0.0.lowercased() == "retry-after" && $0.1 == "1" })
        let status4 = try await first.status
        XCTAssertEqual(status4, 200)
        let status5 = try await send("POST", base + "/v1/services/echo:call", body: Array("c".utf8)).status
        XCTAssertEqual(status5, 200)

        let metrics = String(decoding: try await send("GET", base + "/metrics").body, as: UTF8.self)
        XCTAssertTrue(metrics.contains(#"prism_gateway_requests_total{route="call",status="429"} 1"#), metrics)
        XCTAssertTrue(metrics.contains(#"prism_gateway_requests_total{route="call",status="504"} 1"#), metrics)
    }

    /// A client that sends half a request and stalls is cut off after the read timeout; a connection
    /// flood beyond the limit is refused; neither stops the gateway.
    func testSlowAndGreedyClientsAreCutOff() async throws {
        let base = try await startGateway(["--read-timeout-ms", "400", "--max-connections", "4"])
        let port = Int(base.split(separator: ":").last ?? "") ?? 0
        let slow = try LoopbackSocket(port: port, receiveTimeout: 5)
        slow.send("POST /v1/services/echo:call HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a part")
        let started = Date()
        let (_, closed) = slow.readToEnd()
        XCTAssertTrue(closed, "the gateway closes a stalled request")
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)

        let idle = (0..<6).compactMap { _ in try? LoopbackSocket(port: port, retries: 1, receiveTimeout: 2) }
        var refused = 0
        for socket in idle {
            socket.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            let (bytes, _) = socket.readToEnd()
            if bytes.isEmpty { refused += 1 }
        }
        XCTAssertGreaterThanOrEqual(refused, 2, "connections beyond --max-connections are closed unanswered")
        try await Task.sleep(for: .milliseconds(600))  // the idle ones time out and free their slots
        let status6 = try await send("POST", base + "/v1/services/echo:call", body: Array("ok".utf8)).status
        XCTAssertEqual(status6, 200)
    }
}
