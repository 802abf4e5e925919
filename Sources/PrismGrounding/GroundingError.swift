/// Errors of the grounding module (reading what it checks against).
public enum GroundingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A vocabulary file that cannot be read as UTF-8 text.
    case unreadable(path: String, detail: String)

    public var description: String {
        switch self {
        case let .unreadable(path, detail): return "grounding: cannot read \(path): \(detail)"
        }
    }
}
