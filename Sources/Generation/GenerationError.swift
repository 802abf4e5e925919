/// Invalid generation settings. (Model errors — bad token ids, inputs too long — are `BartError`s.)
public enum GenerationError: Error, Equatable, CustomStringConvertible {
    case invalidConfig(String)

    public var description: String {
        switch self {
        case let .invalidConfig(detail): return "generation: \(detail)"
        }
    }
}
