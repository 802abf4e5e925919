/// Invalid generation settings, and inputs the model cannot run.
public enum GenerationError: Error, Equatable, CustomStringConvertible {
    case invalidConfig(String)
    /// A special token id of the settings outside the model's vocabulary.
    case tokenOutOfRange(id: Int, vocabSize: Int)
    /// More decoder steps than the model's position table holds.
    case outputTooLong(length: Int, maximum: Int)

    public var description: String {
        switch self {
        case let .invalidConfig(detail): return "generation: \(detail)"
        case let .tokenOutOfRange(id, vocabSize): return "generation: token id \(id) is outside the vocabulary of \(vocabSize)"
        case let .outputTooLong(length, maximum): return "generation: \(length) decoder positions, the model has \(maximum)"
        }
    }
}
