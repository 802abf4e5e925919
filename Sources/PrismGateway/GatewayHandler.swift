import Foundation
import Metrics
import NIOCore
import NIOHTTP1
import Prometheus
import PrismClient
import PrismWire
import Synchronization

/// A response ready to write: status, headers, body.
struct GatewayResponse: Sendable {
    var status: Int
    var contentType: String
    var body: [UInt8]
    var headers: [(String, String)] = []
    var version: HTTPVersion

    static func problem(_ problem: GatewayProblem, version: HTTPVersion) -> GatewayResponse {
        var headers: [(String, String)] = []
        if let seconds = problem.retryAfterSeconds { headers.append(("Retry-After", "\(seconds)")) }
        if let id = problem.requestID { headers.append(("Prism-Request-Id", id)) }
        return GatewayResponse(status: problem.httpStatus, contentType: "application/json", body: problem.jsonBody,
                               headers: headers, version: version)
    }

    func write(to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, keepAlive: Bool) async throws {
        var head = HTTPHeaders()
        head.add(name: "Content-Type", value: contentType)
        head.add(name: "Content-Length", value: "\(body.count)")
        for (name, value) in headers { head.add(name: name, value: value) }
        if !keepAlive { head.add(name: "Connection", value: "close") }
        try await outbound.write(.head(HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: head)))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
        try await outbound.write(.end(nil))
    }
}

/// Turns a routed request into a call on the fleet and its reply into HTTP.
final class GatewayHandler: Sendable {
    let client: PrismClient
    let registry: PrometheusCollectorRegistry
    let router: GatewayRouter
    let maxInFlight: Int
    let inFlight = Atomic<Int>(0)
    let metrics = GatewayMetrics()

    init(client: PrismClient, registry: PrometheusCollectorRegistry, configuration: GatewayConfiguration) {
        self.client = client
        self.registry = registry
        self.router = configuration.router
        self.maxInFlight = configuration.maxInFlight
    }

    func respond(head: HTTPRequestHead, body: [UInt8]) async -> GatewayResponse {
        let started = ContinuousClock.now
        let route: GatewayRoute
        switch router.route(method: head.method.rawValue, uri: head.uri) {
        case .success(let r): route = r
        case .failure(let problem):
            metrics.answered(route: "none", status: problem.httpStatus, since: started)
            return .problem(problem, version: head.version)
        }
        let response: GatewayResponse
        switch await answer(route, head: head, body: body) {
        case .success(let r): response = r
        case .failure(let problem): response = .problem(problem, version: head.version)
        }
        metrics.answered(route: route.name, status: response.status, since: started)
        return response
    }

    private func answer(_ route: GatewayRoute, head: HTTPRequestHead, body: [UInt8]) async -> Result<GatewayResponse, GatewayProblem> {
        switch route {
        case .metrics:
            return .success(GatewayResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                            body: registry.emitToBuffer(), version: head.version))
        case .health(let service):
            guard let health = await client.health(service: service) else {
                return .failure(GatewayProblem(code: .unavailable, message: "the broker did not answer"))
            }
            return .success(GatewayResponse(status: 200, contentType: "application/json", body: GatewayRouter.json(health), version: head.version))
        case .explain(let service):
            let request: ExplainRequest
            switch GatewayRouter.explainRequest(json: body) {
            case .success(let r): request = r
            case .failure(let problem): return .failure(problem)
            }
            let bytes: Data
            do { bytes = try request.serializedData() } catch {
                return .failure(GatewayProblem(code: .internal, message: "cannot encode the request: \(error)"))
            }
            return await call(service: service, body: bytes, head: head).flatMap { result in
                guard let reply = try? ExplainReply(serializedBytes: result.body) else {
                    return .failure(GatewayProblem(code: .internal, message: "the worker's reply is not an ExplainReply", requestID: result.requestID))
                }
                return .success(GatewayResponse(status: 200, contentType: "application/json", body: GatewayRouter.json(reply),
                                                headers: Self.replyHeaders(result), version: head.version))
            }
        case .call(let service):
            return await call(service: service, body: Data(body), head: head).map { result in
                GatewayResponse(status: 200, contentType: "application/octet-stream", body: Array(result.body),
                                headers: Self.replyHeaders(result), version: head.version)
            }
        }
    }

    /// One call to the fleet under the in-flight bound and the request's deadline.
    private func call(service: String, body: Data, head: HTTPRequestHead) async -> Result<CallResult, GatewayProblem> {
        let timeout: Int64
        switch router.timeoutMs(header: head.headers.first(name: GatewayRouter.timeoutHeader)) {
        case .success(let ms): timeout = ms
        case .failure(let problem): return .failure(problem)
        }
        guard inFlight.add(1, ordering: .relaxed).newValue <= maxInFlight else {
            inFlight.subtract(1, ordering: .relaxed)
            return .failure(GatewayProblem(code: .resourceExhausted, message: "the gateway has \(maxInFlight) calls in flight"))
        }
        defer { inFlight.subtract(1, ordering: .relaxed) }
        do {
            return .success(try await client.call(service: service, body: body, timeoutMs: timeout))
        } catch {
            switch error {
            case .status(let code, let message, let id): return .failure(GatewayProblem(code: code, message: message, requestID: id))
            case .closed: return .failure(GatewayProblem(code: .unavailable, message: "the gateway is shutting down"))
            case .socket(let text): return .failure(GatewayProblem(code: .unavailable, message: text))
            }
        }
    }

    static func replyHeaders(_ result: CallResult) -> [(String, String)] {
        [("Prism-Request-Id", result.requestID), ("Prism-Worker-Id", result.workerID)]
    }
}

/// `prism_gateway_requests_total{route, status}` and the answer latency. Routes are a fixed set and
/// statuses are HTTP codes, so the label space is bounded whatever clients send.
final class GatewayMetrics: Sendable {
    private let latency = Metrics.Timer(label: "prism_gateway_request_duration_seconds", preferredDisplayUnit: .seconds)
    private let counters = Mutex<[String: Metrics.Counter]>([:])

    func answered(route: String, status: Int, since started: ContinuousClock.Instant) {
        let key = "\(route) \(status)"
        let counter = counters.withLock { table in
            if let known = table[key] { return known }
            let made = Metrics.Counter(label: "prism_gateway_requests_total", dimensions: [("route", route), ("status", "\(status)")])
            table[key] = made
            return made
        }
        counter.increment()
        let elapsed = (ContinuousClock.now - started).components
        latency.recordNanoseconds(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
    }
}
