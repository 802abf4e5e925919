import Foundation
import PrismGateway
import PrismWire
import XCTest

/// The gateway's request-side rules, without sockets: routes, the deadline header, JSON bodies, the
/// status table and the error body.
final class GatewayRouteTests: XCTestCase {
    let router = GatewayRouter(explainService: "prism.explain", defaultTimeoutMs: 30_000, maxTimeoutMs: 60_000)

    func route(_ method: String, _ uri: String) -> GatewayRoute? { try? router.route(method: method, uri: uri).get() }
    func problem(_ method: String, _ uri: String) -> GatewayProblem? {
        if case .failure(let p) = router.route(method: method, uri: uri) { return p }
        return nil
    }

    func testRoutes() {
        XCTAssertEqual(route("POST", "/v1/explain"), .explain(service: "prism.explain"))
        XCTAssertEqual(route("POST", "/v1/explain?service=prism.explain.nouser"), .explain(service: "prism.explain.nouser"))
        XCTAssertEqual(route("POST", "/v1/explain?x=1&service=prism.explain%2Eb"), .explain(service: "prism.explain.b"))
        XCTAssertEqual(route("POST", "/v1/services/echo:call"), .call(service: "echo"))
        XCTAssertEqual(route("POST", "/v1/services/prism.explain:call"), .call(service: "prism.explain"))
        XCTAssertEqual(route("GET", "/v1/health"), .health(service: ""))
        XCTAssertEqual(route("GET", "/v1/health?service=echo"), .health(service: "echo"))
        XCTAssertEqual(route("GET", "/metrics"), .metrics)
    }

    func testRefusals() {
        XCTAssertEqual(problem("GET", "/v1/explain")?.httpStatus, 405)
        XCTAssertEqual(problem("DELETE", "/metrics")?.httpStatus, 405)
        XCTAssertEqual(problem("GET", "/v1/services/echo:call")?.httpStatus, 405)
        XCTAssertEqual(problem("GET", "/nope")?.httpStatus, 404)
        XCTAssertEqual(problem("POST", "/v1/services/:call")?.httpStatus, 404)
        XCTAssertEqual(problem("POST", "/v1/services/a/b:call")?.httpStatus, 400)
        XCTAssertEqual(problem("POST", "/v1/services/\(String(repeating: "x", count: 300)):call")?.httpStatus, 400)
        // /v1/explain only reaches explanation services: it is not a way around the :call route's body rules.
        let other = problem("POST", "/v1/explain?service=teacher")
        XCTAssertEqual(other?.httpStatus, 400)
        XCTAssertEqual(other?.status, "INVALID_ARGUMENT")
    }

    func testDeadlineHeader() {
        XCTAssertEqual(try router.timeoutMs(header: nil).get(), 30_000)
        XCTAssertEqual(try router.timeoutMs(header: "250").get(), 250)
        XCTAssertEqual(try router.timeoutMs(header: " 900 ").get(), 900)
        XCTAssertEqual(try router.timeoutMs(header: "999999999").get(), 60_000, "clamped to the maximum")
        for bad in ["0", "-5", "soon", "", "1.5"] {
            guard case .failure(let p) = router.timeoutMs(header: bad) else { return XCTFail("accepted '\(bad)'") }
            XCTAssertEqual(p.httpStatus, 400, bad)
        }
    }

