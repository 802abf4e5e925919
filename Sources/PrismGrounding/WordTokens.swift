/// One word of a text, folded for matching entity names.
///
/// Folding: accents removed (canonical decomposition, nonspacing marks dropped), lower case,
/// apostrophes inside a word dropped ("Don't" → "dont", "L'Enfer" → "lenfer"), a final "'s" split
/// off as its own token ("Spielberg's" → "spielberg", "'s"), "&" read as the word "and". Every other
/// character that is not a letter or a digit separates words, so "Face/Off" is "face", "off",
/// "M*A*S*H" is "m", "a", "s", "h" and "8 1/2" is "8", "1", "2". Titles, names and the text being
/// checked all go through this one function, so their forms always agree.
public struct WordToken: Sendable, Hashable {
    /// The folded form.
    public var key: String
    /// Unicode-scalar offsets of the word in the original text.
    public var range: Range<Int>
    /// The word starts with an upper-case letter.
    public var capitalized: Bool
    /// The word starts with a digit.
    public var numeric: Bool
    /// The first word of the text or of a sentence (after ".", "!", "?" or a line break).
    public var sentenceStart: Bool
    /// Punctuation other than a space, hyphen or apostrophe stands between this word and the one before.
    public var breakBefore: Bool
}

/// A text cut into `WordToken`s, with its scalars kept to quote spans verbatim.
public struct WordTokens: Sendable {
    public let scalars: [Unicode.Scalar]
    public let tokens: [WordToken]

    public init(_ text: String) {
        scalars = Array(text.unicodeScalars)
        tokens = Self.cut(scalars)
    }

    /// The folded keys of a name or title.
    public static func keys(_ text: String) -> [String] {
        WordTokens(text).tokens.map(\.key)
    }

    /// The original text from the start of token `range.lowerBound` to the end of token `range.upperBound - 1`.
    public func text(_ range: Range<Int>) -> String {
        guard !range.isEmpty else { return "" }
        let from = tokens[range.lowerBound].range.lowerBound, to = tokens[range.upperBound - 1].range.upperBound
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[from..<to])
        return String(view)
    }

    static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        s.properties.isAlphabetic || ("0"..."9").contains(s) || s.properties.generalCategory == .nonspacingMark
    }

    static func isApostrophe(_ s: Unicode.Scalar) -> Bool { s == "'" || s == "\u{2019}" }

    static func isSentenceEnd(_ s: Unicode.Scalar) -> Bool { s == "." || s == "!" || s == "?" || s == "\n" }

    static func isSoftGap(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "-" || isApostrophe(s) || s.properties.isWhitespace
    }

    static func cut(_ scalars: [Unicode.Scalar]) -> [WordToken] {
        var tokens: [WordToken] = []
        var i = 0
        var sentenceStart = true, breakBefore = false
        func emit(_ key: String, _ range: Range<Int>) {
            let first = scalars[range.lowerBound]
            tokens.append(WordToken(key: key, range: range, capitalized: first.properties.isUppercase,
                                    numeric: ("0"..."9").contains(first), sentenceStart: sentenceStart, breakBefore: breakBefore))
            sentenceStart = false
            breakBefore = false
        }
        while i < scalars.count {
            let s = scalars[i]
            if s == "&" {
                emit("and", i..<(i + 1))
                i += 1
                continue
            }
            guard isWordScalar(s) else {
                if isSentenceEnd(s) { sentenceStart = true }
                if !isSoftGap(s) { breakBefore = true }
                i += 1
                continue
            }
            // A word: letters and digits, with apostrophes between them.
            let start = i
            var end = i
            var word = String.UnicodeScalarView()
            while end < scalars.count {
                let c = scalars[end]
                if isWordScalar(c) {
                    word.append(c)
                    end += 1
                } else if isApostrophe(c), end + 1 < scalars.count, isWordScalar(scalars[end + 1]), !word.isEmpty {
                    // "'s" closing the word is split off; any other inner apostrophe is dropped.
                    let closesWithS = (scalars[end + 1] == "s" || scalars[end + 1] == "S")
                        && (end + 2 >= scalars.count || !isWordScalar(scalars[end + 2]))
                    if closesWithS { break }
                    end += 1
                } else {
                    break
                }
            }
            emit(fold(String(word)), start..<end)
            if end < scalars.count, isApostrophe(scalars[end]), end + 1 < scalars.count,
               scalars[end + 1] == "s" || scalars[end + 1] == "S" {
                emit("'s", end..<(end + 2))
                end += 2
            }
            i = end
        }
        return tokens
    }

    /// Accents removed, lower case.
    static func fold(_ word: String) -> String {
        let folded = word.decomposedStringWithCanonicalMapping.unicodeScalars
            .filter { $0.properties.generalCategory != .nonspacingMark }
        return String(String.UnicodeScalarView(folded)).lowercased()
    }
}
