/// The settings shared by the Metaspace pre-tokenizer and decoder (SentencePiece style: spaces
/// become "▁", which words carry at their start).
struct MetaspaceSettings: Sendable {
    enum PrependScheme: Sendable { case always, first, never }

    let replacement: Unicode.Scalar
    let prependScheme: PrependScheme
    let split: Bool

    init(_ node: JSONNode) throws(TokenizerError) {
        let replacementNode = node["replacement"]
        let text = try replacementNode.optionalString() ?? "\u{2581}"
        guard text.unicodeScalars.count == 1, let scalar = text.unicodeScalars.first else {
            throw .invalidField(path: replacementNode.path, reason: "expected a single character")
        }
        replacement = scalar
        let schemeNode = node["prepend_scheme"]
        switch try schemeNode.optionalString() {
        case "always": prependScheme = .always
        case "first": prependScheme = .first
        case "never": prependScheme = .never
        case nil:
            // Files written before `prepend_scheme` existed use `add_prefix_space`.
            prependScheme = try node["add_prefix_space"].bool(default: true) ? .always : .never
        case let other?:
            throw .invalidField(path: schemeNode.path, reason: "unknown scheme \(other.debugDescription)")
        }
        split = try node["split"].bool(default: true)
    }
}

/// Replaces spaces with the replacement character, prepends one per the scheme, then (if
/// `split`) splits before every replacement character.
struct MetaspacePreTokenizer: PreTokenizer {
    let settings: MetaspaceSettings

    init(_ node: JSONNode) throws(TokenizerError) {
        settings = try MetaspaceSettings(node)
    }

    func split(_ piece: PreToken, into output: inout [PreToken]) {
        let mark = settings.replacement
        var text = piece.scalars.map { $0 == " " ? mark : $0 }
        if text.isEmpty { return }
        let prepend: Bool
        switch settings.prependScheme {
        case .always: prepend = true
        case .first: prepend = piece.atStart
        case .never: prepend = false
        }
        if prepend, text[0] != mark { text.insert(mark, at: 0) }
        let result = PreToken(scalars: text, atStart: piece.atStart)
        guard settings.split else {
            output.append(result)
            return
        }
        var start = 0
        for index in text.indices where text[index] == mark && index > start {
            output.append(result.slice(start..<index))
            start = index
        }
        output.append(result.slice(start..<text.count))
    }
}

/// Turns the replacement character back into spaces; with a prepend scheme other than `never`,
/// the replacement characters of the first token are dropped.
struct MetaspaceDecoder: TokenDecoder {
    let settings: MetaspaceSettings

    init(_ node: JSONNode) throws(TokenizerError) {
        settings = try MetaspaceSettings(node)
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        let mark = settings.replacement
        let dropFirst = settings.prependScheme != .never
        return tokens.enumerated().map { index, token in
            var out = String.UnicodeScalarView()
            for scalar in token.unicodeScalars {
                if scalar == mark {
                    if !(index == 0 && dropFirst) { out.append(" ") }
                } else {
                    out.append(scalar)
                }
            }
            return String(out)
        }
    }
}
