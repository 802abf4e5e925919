/// What a split does with the pieces its pattern matched (Hugging Face's `SplitDelimiterBehavior`).
enum SplitBehavior: String, Sendable {
    /// Matched pieces are dropped.
    case removed = "Removed"
    /// Every piece, matched or not, stands alone.
    case isolated = "Isolated"
    /// A match joins the piece before it (a second match in a row stands alone).
    case mergedWithPrevious = "MergedWithPrevious"
    /// A match joins the piece after it (the one of two matches in a row nearer the text joins it).
    case mergedWithNext = "MergedWithNext"
    /// Matches in a row become one piece.
    case contiguous = "Contiguous"

    /// Applies the behaviour to `pieces` (consecutive ranges covering the text, each marked as a match
    /// or not) and returns the ranges to keep.
    func apply(_ pieces: [(range: Range<Int>, isMatch: Bool)]) -> [Range<Int>] {
        switch self {
        case .removed:
            return pieces.filter { !$0.isMatch }.map(\.range)
        case .isolated:
            return pieces.map(\.range)
        case .mergedWithPrevious:
            var out: [Range<Int>] = []
            var previousMatch = false
            for piece in pieces {
                if piece.isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<piece.range.upperBound
                } else {
                    out.append(piece.range)
                }
                previousMatch = piece.isMatch
            }
            return out
        case .mergedWithNext:
            var out: [Range<Int>] = []  // built from the end
            var nextMatch = false
            for piece in pieces.reversed() {
                if piece.isMatch && !nextMatch, let last = out.last {
                    out[out.count - 1] = piece.range.lowerBound..<last.upperBound
                } else {
                    out.append(piece.range)
                }
                nextMatch = piece.isMatch
            }
            return out.reversed()
        case .contiguous:
            var out: [Range<Int>] = []
            var previousMatch = false
            for piece in pieces {
                if piece.isMatch == previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<piece.range.upperBound
                } else {
                    out.append(piece.range)
                }
                previousMatch = piece.isMatch
            }
            return out
        }
    }
}

/// Cuts `text` into consecutive pieces at the given matches (sorted, non-overlapping ranges);
/// empty pieces are left out.
func piecesAround(_ matches: [Range<Int>], count: Int, invert: Bool) -> [(range: Range<Int>, isMatch: Bool)] {
    var pieces: [(range: Range<Int>, isMatch: Bool)] = []
    var position = 0
    for match in matches {
        if position < match.lowerBound { pieces.append((position..<match.lowerBound, invert)) }
        if !match.isEmpty { pieces.append((match, !invert)) }
        position = match.upperBound
    }
    if position < count { pieces.append((position..<count, invert)) }
    return pieces
}

/// `Split`: a literal string or a regular expression (`TextPattern`), a behaviour for what it matched, and
/// `invert` (the pattern names what to keep instead).
struct SplitPreTokenizer: PreTokenizer {
    private let pattern: TextPattern
    private let behavior: SplitBehavior
    private let invert: Bool

    init(_ node: JSONNode) throws(TokenizerError) {
        pattern = try TextPattern(node["pattern"])
        let name = try node["behavior"].string()
        guard let behavior = SplitBehavior(rawValue: name) else {
            throw .invalidField(path: node["behavior"].path, reason: "unknown split behavior '\(name)'")
        }
        self.behavior = behavior
        invert = try node["invert"].bool(default: false)
    }

    func split(_ piece: PreToken, into output: inout [PreToken]) {
        let pieces = piecesAround(pattern.matches(in: piece.scalars), count: piece.scalars.count, invert: invert)
        for range in behavior.apply(pieces) where !range.isEmpty {
            output.append(piece.slice(range))
        }
    }
}

/// `Digits`: numeric characters (Unicode Nd, Nl, No, like Rust's `char::is_numeric`) split from the
/// rest, each on its own (`individual_digits`) or as runs.
struct DigitsPreTokenizer: PreTokenizer {
    let individualDigits: Bool

    func split(_ piece: PreToken, into output: inout [PreToken]) {
        var matches: [Range<Int>] = []
        for (index, scalar) in piece.scalars.enumerated() where Self.isNumeric(scalar) { matches.append(index..<(index + 1)) }
        let behavior: SplitBehavior = individualDigits ? .isolated : .contiguous
        for range in behavior.apply(piecesAround(matches, count: piece.scalars.count, invert: false)) where !range.isEmpty {
            output.append(piece.slice(range))
        }
    }

    static func isNumeric(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }
}
