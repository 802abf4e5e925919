import CZeroMQ
import Synchronization

/// How the security handshakes of a connecting socket end, read from libzmq's socket monitor
/// (a PAIR socket on an inproc endpoint). Made and used on the thread that owns the watched socket.
public final class HandshakeMonitor {
    /// One handshake's outcome.
    public enum Outcome: Equatable, Sendable {
        case succeeded
        /// The peer refused our key (ZAP status, e.g. 400).
        case refusedKey(status: UInt32)
        /// The peers do not speak the same security mechanism (e.g. plain to a CURVE server),
        /// or another protocol error (libzmq's code).
        case protocolError(code: UInt32)
        /// The handshake failed without details (e.g. the connection closed during it).
        case failed
    }

    /// What a peer should be told about a failed handshake (nil: nothing failed, or a failure libzmq
    /// retries on its own, e.g. a connection dropped mid-handshake by a broker restart).
    /// `allowList` names the broker option that lists this peer's key; `curve`: whether it uses CURVE.
    public static func problem(_ outcome: Outcome, allowList: String, curve: Bool) -> String? {
        switch outcome {
        case .succeeded, .failed:
            return nil
        case .refusedKey(let status):
            return "the broker refused this peer's key (ZAP status \(status)): list it in the broker's \(allowList)"
        case .protocolError:
            return curve ? "the CURVE handshake with the broker failed: check --broker-key against the broker's public key"
                : "the security handshake with the broker failed: the broker probably requires CURVE (give --broker-key and --key)"
        }
    }

    public let socket: Socket
    private static let counter = Atomic<UInt64>(0)

    /// Starts watching `watched`'s handshakes; poll `socket` for input, then call `take()`.
    public init(watching watched: Socket, context: Context) throws(ZeroMQError) {
        let n = Self.counter.wrappingAdd(1, ordering: .relaxed).oldValue
        let endpoint = "inproc://prism-handshake-monitor-\(n)"
        let events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
            | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
        let h = try watched.open("zmq_socket_monitor")
        guard zmq_socket_monitor(h, endpoint, events) == 0 else { throw ZeroMQError.last("zmq_socket_monitor") }
        socket = try context.socket(.pair)
        try socket.connect(endpoint)
    }

    /// The outcomes reported since the last call, oldest first.
    public func take() -> [Outcome] {
        var outcomes: [Outcome] = []
        while let frames = try? socket.receive(dontWait: true) {
            if let outcome = Self.outcome(frames) { outcomes.append(outcome) }
        }
        return outcomes
    }

    /// Decodes a monitor message: frame 1 holds the event (uint16) and its value (uint32), native order.
    static func outcome(_ frames: [[UInt8]]) -> Outcome? {
        guard let first = frames.first, first.count >= 6 else { return nil }
        let event = UInt16(first[0]) | UInt16(first[1]) << 8
        let value = UInt32(first[2]) | UInt32(first[3]) << 8 | UInt32(first[4]) << 16 | UInt32(first[5]) << 24
        switch Int32(event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: return .succeeded
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: return .refusedKey(status: value)
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: return .protocolError(code: value)
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: return .failed
        default: return nil
        }
    }

    deinit { socket.close() }
}
