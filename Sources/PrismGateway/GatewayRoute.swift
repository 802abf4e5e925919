import Foundation
import PrismWire
import SwiftProtobuf

/// What an HTTP request asks of the fleet. Decided from the method and the URI alone, without I/O.
public enum GatewayRoute: Equatable, Sendable {
    /// `POST /v1/explain[?service=prism.explain…]`: a JSON `ExplainRequest`, a JSON `ExplainReply`.
    case explain(service: String)
    /// `POST /v1/services/SERVICE:call`: the body as is to any service, its reply body as is.
    case call(service: String)
    /// `GET /v1/health[?service=…]`: the broker's view of its services as JSON.
    case health(service: String)
    /// `GET /metrics`: the gateway's Prometheus metrics.
    case metrics

    /// A short fixed name for logs and metric labels (never a client-chosen string).
    public var name: String {
        switch self {
        case .explain: return "explain"
        case .call: return "call"
        case .health: return "health"
        case .metrics: return "metrics"
        }
    }

    /// Whether the route reads a request body.
    public var hasBody: Bool {
        switch self {
        case .explain, .call: return true
        case .health, .metrics: return false
        }
    }
}

/// Routing and the request-side rules of the gateway: paths, the deadline header, JSON bodies.
public struct GatewayRouter: Sendable {
    /// The service `POST /v1/explain` calls unless `?service=` names another `prism.explain…` service.
    public var explainService: String
    /// Calls without a deadline header get this one; a header may ask for at most `maxTimeoutMs`.
    public var defaultTimeoutMs: Int64
    public var maxTimeoutMs: Int64
    /// The header that carries a call's deadline in milliseconds.
    public static let timeoutHeader = "prism-timeout-ms"
    static let maxServiceNameBytes = 256

    public init(explainService: String = "prism.explain", defaultTimeoutMs: Int64 = 30_000, maxTimeoutMs: Int64 = 300_000) {
        self.explainService = explainService
        self.defaultTimeoutMs = defaultTimeoutMs
        self.maxTimeoutMs = maxTimeoutMs
    }

    public func route(method: String, uri: String) -> Result<GatewayRoute, GatewayProblem> {
        let (path, query) = Self.split(uri)
        switch (method, path) {
        case ("POST", "/v1/explain"):
            let service = query["service"] ?? explainService
            guard service.hasPrefix("prism.explain"), service.utf8.count <= Self.maxServiceNameBytes else {
                return .failure(.invalid("?service= must name a prism.explain service, got '\(service.prefix(64))'"))
            }
            return .success(.explain(service: service))
        case ("GET", "/v1/health"):
            return .success(.health(service: query["service"] ?? ""))
        case ("GET", "/metrics"):
            return .success(.metrics)
        case (_, "/v1/explain"), (_, "/v1/health"), (_, "/metrics"):
            return .failure(GatewayProblem(httpStatus: 405, status: "UNIMPLEMENTED", message: "\(method) is not allowed on \(path)"))
        default:
            break
        }
        let prefix = "/v1/services/", suffix = ":call"
        if path.hasPrefix(prefix), path.hasSuffix(suffix), path.count > prefix.count + suffix.count {
            let service = String(path.dropFirst(prefix.count).dropLast(suffix.count))
            guard method == "POST" else {
                return .failure(GatewayProblem(httpStatus: 405, status: "UNIMPLEMENTED", message: "\(method) is not allowed on \(path)"))
            }
            guard service.utf8.count <= Self.maxServiceNameBytes, !service.contains("/") else {
                return .failure(.invalid("bad service name in \(path.prefix(80))"))
            }
            return .success(.call(service: service))
        }
        return .failure(GatewayProblem(httpStatus: 404, status: "NOT_FOUND", message: "no route for \(method) \(path.prefix(200))"))
    }

    /// The call's deadline: the header's milliseconds (1…maxTimeoutMs), else the default.
    public func timeoutMs(header value: String?) -> Result<Int64, GatewayProblem> {
        guard let value else { return .success(defaultTimeoutMs) }
        guard let ms = Int64(value.trimmingCharacters(in: .whitespaces)), ms > 0 else {
            return .failure(.invalid("\(Self.timeoutHeader) must be a positive number of milliseconds, got '\(value.prefix(32))'"))
        }
        return .success(min(ms, maxTimeoutMs))
    }

    /// The JSON body of `POST /v1/explain` as an `ExplainRequest` (the protobuf JSON mapping: field names
    /// in lowerCamelCase or as in the .proto; unknown fields and wrong types are errors).
    public static func explainRequest(json body: [UInt8]) -> Result<ExplainRequest, GatewayProblem> {
        guard !body.isEmpty else { return .failure(.invalid("the body is empty: send a JSON ExplainRequest")) }
        guard String(validating: body, as: UTF8.self) != nil else { return .failure(.invalid("the body is not valid UTF-8")) }
        do {
            return .success(try ExplainRequest(jsonUTF8Bytes: body))
        } catch {
            return .failure(.invalid("the body is not a JSON ExplainRequest (\(error)); its fields are in docs/openapi.yaml"))
        }
    }

    /// A reply message as JSON (the protobuf JSON mapping: lowerCamelCase names; fields at their zero value
    /// are left out, as proto3 JSON does), map entries in a stable order.
    public static func json(_ message: some SwiftProtobuf.Message) -> [UInt8] {
        var options = JSONEncodingOptions()
        options.useDeterministicOrdering = true
        return ((try? message.jsonUTF8Bytes(options: options)) ?? Array("{}".utf8)) + [0x0A]
    }

    /// Path and decoded query parameters of a request URI.
    static func split(_ uri: String) -> (path: String, query: [String: String]) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ") }
            guard let key = parts.first?.removingPercentEncoding else { continue }
            query[key] = parts.count > 1 ? (parts[1].removingPercentEncoding ?? parts[1]) : ""
        }
        return (String(uri[..<mark]), query)
    }
}
