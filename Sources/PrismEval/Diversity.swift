import PrismGrounding

/// How varied a system's explanations are.
public enum Diversity {
    /// USR (PETER, Li et al. 2021): distinct explanations ÷ explanations.
    public static func uniqueSentenceRatio(_ texts: [String]) -> Double {
        texts.isEmpty ? 0 : Double(Set(texts).count) / Double(texts.count)
    }

    /// Distinct-n: distinct n-grams ÷ n-grams over all explanations (words as ROUGE tokenizes them, unstemmed).
    public static func distinct(_ n: Int, _ texts: [String]) -> Double {
        let scorer = RougeScorer(stemmed: false)
        var seen = Set<[String]>(), total = 0
        for text in texts {
            let tokens = scorer.tokenize(text)
            guard tokens.count >= n else { continue }
            for i in 0...(tokens.count - n) {
                seen.insert(Array(tokens[i..<(i + n)]))
                total += 1
            }
        }
        return total == 0 ? 0 : Double(seen.count) / Double(total)
    }

    /// An explanation with its entities masked: titles → [TITLE] ([ITEM] for the recommended item),
    /// people → [PERSON], genres → [GENRE], years and decades → [ERA], invented names → [NAME];
    /// lower case, whitespace collapsed. Two explanations with one skeleton differ only in their entities.
    public static func skeleton(_ text: String, report: GroundingReport) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = ""
        var at = 0
        func plain(_ range: Range<Int>) { out += String(String.UnicodeScalarView(scalars[range])).lowercased() }
        for mention in report.mentions.sorted(by: { $0.start < $1.start }) {
            let mask: String
            switch mention.kind {
            case .item: mask = "[ITEM]"
            case .history, .wrongTitle: mask = "[TITLE]"
            case .person: mask = "[PERSON]"
            case .genre: mask = "[GENRE]"
            case .year, .decade: mask = "[ERA]"
            case .unsupported: mask = "[NAME]"
            case .plot: continue
            }
            guard mention.start >= at, mention.end <= scalars.count, mention.start <= mention.end else { continue }
            plain(at..<mention.start)
            out += mask
            at = mention.end
        }
        plain(at..<scalars.count)
        return out.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// The `top` most frequent skeletons with their counts, most frequent first (ties by text).
    public static func topSkeletons(_ skeletons: [String], top: Int = 10) -> [(skeleton: String, count: Int)] {
        var counts: [String: Int] = [:]
        for s in skeletons { counts[s, default: 0] += 1 }
        return counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(top).map { ($0.key, $0.value) }
    }
}
