import ZeroMQ

/// The ZeroMQ Authentication Protocol (ZAP, RFC 27) as a pure function: libzmq asks, during each
/// CURVE handshake, on `inproc://zeromq.zap.01`; the answer admits the key or refuses it. The
/// user id of an admitted connection is its Z85 public key: libzmq attaches it to every message
/// that connection sends (`Socket.receiveAuthenticated`), which is how the broker scopes and
/// authorizes requests.
public enum ZAP {
    public static let endpoint = "inproc://zeromq.zap.01"

    /// A parsed ZAP request.
    public struct Request: Equatable, Sendable {
        public var requestID: [UInt8]
        public var domain: String
        public var address: String
        public var mechanism: String
        /// The client's public key in Z85 (CURVE only).
        public var publicKey: String?
    }

    /// Parses a request's frames; nil when they are not ZAP 1.0.
    public static func parse(_ frames: [[UInt8]]) -> Request? {
        guard frames.count >= 6, frames[0] == Array("1.0".utf8) else { return nil }
        let mechanism = String(decoding: frames[5], as: UTF8.self)
        var key: String?
        if mechanism == "CURVE", frames.count >= 7 { key = try? Z85.encode(key: frames[6]) }
        return Request(requestID: frames[1], domain: String(decoding: frames[2], as: UTF8.self),
                       address: String(decoding: frames[3], as: UTF8.self), mechanism: mechanism, publicKey: key)
    }

    /// The reply frames for `request` under `policy`: 200 with the key as user id, or 400.
    public static func answer(_ request: Request, policy: AccessPolicy) -> (frames: [[UInt8]], admitted: Bool) {
        guard request.mechanism == "CURVE", let key = request.publicKey else {
            return (reply(request.requestID, status: "400", text: "CURVE is required", userID: ""), false)
        }
        guard policy.admits(key, domain: request.domain) else {
            return (reply(request.requestID, status: "400", text: "key not allowed", userID: ""), false)
        }
        return (reply(request.requestID, status: "200", text: "OK", userID: key), true)
    }

    /// The answer to frames that are not a ZAP request (libzmq never sends those; anything else on
    /// the endpoint is refused).
    public static func malformed() -> [[UInt8]] { reply([], status: "500", text: "malformed ZAP request", userID: "") }

    static func reply(_ id: [UInt8], status: String, text: String, userID: String) -> [[UInt8]] {
        [Array("1.0".utf8), id, Array(status.utf8), Array(text.utf8), Array(userID.utf8), []]
    }
}
