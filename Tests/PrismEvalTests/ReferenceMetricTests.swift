import Foundation
import PrismTestSupport
import XCTest
@testable import PrismEval

/// ROUGE (with and without the Porter stemmer), corpus BLEU and the stemmer itself, compared with
/// `rouge-score`, `sacrebleu` and NLTK on the same texts (scripts/eval/reference_metrics.py).
final class ReferenceMetricTests: XCTestCase {
    struct Reference: Decodable {
        var rouge: [[Double]]
        var bleu1: Double
        var bleu4: Double
        var tokens13a: [String]
        var stems: [String]
    }

    /// Explanation-like pairs with the characters that tokenizers treat differently: punctuation
    /// between digits and letters, hyphens after digits, HTML entities, apostrophes, accents, other
    /// scripts, odd whitespace and words that exercise every stemmer step.
    static func pairs(count: Int) -> [[String]] {
        var rng = TestRandom(seed: 11)
        let words = [
            "The", "Godfather", "Part", "II", "Madonna:", "Truth", "or", "Dare", "drama", "dramas", "comedies", "running", "runs",
            "hopping", "hopefulness", "generalizations", "relational", "conditional", "happily", "ponies", "caresses", "agreed",
            "feeds", "motoring", "sing", "troubled", "sized", "filing", "electrical", "adjustment", "dependent", "communism",
            "activities", "effective", "skies", "dying", "news", "innings", "proceed", "you", "watched", "Steven", "Spielberg's",
            "M*A*S*H", "8 1/2", "Se7en", "Face/Off", "1990s", "'90s", "1995,", "3.14", "1,000", "A.I.", "U.S.", "well-known",
            "1995-1996", "12-year-old", "&amp;", "&quot;quoted&quot;", "&lt;tag&gt;", "Amélie", "café", "naïve", "Ελληνικά",
            "日本語", "İstanbul", "e.g.", "etc.", "(1995)", "[sic]", "{x}", "~", "#1", "$5", "100%", "don't", "it's", "rock'n'roll",
            "-", "--", "...", "?!", "x,y", "a.b", "1.2.3", "<skipped>", "also", "features", "whom", "saw", "in", "and", "like",
            "sci-fi", "film-noir", "children's", "a@b.com", "\\back", "^_^", "a|b", "thriller,", "thriller.", "fun!", "Really?", "yes;", "no:", "b/w",
        ]
        let spaces = [" ", " ", " ", "  ", "\t", "\u{00A0}", "\n", " - ", ", ", ". "]
        func sentence() -> String {
            let n = Int.random(in: 0...24, using: &rng)
            var text = ""
            for k in 0..<n {
                if k > 0 { text += spaces.randomElement(using: &rng)! }
                text += words.randomElement(using: &rng)!
            }
            return text + (Bool.random(using: &rng) ? "." : (Bool.random(using: &rng) ? " " : ""))
        }
        var pairs: [[String]] = []
        for i in 0..<count {
            let reference = sentence()
            // Candidates share part of the reference (so n-grams and LCS match), or not at all.
            let hypothesis: String
            switch i % 4 {
            case 0: hypothesis = reference
            case 1: hypothesis = sentence()
            case 2:
                let cut = reference.split(separator: " ")
                hypothesis = (cut.shuffled(using: &rng).prefix(max(1, cut.count * 2 / 3)) + [Substring(sentence())]).joined(separator: " ")
            default: hypothesis = reference.split(separator: " ").dropFirst(2).joined(separator: " ") + " " + sentence()
            }
            pairs.append([reference, hypothesis])
        }
        pairs.append(["", "empty reference"])
        pairs.append(["empty hypothesis", ""])
        return pairs
    }

    static func stemmerWords() -> [String] {
        let bases = ["run", "hop", "fil", "conflat", "troubl", "siz", "happ", "generaliz", "relat", "condition", "valen", "hesit",
                     "digit", "conform", "radic", "differ", "vil", "analog", "vietnam", "predic", "oper", "feud", "decis", "hope",
                     "callous", "formal", "sensitiv", "sensib", "triplic", "form", "electr", "good", "reviv", "allow", "infer",
                     "airlin", "gyroscop", "adjust", "depend", "adopt", "homolog", "commun", "activ", "angul", "effect", "bowdler",
                     "sk", "d", "l", "t", "new", "inn", "proc", "exc", "succ", "caress", "pon", "cat", "fe", "agr", "plaster",
                     "bl", "motor", "s", "fizz", "tann", "fall", "hiss", "fail", "toy", "syzyg", "enjo", "sp", "fl", "tr", "yy",
                     "ab", "ee", "bey", "oat", "tree", "ivy", "orrer", "privat", "control", "roll", "rat", "ceas", "controll"]
        let suffixes = ["", "s", "es", "ed", "ing", "ies", "ied", "y", "ly", "ness", "ful", "fulness", "ational", "tional",
                        "ation", "ations", "ator", "alism", "iveness", "ousness", "aliti", "iviti", "biliti", "icate", "ative",
                        "alize", "iciti", "ical", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent",
                        "ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize", "al", "alli", "entli", "eli", "ousli", "fulli",
                        "logi", "bli", "e", "ll", "yy", "izer", "ization", "eed", "sses", "ss", "at", "bl", "iz", "ying", "ogi"]
        var words = Set<String>()
        for b in bases { for s in suffixes { words.insert(b + s) } }
        for w in ["sky", "skies", "dying", "lying", "tying", "news", "innings", "inning", "outings", "outing", "cannings",
                  "canning", "howe", "proceed", "exceed", "succeed", "a", "an", "is", "ties", "dies", "lied", "tied", "yyyy"] {
            words.insert(w)
        }
        return words.sorted()
    }

