/// Replaces every match of a literal string or a regular expression.
///
/// Literal patterns are matched exactly on scalars. Regex patterns are compiled once, at load,
/// with Swift's `Regex` in scalar semantics; the simple patterns found in tokenizer files
/// (such as `" {2,}"`) behave as in Hugging Face's Oniguruma, but exotic syntax may not.
struct ReplaceNormalizer: Normalizer {
    private enum Pattern: @unchecked Sendable {
        // `Regex` holds no shared mutable state; it is only read after construction.
        case literal([Unicode.Scalar])
        case regex(Regex<AnyRegexOutput>)
    }

    private let pattern: Pattern
    private let content: [Unicode.Scalar]

    init(_ node: JSONNode) throws(TokenizerError) {
        content = Array(try node["content"].string().unicodeScalars)
        let patternNode = node["pattern"]
        if let literal = try patternNode["String"].optionalString() {
            pattern = .literal(Array(literal.unicodeScalars))
        } else if let source = try patternNode["Regex"].optionalString() {
            do {
                pattern = .regex(try Regex(source).matchingSemantics(.unicodeScalar))
            } catch {
                throw .invalidField(path: patternNode.path + ".Regex", reason: "unsupported regular expression")
            }
        } else {
            throw .missingField(path: patternNode.path + ".String")
        }
    }

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        switch pattern {
        case let .literal(needle):
            return replacingAll(needle, in: text, with: content)
        case let .regex(regex):
            var view = String.UnicodeScalarView()
            view.append(contentsOf: text)
            var replacement = String.UnicodeScalarView()
            replacement.append(contentsOf: content)
            return Array(String(view).replacing(regex, with: String(replacement)).unicodeScalars)
        }
    }
}
