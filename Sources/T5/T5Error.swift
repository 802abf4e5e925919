import SafeTensors

/// Every failure of the T5 module: a broken model folder, inputs the model cannot run, misuse of the
/// decoding API.
public enum T5Error: Error, Equatable, CustomStringConvertible {
    case missingFile(path: String)
    case badConfig(path: String, detail: String)
    case weights(SafeTensorsError)
    case emptyInput
    case tokenOutOfRange(id: Int, vocabSize: Int)
    case invalidArgument(String)
    /// The precision asked for cannot run on this CPU.
    case precisionUnavailable(String)

    public var description: String {
        switch self {
        case let .missingFile(path): return "t5: missing file \(path)"
        case let .badConfig(path, detail): return "t5: bad config \(path): \(detail)"
        case let .weights(error): return "t5: \(error)"
        case .emptyInput: return "t5: empty input"
        case let .tokenOutOfRange(id, vocabSize): return "t5: token id \(id) is outside the vocabulary of \(vocabSize)"
        case let .invalidArgument(detail): return "t5: \(detail)"
        case let .precisionUnavailable(detail): return "t5: \(detail)"
        }
    }
}

let t5ConfigErrors = ConfigErrors(
    missingFile: { T5Error.missingFile(path: $0) }, badConfig: { T5Error.badConfig(path: $0, detail: $1) })
