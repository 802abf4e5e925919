/// ROUGE-N and ROUGE-L F1 exactly as Google's `rouge-score` package computes them with its default
/// tokenizer: lower case, every run of characters other than a–z and 0–9 is a space, and with
/// `stemmed` the words longer than 3 letters go through the Porter stemmer. ROUGE-L is the
/// sentence-level LCS score (`rougeL`, not `rougeLsum`). Tested against the package.
public struct RougeScorer: Sendable {
    public var stemmed: Bool

    public init(stemmed: Bool) { self.stemmed = stemmed }

    public struct Score: Sendable, Equatable, Codable {
        public var precision: Double
        public var recall: Double
        public var f1: Double

        init(precision: Double, recall: Double) {
            self.precision = precision
            self.recall = recall
            f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        }
    }

    public func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        var word = String.UnicodeScalarView()
        func flush() {
            guard !word.isEmpty else { return }
            let token = String(word)
            tokens.append(stemmed && word.count > 3 ? PorterStemmer.stem(token) : token)
            word = String.UnicodeScalarView()
        }
        for s in text.lowercased().unicodeScalars {
            if ("a"..."z").contains(s) || ("0"..."9").contains(s) { word.append(s) } else { flush() }
        }
        flush()
        // The stemmer never produces other characters, but the package drops such tokens; so do we.
        return tokens.filter { !$0.isEmpty && $0.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) } }
    }

    /// ROUGE-N of `prediction` against `target`.
    public func rougeN(_ n: Int, target: String, prediction: String) -> Score {
        Self.rougeN(n, target: tokenize(target), prediction: tokenize(prediction))
    }

    /// ROUGE-L (longest common subsequence) of `prediction` against `target`.
    public func rougeL(target: String, prediction: String) -> Score {
        Self.rougeL(target: tokenize(target), prediction: tokenize(prediction))
    }

    static func ngrams(_ tokens: [String], _ n: Int) -> [[String]: Int] {
        var counts: [[String]: Int] = [:]
        guard n > 0, tokens.count >= n else { return counts }
        for i in 0...(tokens.count - n) { counts[Array(tokens[i..<(i + n)]), default: 0] += 1 }
        return counts
    }

    static func rougeN(_ n: Int, target: [String], prediction: [String]) -> Score {
        let t = ngrams(target, n), p = ngrams(prediction, n)
        let overlap = t.reduce(0) { $0 + min($1.value, p[$1.key] ?? 0) }
        let tCount = t.values.reduce(0, +), pCount = p.values.reduce(0, +)
        return Score(precision: Double(overlap) / Double(max(pCount, 1)), recall: Double(overlap) / Double(max(tCount, 1)))
    }

    static func rougeL(target: [String], prediction: [String]) -> Score {
        guard !target.isEmpty, !prediction.isEmpty else { return Score(precision: 0, recall: 0) }
        let lcs = lcsLength(target, prediction)
        return Score(precision: Double(lcs) / Double(prediction.count), recall: Double(lcs) / Double(target.count))
    }

    /// Length of the longest common subsequence (two rows of the table).
    static func lcsLength(_ a: [String], _ b: [String]) -> Int {
        var previous = [Int](repeating: 0, count: b.count + 1), current = previous
        for x in a {
            for (j, y) in b.enumerated() {
                current[j + 1] = x == y ? previous[j] + 1 : max(previous[j + 1], current[j])
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
