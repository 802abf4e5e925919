import PrismData
import PrismGrounding

/// Corrupts goldens the way LLM teachers go wrong, for the paper's RQ3 (does distillation filter the
/// teacher's hallucinations?): a history title swapped for a catalog film the user never saw, a genre
/// claim swapped for one no film of the sentence has, or a decade moved. Deterministic for a seed;
/// every corruption is listed so that the student's errors can be traced back to it.
public struct GoldenNoise: Sendable {
    public enum Kind: String, Sendable, Codable { case wrongTitle = "wrong_title", falseGenre = "false_genre", falseEra = "false_era" }

    public struct Corruption: Sendable, Codable, Equatable {
        public var sampleID: String
        public var kind: Kind
        public var original: String
        public var replacement: String
        public var explanation: String

        enum CodingKeys: String, CodingKey {
            case sampleID = "sample_id", kind, original, replacement, explanation
        }
    }

    public let checker: GroundingChecker
    /// The catalog's films and genres, in a fixed order (computed once).
    let films: [CatalogItem]
    let genres: [String]

    public init(checker: GroundingChecker) {
        self.checker = checker
        films = checker.lexicon.catalog.items.filter { !$0.title.isEmpty }
        genres = Set(films.flatMap(\.genres)).filter { $0.lowercased() != "unknown" && $0.lowercased() != "war" }.sorted()
    }

    /// Corrupts about `rate` of the cases (chosen by a seeded shuffle) that offer something to corrupt.
    public func corrupt(_ cases: [EvalCase], texts: [String: String], rate: Double, seed: UInt64) -> [Corruption] {
        var rng = SeededRandom(seed: seed)
        let wanted = Int((Double(cases.count) * min(1, max(0, rate))).rounded())
        var done: [Corruption] = []
        for c in cases.shuffled(using: &rng) where done.count < wanted {
            guard let text = texts[c.sample.sampleID],
                  let corruption = corrupt(text, facts: c.facts, sampleID: c.sample.sampleID, rng: &rng) else { continue }
            done.append(corruption)
        }
        return done
    }

    func corrupt(_ text: String, facts: GroundingFacts, sampleID: String, rng: inout SeededRandom) -> Corruption? {
        let report = checker.check(text, facts: facts)
        let seen = Set(facts.history.map(\.id) + [facts.item.id])
        var options: [(Kind, Mention, String)] = []
        if let title = report.mentions.first(where: { $0.kind == .history }) {
            // A few draws find a film outside a request of at most a few dozen films.
            for _ in 0..<8 {
                guard let film = films.randomElement(using: &rng) else { break }
                if !seen.contains(film.id) { options.append((.wrongTitle, title, film.title)); break }
            }
        }
        let requestFilms = facts.history + [facts.item]
        if let genre = report.mentions.first(where: { $0.kind == .genre }) {
            let own = Set(requestFilms.flatMap(\.genres))
            if let other = genres.filter({ !own.contains($0) }).randomElement(using: &rng) {
                let written = genre.text.first?.isUppercase == true ? other : other.lowercased()
                options.append((.falseGenre, genre, written))
            }
        }
        if let era = report.mentions.first(where: { $0.kind == .decade }), let decade = Int(era.values.first ?? "") {
            let taken = Set(requestFilms.compactMap { $0.year.map { $0 / 10 * 10 } })
            if let other = stride(from: 1920, through: 2010, by: 10).filter({ !taken.contains($0) && $0 != decade }).randomElement(using: &rng) {
                options.append((.falseEra, era, "\(other)s"))
            }
        }
        guard let (kind, mention, replacement) = options.randomElement(using: &rng) else { return nil }
        var scalars = Array(text.unicodeScalars)
        scalars.replaceSubrange(mention.start..<mention.end, with: Array(replacement.unicodeScalars))
        return Corruption(sampleID: sampleID, kind: kind, original: mention.text, replacement: replacement,
                          explanation: String(String.UnicodeScalarView(scalars)))
    }
}