    func reference(pairs: [[String]], words: [String]) throws -> Reference {
        try runReferenceScript("scripts/eval/reference_metrics.py", input: ["pairs": pairs, "words": words], as: Reference.self)
    }

    func testRougeBleuAndStemmerEqualTheReferencePackages() throws {
        let pairs = Self.pairs(count: 400), words = Self.stemmerWords()
        let ref = try reference(pairs: pairs, words: words)

        var stemMismatches: [String] = []
        for (word, expected) in zip(words, ref.stems) where PorterStemmer.stem(word) != expected {
            stemMismatches.append("\(word): \(PorterStemmer.stem(word)) vs \(expected)")
        }
        XCTAssertEqual(ref.stems.count, words.count)
        XCTAssertEqual(stemMismatches, [], "\(stemMismatches.count) of \(words.count) words stem differently from NLTK")

        let plain = RougeScorer(stemmed: false), stemmed = RougeScorer(stemmed: true)
        XCTAssertEqual(ref.rouge.count, pairs.count)
        var worst = 0.0, where_ = ""
        for (pair, expected) in zip(pairs, ref.rouge) {
            let (r, h) = (pair[0], pair[1])
            let ours = [plain.rougeN(1, target: r, prediction: h).f1, plain.rougeN(2, target: r, prediction: h).f1,
                        plain.rougeL(target: r, prediction: h).f1, stemmed.rougeN(1, target: r, prediction: h).f1,
                        stemmed.rougeN(2, target: r, prediction: h).f1, stemmed.rougeL(target: r, prediction: h).f1]
            for (a, b) in zip(ours, expected) where abs(a - b) > worst { worst = abs(a - b); where_ = "\(r) ⟷ \(h)" }
        }
        XCTAssertLessThanOrEqual(worst, 1e-6, "largest ROUGE difference \(worst) at \(where_)")

        for (pair, expected) in zip(pairs, ref.tokens13a) {
            XCTAssertEqual(CorpusBLEU.tokenize13a(CorpusBLEU.rstrip(pair[1])), expected, pair[1])
        }
        let hyps = pairs.map { $0[1] }, refs = pairs.map { $0[0] }
        XCTAssertEqual(CorpusBLEU(maxOrder: 1).score(hypotheses: hyps, references: refs).score, ref.bleu1, accuracy: 1e-6)
        XCTAssertEqual(CorpusBLEU(maxOrder: 4).score(hypotheses: hyps, references: refs).score, ref.bleu4, accuracy: 1e-6)
        // A nearly disjoint corpus exercises the "exp" smoothing of orders without a match.
        let sparse = [["a b c d e", "a x y z w"], ["f g h", "q r s"]]
        let sparseRef = try reference(pairs: sparse, words: [])
        XCTAssertEqual(CorpusBLEU().score(hypotheses: sparse.map { $0[1] }, references: sparse.map { $0[0] }).score,
                       sparseRef.bleu4, accuracy: 1e-6)
    }

    func testKnownValues() {
        // Hand-computed: 3 of 4 unigrams shared, LCS 3 over 4 and 4 words.
        let s = RougeScorer(stemmed: false)
        XCTAssertEqual(s.rougeN(1, target: "the cat sat down", prediction: "the cat sat up").f1, 0.75, accuracy: 1e-12)
        XCTAssertEqual(s.rougeN(2, target: "the cat sat down", prediction: "the cat sat up").f1, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(s.rougeL(target: "a b c d", prediction: "a c b d").f1, 0.75, accuracy: 1e-12)
        XCTAssertEqual(PorterStemmer.stem("generalizations"), "gener")
        XCTAssertEqual(CorpusBLEU().score(hypotheses: ["the cat sat on the mat"], references: ["the cat sat on the mat"]).score, 100, accuracy: 1e-9)
    }
}