    func testExplainBodies() throws {
        let camel = try GatewayRouter.explainRequest(json: Array(#"{"userId": "7", "historyItemIds": ["m1", "m2"], "itemId": "m3", "maxNewTokens": 20, "ranking": {"ranker": "als", "rank": 1, "score": 0.5}}"#.utf8)).get()
        XCTAssertEqual(camel.userID, "7")
        XCTAssertEqual(camel.historyItemIds, ["m1", "m2"])
        XCTAssertEqual(camel.itemID, "m3")
        XCTAssertEqual(camel.maxNewTokens, 20)
        XCTAssertEqual(camel.ranking.ranker, "als")
        let snake = try GatewayRouter.explainRequest(json: Array(#"{"user_id": "7", "history_item_ids": ["m1", "m2"], "item_id": "m3", "max_new_tokens": 20, "ranking": {"ranker": "als", "rank": 1, "score": 0.5}}"#.utf8)).get()
        XCTAssertEqual(camel, snake, "the .proto's names are accepted too")
        let inline = try GatewayRouter.explainRequest(json: Array(#"{"item": {"itemId": "x", "title": "Heat", "year": 1995, "genres": ["Crime"]}}"#.utf8)).get()
        XCTAssertEqual(inline.item.title, "Heat")
        XCTAssertEqual(inline.item.genres, ["Crime"])

        for (body, why) in [
            (Array("".utf8), "empty"),
            (Array("{".utf8), "truncated"),
            (Array("[1, 2]".utf8), "not an object"),
            (Array(#"{"userId": 7}"#.utf8), "a number for a string"),
            (Array(#"{"historyItemIds": "m1"}"#.utf8), "a string for a list"),
            (Array(#"{"maxNewTokens": -1}"#.utf8), "negative for unsigned"),
            (Array(#"{"userId": "7", "favouriteColour": "red"}"#.utf8), "unknown field"),
            ([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], "invalid UTF-8"),
        ] {
            guard case .failure(let p) = GatewayRouter.explainRequest(json: body) else { XCTFail("accepted: \(why)"); continue }
            XCTAssertEqual(p.httpStatus, 400, why)
            XCTAssertEqual(p.status, "INVALID_ARGUMENT", why)
        }
    }

    func testReplyJSONIsTheProtobufMapping() throws {
        var reply = ExplainReply()
        reply.explanation = "Heat is a crime film."
        reply.modelID = "student@1"
        let json = try JSONSerialization.jsonObject(with: Data(GatewayRouter.json(reply))) as? [String: Any]
        XCTAssertEqual(json?["explanation"] as? String, "Heat is a crime film.")
        XCTAssertEqual(json?["modelId"] as? String, "student@1")
        XCTAssertEqual(try ExplainReply(jsonUTF8Bytes: GatewayRouter.json(reply)), reply, "round trip")
    }

    func testStatusTable() {
        let expected: [(StatusCode, Int)] = [
            (.ok, 200), (.invalidArgument, 400), (.notFound, 404), (.resourceExhausted, 429), (.deadlineExceeded, 504),
            (.unavailable, 503), (.unauthenticated, 401), (.permissionDenied, 403), (.cancelled, 499), (.internal, 500),
            (.unimplemented, 501), (.failedPrecondition, 400), (.alreadyExists, 409), (.unknown, 500),
        ]
        for (code, http) in expected { XCTAssertEqual(HTTPMapping.httpStatus(for: code), http, code.name) }
        XCTAssertEqual(HTTPMapping.retryAfterSeconds(for: .resourceExhausted), 1)
        XCTAssertEqual(HTTPMapping.retryAfterSeconds(for: .unavailable), 1)
        XCTAssertNil(HTTPMapping.retryAfterSeconds(for: .invalidArgument))
    }

    func testErrorBody() throws {
        let p = GatewayProblem(code: .deadlineExceeded, message: "no reply \"soon\"", requestID: "r-1")
        let json = try JSONSerialization.jsonObject(with: Data(p.jsonBody)) as? [String: [String: Any]]
        XCTAssertEqual(json?["error"]?["code"] as? Int, 504)
        XCTAssertEqual(json?["error"]?["status"] as? String, "DEADLINE_EXCEEDED")
        XCTAssertEqual(json?["error"]?["message"] as? String, "no reply \"soon\"")
        XCTAssertEqual(json?["error"]?["requestId"] as? String, "r-1")
        XCTAssertNil(p.retryAfterSeconds)
    }
}
