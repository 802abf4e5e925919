/// Every error the `Tokenizers` module throws.
///
/// Loading a `tokenizer.json` validates the whole file up front, so encoding and decoding never
/// fail afterwards; all problems with the file surface here, with the JSON path where they occur.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read.
    case unreadableFile(path: String, reason: String)
    /// The data is not valid JSON (or its top level is not an object).
    case invalidJSON(String)
    /// A required field is absent (or `null`). `path` is like `model.vocab`.
    case missingField(path: String)
    /// A field is present but has the wrong type or an impossible value.
    case invalidField(path: String, reason: String)
    /// A component `type` this module does not implement, e.g. `("model", "WordPiece")`.
    case unsupportedComponent(component: String, type: String)
    /// The file refers to a token that is not in the vocabulary (a merge part, a special token, …).
    case unknownToken(String, context: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "cannot read tokenizer file \(path): \(reason)"
        case let .invalidJSON(reason):
            return "tokenizer.json is not valid JSON: \(reason)"
        case let .missingField(path):
            return "tokenizer.json: missing required field `\(path)`"
        case let .invalidField(path, reason):
            return "tokenizer.json: invalid field `\(path)`: \(reason)"
        case let .unsupportedComponent(component, type):
            return "tokenizer.json: unsupported \(component) type `\(type)`"
        case let .unknownToken(token, context):
            return "tokenizer.json: token \(token.debugDescription) used by \(context) is not in the vocabulary"
        }
    }
}
