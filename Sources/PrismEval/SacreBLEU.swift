import Foundation

/// Corpus BLEU exactly as `sacrebleu` computes it by default (`BLEU(max_ngram_order: n)`, one
/// reference per hypothesis): the `13a` tokenizer (mteval-v13a, WMT's), case kept, brevity penalty
/// over the corpus, "exp" smoothing for orders without a match. Tested against the package.
public struct CorpusBLEU: Sendable {
    public var maxOrder: Int

    public init(maxOrder: Int = 4) { self.maxOrder = max(1, maxOrder) }

    public struct Result: Sendable, Equatable, Codable {
        /// 0–100.
        public var score: Double
        public var precisions: [Double]
        public var brevityPenalty: Double
        public var hypothesisLength: Int
        public var referenceLength: Int
    }

    public func score(hypotheses: [String], references: [String]) -> Result {
        var correct = [Int](repeating: 0, count: maxOrder), total = correct
        var hypLength = 0, refLength = 0
        for (hyp, ref) in zip(hypotheses, references) {
            let h = Self.tokenize13a(Self.rstrip(hyp)).split(separator: " ").map(String.init)
            let r = Self.tokenize13a(Self.rstrip(ref)).split(separator: " ").map(String.init)
            hypLength += h.count
            refLength += r.count
            for n in 1...maxOrder {
                let hc = RougeScorer.ngrams(h, n), rc = RougeScorer.ngrams(r, n)
                for (gram, count) in hc {
                    total[n - 1] += count
                    correct[n - 1] += min(count, rc[gram] ?? 0)
                }
            }
        }
        return Self.compute(correct: correct, total: total, hypLength: hypLength, refLength: refLength)
    }

    static func compute(correct: [Int], total: [Int], hypLength: Int, refLength: Int) -> Result {
        var bp = 1.0
        if hypLength < refLength { bp = hypLength > 0 ? exp(1 - Double(refLength) / Double(hypLength)) : 0 }
        var precisions = [Double](repeating: 0, count: correct.count)
        guard correct.contains(where: { $0 > 0 }) else {
            return Result(score: 0, precisions: precisions, brevityPenalty: bp, hypothesisLength: hypLength, referenceLength: refLength)
        }
        var smooth = 1.0
        for n in 0..<correct.count {
            if total[n] == 0 { break }
            if correct[n] == 0 {
                smooth *= 2
                precisions[n] = 100 / (smooth * Double(total[n]))
            } else {
                precisions[n] = 100 * Double(correct[n]) / Double(total[n])
            }
        }
        let logSum = precisions.reduce(0.0) { $0 + ($1 > 0 ? log($1) : -9_999_999_999) }
        let score = bp * exp(logSum / Double(correct.count))
        return Result(score: score, precisions: precisions, brevityPenalty: bp, hypothesisLength: hypLength, referenceLength: refLength)
    }

    // MARK: The 13a tokenizer

    /// Python's `str.isspace()` characters (what `str.split()` and `str.rstrip()` remove).
    static func isPythonSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    static func rstrip(_ text: String) -> [Unicode.Scalar] {
        var scalars = Array(text.unicodeScalars)
        while let last = scalars.last, isPythonSpace(last) { scalars.removeLast() }
        return scalars
    }

    /// mteval-v13a: "<skipped>" and "-\n" removed, line breaks as spaces, the four HTML entities
    /// decoded, then punctuation split off (periods and commas not between digits, a hyphen after a
    /// digit), whitespace collapsed to single spaces.
    static func tokenize13a(_ input: [Unicode.Scalar]) -> String {
        var text = input
        text = replacing(text, "<skipped>", "")
        text = replacing(text, "-\n", "")
        text = replacing(text, "\n", " ")
        if text.contains("&") {
            for (entity, char) in [("&quot;", "\""), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")] {
                text = replacing(text, entity, char)
            }
        }
        var s: [Unicode.Scalar] = [" "] + text + [" "]
        // 1. Symbols: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count * 2)
        for c in s {
            if isSymbol13a(c) { out += [" ", c, " "] } else { out.append(c) }
        }
        s = out
        func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }
        func isPeriodOrComma(_ c: Unicode.Scalar) -> Bool { c == "." || c == "," }
        // 2. ([^0-9])([.,]) → "\1 \2 "; 3. ([.,])([^0-9]) → " \1 \2"; 4. ([0-9])(-) → "\1 \2 ":
        // each a left-to-right pass over non-overlapping two-character matches, as re.sub does.
        s = substitutePairs(s, { !isDigit($0) && isPeriodOrComma($1) }) { [$0, " ", $1, " "] }
        s = substitutePairs(s, { isPeriodOrComma($0) && !isDigit($1) }) { [" ", $0, " ", $1] }
        s = substitutePairs(s, { isDigit($0) && $1 == "-" }) { [$0, " ", $1, " "] }
        var words: [String] = []
        var word = String.UnicodeScalarView()
        for c in s {
            if isPythonSpace(c) {
                if !word.isEmpty { words.append(String(word)); word = String.UnicodeScalarView() }
            } else {
                word.append(c)
            }
        }
        if !word.isEmpty { words.append(String(word)) }
        return words.joined(separator: " ")
    }

    /// Every non-overlapping occurrence of `target`, left to right, replaced (by Unicode scalars, as Python's str.replace).
    static func replacing(_ s: [Unicode.Scalar], _ target: String, _ replacement: String) -> [Unicode.Scalar] {
        let t = Array(target.unicodeScalars), r = Array(replacement.unicodeScalars)
        guard !t.isEmpty, s.count >= t.count else { return s }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if i + t.count <= s.count, s[i] == t[0], Array(s[i..<(i + t.count)]) == t {
                out += r
                i += t.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    static func isSymbol13a(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x7B...0x7E, 0x5B...0x60, 0x20...0x26, 0x28...0x2B, 0x3A...0x40, 0x2F: return true
        default: return false
        }
    }

    static func substitutePairs(_ s: [Unicode.Scalar], _ matches: (Unicode.Scalar, Unicode.Scalar) -> Bool,
                                _ replace: (Unicode.Scalar, Unicode.Scalar) -> [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count + s.count / 2)
        var i = 0
        while i < s.count {
            if i + 1 < s.count, matches(s[i], s[i + 1]) {
                out += replace(s[i], s[i + 1])
                i += 2
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }
}
