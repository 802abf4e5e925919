/// One entry of the `added_tokens` section.
struct AddedToken: Sendable {
    let id: Int
    let content: String
    let singleWord: Bool
    let lstrip: Bool
    let rstrip: Bool
    let normalized: Bool
    let special: Bool

    init(_ node: JSONNode) throws(TokenizerError) {
        id = try node["id"].int()
        content = try node["content"].string()
        singleWord = try node["single_word"].bool(default: false)
        lstrip = try node["lstrip"].bool(default: false)
        rstrip = try node["rstrip"].bool(default: false)
        special = try node["special"].bool(default: false)
        normalized = try node["normalized"].bool(default: !special)
    }
}

/// A segment of the input after added tokens are split out: either an added token's id or text
/// still to be pre-tokenized.
enum Segment {
    case token(Int)
    case text(PreToken)
}

/// The added (special and ordinary) tokens, and the splitting of input text around them, as
/// Hugging Face does: tokens with `normalized: false` are found in the raw text, then the rest
/// is normalized and tokens with `normalized: true` are found in the normalized text.
struct AddedVocabulary: Sendable {
    private let tokensById: [Int: AddedToken]
    private let idsByContent: [ExactString: Int]
    private let specialContents: Set<ExactString>
    private let rawMatcher: TokenMatcher
    private let normalizedMatcher: TokenMatcher

    init(_ node: JSONNode, normalizer: (any Normalizer)?) throws(TokenizerError) {
        var tokens: [AddedToken] = []
        for entry in try node.optionalArray() ?? [] { tokens.append(try AddedToken(entry)) }
        var byId: [Int: AddedToken] = [:], byContent: [ExactString: Int] = [:]
        for token in tokens where !token.content.isEmpty {
            byId[token.id] = token
            byContent[exact: token.content] = token.id
        }
        tokensById = byId
        idsByContent = byContent
        specialContents = Set(tokens.filter { $0.special && !$0.content.isEmpty }.map { ExactString($0.content) })
        let live = byId.values.sorted { $0.id < $1.id }
        rawMatcher = TokenMatcher(live.filter { !$0.normalized }.map { (Array($0.content.unicodeScalars), $0) })
        normalizedMatcher = TokenMatcher(live.filter(\.normalized).map { token in
            let pattern = Array(token.content.unicodeScalars)
            return (normalizer?.normalize(pattern) ?? pattern, token)
        })
    }

    func id(of content: String) -> Int? { idsByContent[exact: content] }
    func content(of id: Int) -> String? { tokensById[id]?.content }
    func isSpecial(_ content: String) -> Bool { specialContents.contains(ExactString(content)) }
    var specialTokenIds: [Int] { tokensById.values.filter(\.special).map(\.id).sorted() }
    /// The largest added token id, if there are added tokens.
    var maxId: Int? { tokensById.keys.max() }

    /// Splits `text` around added tokens and normalizes the text between them.
    func segments(of text: [Unicode.Scalar], normalizer: (any Normalizer)?) -> [Segment] {
        var result: [Segment] = []
        for segment in rawMatcher.split(PreToken(scalars: text, atStart: true)) {
            guard case let .text(piece) = segment else {
                result.append(segment)
                continue
            }
            let normalized = normalizer.map { PreToken(scalars: $0.normalize(piece.scalars), atStart: piece.atStart) } ?? piece
            result.append(contentsOf: normalizedMatcher.split(normalized))
        }
        return result
    }
}

/// Finds added tokens in text: leftmost-longest, non-overlapping matches, honouring
/// `single_word`, `lstrip` and `rstrip`.
struct TokenMatcher: Sendable {
    /// Trie links: (node << 21 | scalar) → child; node 0 is the root.
    private var children: [Int: Int32] = [:]
    private var terminal: [AddedToken?] = [nil]

    init(_ patterns: [([Unicode.Scalar], AddedToken)]) {
        for (pattern, token) in patterns where !pattern.isEmpty {
            var node = 0
            for scalar in pattern {
                let key = node << 21 | Int(scalar.value)
                if let child = children[key] {
                    node = Int(child)
                } else {
                    terminal.append(nil)
                    children[key] = Int32(terminal.count - 1)
                    node = terminal.count - 1
                }
            }
            terminal[node] = token
        }
    }

    /// The leftmost-longest match at or after `from`.
    private func nextMatch(in text: [Unicode.Scalar], from: Int) -> (range: Range<Int>, token: AddedToken)? {
        guard terminal.count > 1 else { return nil }
        var start = from
        while start < text.count {
            var node = 0, index = start
            var best: (Int, AddedToken)? = nil
            while index < text.count, let child = children[node << 21 | Int(text[index].value)] {
                node = Int(child)
                index += 1
                if let token = terminal[node] { best = (index, token) }
            }
            if let (end, token) = best { return (start..<end, token) }
            start += 1
        }
        return nil
    }

    /// Splits `piece` into added tokens and the (non-empty) text between them.
    func split(_ piece: PreToken) -> [Segment] {
        let text = piece.scalars
        var segments: [Segment] = []
        var emitted = 0  // end of the last accepted match
        var searchFrom = 0
        while let match = nextMatch(in: text, from: searchFrom) {
            searchFrom = match.range.upperBound
            var start = match.range.lowerBound, stop = match.range.upperBound
            let token = match.token
            if token.singleWord {
                let wordBefore = start > 0 && text[start - 1].isWordCharacter
                let wordAfter = stop < text.count && text[stop].isWordCharacter
                if wordBefore || wordAfter { continue }
            }
            if token.lstrip {
                var newStart = start
                while newStart > 0, text[newStart - 1].isSpace { newStart -= 1 }
                start = max(newStart, emitted)
            }
            if token.rstrip {
                while stop < text.count, text[stop].isSpace { stop += 1 }
            }
            if emitted < start { segments.append(.text(piece.slice(emitted..<start))) }
            segments.append(.token(token.id))
            emitted = stop
        }
        if emitted < text.count { segments.append(.text(piece.slice(emitted..<text.count))) }
        return segments
    }
}
