/// WordPiece (BERT, MiniLM, …): each word is split greedily into the longest vocabulary entries from
/// the left, pieces after the first carrying the continuing-subword prefix ("##"). A word with a part
/// no entry covers, or longer than `max_input_chars_per_word`, becomes the unknown token as a whole.
final class WordPieceModel: TokenizationModel {
    private let vocab: [ExactString: Int]
    private let tokens: [String?]
    private let unkId: Int
    private let prefix: String
    private let maxInputCharsPerWord: Int

    init(_ node: JSONNode) throws(TokenizerError) {
        (vocab, tokens) = try readVocabulary(node["vocab"])
        let unk = try node["unk_token"].optionalString() ?? "[UNK]"
        guard let unkId = vocab[exact: unk] else { throw .unknownToken(unk, context: "model.unk_token") }
        self.unkId = unkId
        prefix = try node["continuing_subword_prefix"].optionalString() ?? "##"
        maxInputCharsPerWord = try node["max_input_chars_per_word"].optionalInt() ?? 100
    }

    var vocabularySize: Int { vocab.count }
    var unknownTokenId: Int? { unkId }
    func tokenToId(_ token: String) -> Int? { vocab[exact: token] }
    func idToToken(_ id: Int) -> String? { id >= 0 && id < tokens.count ? tokens[id] : nil }

    func tokenize(_ word: [Unicode.Scalar], into ids: inout [Int]) {
        if word.isEmpty { return }
        // Hugging Face counts Rust `char`s, which are scalars.
        guard word.count <= maxInputCharsPerWord else {
            ids.append(unkId)
            return
        }
        var pieces: [Int] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int?
            while start < end {
                var view = String.UnicodeScalarView()
                if start > 0 { view.append(contentsOf: prefix.unicodeScalars) }
                view.append(contentsOf: word[start..<end])
                if let id = vocab[exact: String(view)] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let found else {
                ids.append(unkId)
                return
            }
            pieces.append(found)
            start = end
        }
        ids.append(contentsOf: pieces)
    }
}

/// Joins WordPiece tokens: a token with the continuing prefix is glued to the one before it (prefix
/// removed), every other token after the first gets a leading space; `cleanup` then undoes BERT's
/// spacing around punctuation and English contractions, as `clean_up_tokenization` does.
struct WordPieceDecoder: TokenDecoder {
    let prefix: String
    let cleanup: Bool

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { index, token in
            var text = token
            if index > 0 {
                if text.unicodeScalars.starts(with: prefix.unicodeScalars) {
                    text = String(String.UnicodeScalarView(text.unicodeScalars.dropFirst(prefix.unicodeScalars.count)))
                } else {
                    text = " " + text
                }
            }
            return cleanup ? Self.cleanedUp(text) : text
        }
    }

    /// The replacements of Hugging Face's `clean_up_tokenization`, in its order, on scalars (a plain
    /// `String.replacing` would match canonically equivalent text too).
    static let replacements: [([Unicode.Scalar], [Unicode.Scalar])] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
        (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ].map { (Array($0.0.unicodeScalars), Array($0.1.unicodeScalars)) }

    static func cleanedUp(_ text: String) -> String {
        var scalars = Array(text.unicodeScalars)
        for (pattern, replacement) in replacements { scalars = replacingAll(pattern, in: scalars, with: replacement) }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}

/// Every non-overlapping occurrence of `pattern`, left to right, replaced (exact scalars).
func replacingAll(_ pattern: [Unicode.Scalar], in text: [Unicode.Scalar], with replacement: [Unicode.Scalar]) -> [Unicode.Scalar] {
    guard !pattern.isEmpty, text.count >= pattern.count else { return text }
    var out: [Unicode.Scalar] = []
    out.reserveCapacity(text.count)
    var i = 0
    while i < text.count {
        if text[i] == pattern[0], i + pattern.count <= text.count, text[i..<(i + pattern.count)].elementsEqual(pattern) {
            out.append(contentsOf: replacement)
            i += pattern.count
        } else {
            out.append(text[i])
            i += 1
        }
    }
    return out
}
