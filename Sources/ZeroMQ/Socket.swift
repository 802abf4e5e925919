import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The libzmq socket types this project uses.
public enum SocketType: Sendable {
    case router, dealer, pair, push, pull, req, rep

    var raw: Int32 {
        switch self {
        case .router: return ZMQ_ROUTER
        case .dealer: return ZMQ_DEALER
        case .pair: return ZMQ_PAIR
        case .push: return ZMQ_PUSH
        case .pull: return ZMQ_PULL
        case .req: return ZMQ_REQ
        case .rep: return ZMQ_REP
        }
    }
}

/// One libzmq socket. Not thread-safe and not `Sendable`: it stays on the thread that made it.
///
/// Defaults differ from libzmq's in one place: LINGER is a short, bounded 200 ms (0 can drop the
/// last reply on close; libzmq's default of forever hangs shutdown). Routers are made with
/// ROUTER_MANDATORY so that a send to a vanished peer fails loudly instead of silently.
public final class Socket {
    public let type: SocketType
    private var handle: UnsafeMutableRawPointer?
    private let context: Context  // keeps the context alive while the socket is open

    /// The default LINGER, in milliseconds.
    public static let defaultLingerMs: Int32 = 200

    init(context: Context, type: SocketType) throws(ZeroMQError) {
        guard let handle = zmq_socket(context.handle, type.raw) else { throw ZeroMQError.last("zmq_socket") }
        self.handle = handle
        self.type = type
        self.context = context
        try setOption(ZMQ_LINGER, Socket.defaultLingerMs, "ZMQ_LINGER")
        if type == .router { try setOption(ZMQ_ROUTER_MANDATORY, 1, "ZMQ_ROUTER_MANDATORY") }
    }

    deinit { close() }

    /// Closes the socket (idempotent). Pending outgoing messages get LINGER time to leave.
    public func close() {
        if let handle {
            zmq_close(handle)
            self.handle = nil
        }
    }

    var raw: UnsafeMutableRawPointer? { handle }

    func open(_ operation: String) throws(ZeroMQError) -> UnsafeMutableRawPointer {
        guard let handle else {
            throw ZeroMQError.call(operation: operation, errno: ENOTSOCK, message: "socket is closed")
        }
        return handle
    }

    // MARK: Endpoints

    public func bind(_ endpoint: String) throws(ZeroMQError) {
        let h = try open("zmq_bind")
        if zmq_bind(h, endpoint) != 0 { throw ZeroMQError.last("zmq_bind(\(endpoint))") }
    }

    public func connect(_ endpoint: String) throws(ZeroMQError) {
        let h = try open("zmq_connect")
        if zmq_connect(h, endpoint) != 0 { throw ZeroMQError.last("zmq_connect(\(endpoint))") }
    }

    public func disconnect(_ endpoint: String) throws(ZeroMQError) {
        let h = try open("zmq_disconnect")
        if zmq_disconnect(h, endpoint) != 0 { throw ZeroMQError.last("zmq_disconnect(\(endpoint))") }
    }

