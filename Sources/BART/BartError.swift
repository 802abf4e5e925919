import SafeTensors

/// Everything that can go wrong while loading or running a BART model.
public enum BartError: Error, Equatable, CustomStringConvertible {
    /// A required file is not in the model folder.
    case missingFile(path: String)
    /// `config.json` / `generation_config.json` is unreadable, not BART, or inconsistent.
    case badConfig(path: String, detail: String)
    /// A weights file failed to read (missing tensor, wrong shape, truncated file, bad header...).
    case weights(SafeTensorsError)
    /// `user_embeddings.safetensors` or `users.json` is inconsistent.
    case badUsers(detail: String)
    /// An input sequence is longer than the learned positions allow.
    case inputTooLong(length: Int, maximum: Int)
    /// A token id outside `0..<vocabSize`.
    case tokenOutOfRange(id: Int, vocabSize: Int)
    /// An empty input sequence or batch.
    case emptyInput
    /// An argument that makes no sense (explained in `detail`).
    case invalidArgument(String)
    /// The precision asked for cannot run on this CPU (explained in `detail`).
    case precisionUnavailable(String)

    public var description: String {
        switch self {
        case let .missingFile(path): return "bart: missing file \(path)"
        case let .badConfig(path, detail): return "bart: bad config \(path): \(detail)"
        case let .weights(error): return "bart: weights: \(error)"
        case let .badUsers(detail): return "bart: bad user embeddings: \(detail)"
        case let .inputTooLong(length, maximum): return "bart: input of \(length) tokens exceeds \(maximum)"
        case let .tokenOutOfRange(id, vocab): return "bart: token id \(id) outside vocabulary of \(vocab)"
        case .emptyInput: return "bart: empty input"
        case let .invalidArgument(detail): return "bart: \(detail)"
        case let .precisionUnavailable(detail): return "bart: \(detail)"
        }
    }
}
