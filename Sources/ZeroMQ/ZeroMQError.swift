import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every failure of this module: a libzmq call that failed, with its errno and `zmq_strerror` text.
public enum ZeroMQError: Error, Equatable, CustomStringConvertible, Sendable {
    /// `operation` failed with `errno`; `message` is libzmq's text for it.
    case call(operation: String, errno: Int32, message: String)
    /// A non-blocking send or receive found nothing to do (EAGAIN).
    case wouldBlock
    /// The context was terminated while the call was waiting (ETERM).
    case terminated
    /// The peer of a ROUTER send is not connected (EHOSTUNREACH with ROUTER_MANDATORY).
    case hostUnreachable
    /// A value given to this layer is invalid before libzmq is even called.
    case invalidArgument(String)

    /// Builds the error for the current `zmq_errno()`.
    static func last(_ operation: String) -> ZeroMQError {
        let code = zmq_errno()
        switch code {
        case EAGAIN: return .wouldBlock
        case ETERM: return .terminated
        case EHOSTUNREACH: return .hostUnreachable
        default:
            return .call(operation: operation, errno: code, message: String(cString: zmq_strerror(code)))
        }
    }

    public var description: String {
        switch self {
        case .call(let operation, let errno, let message): return "\(operation) failed: \(message) (errno \(errno))"
        case .wouldBlock: return "resource temporarily unavailable (EAGAIN)"
        case .terminated: return "context was terminated (ETERM)"
        case .hostUnreachable: return "peer is not connected (EHOSTUNREACH)"
        case .invalidArgument(let text): return "invalid argument: \(text)"
        }
    }
}

/// The version of the linked libzmq, e.g. (4, 3, 4).
public func zeroMQVersion() -> (major: Int, minor: Int, patch: Int) {
    var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
    zmq_version(&major, &minor, &patch)
    return (Int(major), Int(minor), Int(patch))
}