    /// The endpoint last bound, with a wildcard port resolved (`tcp://127.0.0.1:*` → the real port).
    public func lastEndpoint() throws(ZeroMQError) -> String {
        let h = try open("zmq_getsockopt")
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        if zmq_getsockopt(h, ZMQ_LAST_ENDPOINT, &buffer, &size) != 0 {
            throw ZeroMQError.last("zmq_getsockopt(ZMQ_LAST_ENDPOINT)")
        }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    // MARK: Options

    func setOption(_ option: Int32, _ value: Int32, _ name: String) throws(ZeroMQError) {
        let h = try open("zmq_setsockopt")
        var v = value
        if zmq_setsockopt(h, option, &v, MemoryLayout<Int32>.size) != 0 { throw ZeroMQError.last("zmq_setsockopt(\(name))") }
    }

    func setOption64(_ option: Int32, _ value: Int64, _ name: String) throws(ZeroMQError) {
        let h = try open("zmq_setsockopt")
        var v = value
        if zmq_setsockopt(h, option, &v, MemoryLayout<Int64>.size) != 0 { throw ZeroMQError.last("zmq_setsockopt(\(name))") }
    }

    /// LINGER in milliseconds (-1 forever, 0 drop at once).
    public func setLinger(milliseconds: Int32) throws(ZeroMQError) { try setOption(ZMQ_LINGER, milliseconds, "ZMQ_LINGER") }

    /// The identity a ROUTER peer sees for this socket; set before connecting.
    public func setRoutingID(_ id: [UInt8]) throws(ZeroMQError) {
        guard !id.isEmpty, id.count <= 255, id[0] != 0 else {
            throw ZeroMQError.invalidArgument("a routing id has 1-255 bytes and must not start with a zero byte")
        }
        let h = try open("zmq_setsockopt")
        if zmq_setsockopt(h, ZMQ_ROUTING_ID, id, id.count) != 0 { throw ZeroMQError.last("zmq_setsockopt(ZMQ_ROUTING_ID)") }
    }

    /// ROUTER: a peer that connects with a routing id already in use takes it over (the old
    /// connection's pipe is dropped) instead of being refused; a client reconnecting before the old
    /// connection timed out keeps its identity.
    public func setRouterHandover(_ on: Bool) throws(ZeroMQError) {
        try setOption(ZMQ_ROUTER_HANDOVER, Int32(on ? 1 : 0), "ZMQ_ROUTER_HANDOVER")
    }

    /// High-water marks (messages queued per peer before sends block or drop).
    public func setHighWaterMarks(send: Int32, receive: Int32) throws(ZeroMQError) {
        try setOption(ZMQ_SNDHWM, send, "ZMQ_SNDHWM")
        try setOption(ZMQ_RCVHWM, receive, "ZMQ_RCVHWM")
    }

    /// Peers sending a single frame larger than this are disconnected by libzmq (-1: no limit).
    public func setMaxMessageSize(_ bytes: Int64) throws(ZeroMQError) { try setOption64(ZMQ_MAXMSGSIZE, bytes, "ZMQ_MAXMSGSIZE") }

    /// Reconnect back-off: first interval and cap, in milliseconds.
    public func setReconnectInterval(milliseconds: Int32, max: Int32) throws(ZeroMQError) {
        try setOption(ZMQ_RECONNECT_IVL, milliseconds, "ZMQ_RECONNECT_IVL")
        try setOption(ZMQ_RECONNECT_IVL_MAX, max, "ZMQ_RECONNECT_IVL_MAX")
    }

    /// Queue messages only to completed connections (DEALER/PUSH).
    public func setImmediate(_ on: Bool) throws(ZeroMQError) { try setOption(ZMQ_IMMEDIATE, on ? 1 : 0, "ZMQ_IMMEDIATE") }

    /// Timeout of blocking sends in milliseconds (-1 forever).
    public func setSendTimeout(milliseconds: Int32) throws(ZeroMQError) { try setOption(ZMQ_SNDTIMEO, milliseconds, "ZMQ_SNDTIMEO") }

    /// Timeout of blocking receives in milliseconds (-1 forever).
    public func setReceiveTimeout(milliseconds: Int32) throws(ZeroMQError) { try setOption(ZMQ_RCVTIMEO, milliseconds, "ZMQ_RCVTIMEO") }

    // MARK: Messages

    /// Sends a multipart message. `dontWait` fails with `.wouldBlock` instead of blocking.
    public func send(_ frames: [[UInt8]], dontWait: Bool = false) throws(ZeroMQError) {
        guard !frames.isEmpty else { throw ZeroMQError.invalidArgument("a message has at least one frame") }
        let h = try open("zmq_send")
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
            if index < frames.count - 1 { flags |= ZMQ_SNDMORE }
            while true {
                let rc = frame.withUnsafeBytes { zmq_send(h, $0.baseAddress, $0.count, flags) }
                if rc >= 0 { break }
                if zmq_errno() == EINTR { continue }
                throw ZeroMQError.last("zmq_send")
            }
        }
    }

    /// Receives one whole multipart message. `dontWait` fails with `.wouldBlock` if none is queued.
    public func receive(dontWait: Bool = false) throws(ZeroMQError) -> [[UInt8]] {
        try receive(dontWait: dontWait, userID: nil)
    }

    /// Receives one whole multipart message with the authenticated peer's user id (under CURVE, the
    /// id the ZAP handler gave the connection; nil on a socket without authentication).
    public func receiveAuthenticated(dontWait: Bool = false) throws(ZeroMQError) -> (frames: [[UInt8]], userID: String?) {
        var userID: String?
        let frames = try receive(dontWait: dontWait, userID: &userID)
        return (frames, userID)
    }

    private func receive(dontWait: Bool, userID: UnsafeMutablePointer<String?>?) throws(ZeroMQError) -> [[UInt8]] {
        let h = try open("zmq_msg_recv")
        var frames: [[UInt8]] = []
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
        while true {
            let rc = zmq_msg_recv(&message, h, flags)
            if rc < 0 {
                if zmq_errno() == EINTR { continue }
                throw ZeroMQError.last("zmq_msg_recv")
            }
            // Read from every part until found: a ROUTER's routing-id part lacks the connection's
            // metadata when the message was prefetched by a poll (libzmq 4.3).
            if let userID, userID.pointee == nil, let property = zmq_msg_gets(&message, "User-Id") {
                userID.pointee = String(cString: property)
            }
            let size = zmq_msg_size(&message)
            if size == 0 {
                frames.append([])
            } else {
                let data = zmq_msg_data(&message)!
                frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
            }
            if zmq_msg_more(&message) == 0 { return frames }
            flags = 0  // the rest of a multipart message is already here
        }
    }

    /// True when a message can be received now without blocking.
    public var hasIncoming: Bool {
        guard let handle else { return false }
        var events: Int32 = 0
        var size = MemoryLayout<Int32>.size
        guard zmq_getsockopt(handle, ZMQ_EVENTS, &events, &size) == 0 else { return false }
        return events & Int32(ZMQ_POLLIN) != 0
    }
}
