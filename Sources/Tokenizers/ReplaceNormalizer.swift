/// Replaces every match of a literal string or a regular expression (`TextPattern`): literal patterns
/// exactly on scalars, regexes with Swift's `Regex` in scalar semantics.
struct ReplaceNormalizer: Normalizer {
    private let pattern: TextPattern
    private let content: [Unicode.Scalar]

    init(_ node: JSONNode) throws(TokenizerError) {
        content = Array(try node["content"].string().unicodeScalars)
        pattern = try TextPattern(node["pattern"])
    }

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        switch pattern.kind {
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
