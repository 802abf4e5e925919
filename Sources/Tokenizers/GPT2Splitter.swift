/// A hand-written scanner equivalent to the GPT-2 pre-tokenization pattern
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// evaluated the way a backtracking engine does: at each position the first alternative that
/// matches wins. Every scalar falls in one of the classes, so the pieces cover the whole input.
enum GPT2Splitter {
    private enum Class { case letter, number, space, other }

    private static func classify(_ scalar: Unicode.Scalar) -> Class {
        if scalar.isLetter { return .letter }
        if scalar.isNumber { return .number }
        if scalar.isSpace { return .space }
        return .other
    }

    /// The end of a contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`) starting at `i`.
    private static func contractionEnd(_ text: [Unicode.Scalar], _ i: Int) -> Int? {
        guard text[i] == "'", i + 1 < text.count else { return nil }
        switch text[i + 1] {
        case "s", "t", "m", "d": return i + 2
        case "r", "v":
            return i + 2 < text.count && text[i + 2] == "e" ? i + 3 : nil
        case "l":
            return i + 2 < text.count && text[i + 2] == "l" ? i + 3 : nil
        default: return nil
        }
    }

    /// Splits `text` into consecutive, non-empty ranges that cover it.
    static func split(_ text: [Unicode.Scalar]) -> [Range<Int>] {
        var pieces: [Range<Int>] = []
        pieces.reserveCapacity(text.count / 3 + 1)
        let count = text.count
        var i = 0
        while i < count {
            let end = matchEnd(text, at: i, count: count)
            pieces.append(i..<end)
            i = end
        }
        return pieces
    }

    private static func matchEnd(_ text: [Unicode.Scalar], at i: Int, count: Int) -> Int {
        if let end = contractionEnd(text, i) { return end }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional ASCII space, then a run.
        var runStart = i
        if text[i] == " ", i + 1 < count, classify(text[i + 1]) != .space { runStart = i + 1 }
        let runClass = classify(text[runStart])
        if runClass != .space {
            var end = runStart + 1
            while end < count, classify(text[end]) == runClass { end += 1 }
            return end
        }
        // `\s+(?!\S)` then `\s+`: a whitespace run; when a non-space follows it, its last
        // scalar is left for the next piece (unless the run is a single scalar).
        var end = i + 1
        while end < count, text[end].isSpace { end += 1 }
        if end == count || end - i == 1 { return end }
        return end - 1
    }
}
