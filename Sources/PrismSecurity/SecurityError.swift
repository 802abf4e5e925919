import ZeroMQ

/// Every failure of the security module: key files and access lists that cannot be used.
public enum SecurityError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(path: String, line: Int, reason: String)
    case unsafePermissions(path: String, mode: UInt16)
    case exists(path: String)
    case key(ZeroMQError)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .malformed(let path, let line, let reason): return "\(path):\(line): \(reason)"
        case .unsafePermissions(let path, let mode):
            return "\(path) holds a secret key but others can read it or its group can write it (mode \(String(mode, radix: 8))); chmod 600 it"
        case .exists(let path): return "\(path) exists; pass --force to replace it"
        case .key(let error): return "invalid CURVE key: \(error)"
        }
    }
}
