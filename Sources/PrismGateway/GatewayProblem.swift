import Foundation
import PrismWire

/// Everything the gateway answers other than a success: an HTTP status, the fleet's status name, a
/// message, and the request id when the fleet saw the request. One error type for the module.
public struct GatewayProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public var httpStatus: Int
    /// The gRPC-style status name (`INVALID_ARGUMENT`, `DEADLINE_EXCEEDED`…), the same names the fleet uses.
    public var status: String
    public var message: String
    public var requestID: String?
    /// Seconds for a `Retry-After` header (overload and unavailability).
    public var retryAfterSeconds: Int?

    public init(httpStatus: Int, status: String, message: String, requestID: String? = nil, retryAfterSeconds: Int? = nil) {
        self.httpStatus = httpStatus
        self.status = status
        self.message = message
        self.requestID = requestID
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// A problem for a fleet status: the HTTP status and `Retry-After` from `HTTPMapping`.
    public init(code: StatusCode, message: String, requestID: String? = nil) {
        self.init(httpStatus: HTTPMapping.httpStatus(for: code), status: code.name, message: message,
                  requestID: requestID, retryAfterSeconds: HTTPMapping.retryAfterSeconds(for: code))
    }

    public static func invalid(_ message: String) -> GatewayProblem { GatewayProblem(code: .invalidArgument, message: message) }

    public var description: String { "\(httpStatus) \(status): \(message)" }

    /// `{"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "…", "requestId": "…"}}`: the
    /// Google API error shape, which HTTP clients of gRPC-style services already parse.
    public var jsonBody: [UInt8] {
        var error: [String: Any] = ["code": httpStatus, "status": status, "message": message]
        if let requestID { error["requestId"] = requestID }
        let data = (try? JSONSerialization.data(withJSONObject: ["error": error], options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Array(data) + [0x0A]
    }
}

/// The fleet's status codes as HTTP statuses, as gRPC-HTTP gateways map them (grpc-gateway's table).
public enum HTTPMapping {
    public static func httpStatus(for code: StatusCode) -> Int {
        switch code {
        case .ok: return 200
        case .invalidArgument, .failedPrecondition, .outOfRange: return 400
        case .unauthenticated: return 401
        case .permissionDenied: return 403
        case .notFound: return 404
        case .alreadyExists, .aborted: return 409
        case .resourceExhausted: return 429
        case .cancelled: return 499
        case .unimplemented: return 501
        case .unavailable: return 503
        case .deadlineExceeded: return 504
        case .internal, .dataLoss, .unknown, .UNRECOGNIZED: return 500
        }
    }

    /// Overload and unavailability tell the caller when to come back.
    public static func retryAfterSeconds(for code: StatusCode) -> Int? {
        code == .resourceExhausted || code == .unavailable ? 1 : nil
    }
}
