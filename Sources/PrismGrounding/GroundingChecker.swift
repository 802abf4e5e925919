import PrismData

/// Checks an explanation against the facts of its own request: which titles, people, genres and
/// eras it names, whether each is the recommended item, a history film, or something else, and
/// which capitalised words match nothing at all. See `GroundingReport` for the verdict.
///
/// Matching: at each word the longest known name wins (titles of the request, then its people,
/// then catalog titles and people, genres, years); a title starts with a capitalised word or a
/// digit (or "the" before one). Words no name covers are grouped into capitalised runs; a run is
/// fine when it is ordinary vocabulary starting a sentence ("Given", "Since") or appears in the
/// plot of one of the request's films, and unsupported otherwise.
public struct GroundingChecker: Sendable {
    public let lexicon: EntityLexicon

    public init(lexicon: EntityLexicon) { self.lexicon = lexicon }
    public init(catalog: ItemCatalog) { self.lexicon = EntityLexicon(catalog: catalog) }

    public func check(_ explanation: String, facts: GroundingFacts) -> GroundingReport {
        let words = WordTokens(explanation)
        let request = RequestNames(facts, lexicon: lexicon)
        var mentions: [Mention] = []
        var covered = [Bool](repeating: false, count: words.tokens.count)
        var i = 0
        while i < words.tokens.count {
            if let (end, mention) = bestMatch(words, at: i, request: request) {
                mentions.append(mention)
                for k in i..<end { covered[k] = true }
                i = end
            } else {
                i += 1
            }
        }
        mentions += capitalisedRuns(words, covered: covered, request: request)
        mentions.sort { $0.start < $1.start }
        let claims = self.claims(words, mentions: mentions, facts: facts, request: request)
        return GroundingReport(
            itemNamed: mentions.contains { $0.kind == .item },
            groundedTitles: mentions.filter { $0.kind == .item || $0.kind == .history },
            wrongTitles: mentions.filter { $0.kind == .wrongTitle },
            unsupportedSpans: mentions.filter { $0.kind == .unsupported },
            claims: claims, mentions: mentions)
    }

    // MARK: Names

    /// A candidate at one word: how many words it covers, its rank among equally long ones (lower wins), the mention.
    typealias Candidate = (end: Int, rank: Int, mention: Mention)

    func bestMatch(_ words: WordTokens, at i: Int, request: RequestNames) -> (Int, Mention)? {
        let tokens = words.tokens
        var best: Candidate?
        func consider(_ end: Int, _ rank: Int, _ kind: Mention.Kind, _ values: [String]) {
            if let b = best, b.end > end || (b.end == end && b.rank <= rank) { return }
            let mention = Mention(kind: kind, text: words.text(i..<end), values: values,
                                  start: tokens[i].range.lowerBound, end: tokens[end - 1].range.upperBound)
            best = (end, rank, mention)
        }
        let token = tokens[i]
        let titleStart = token.capitalized || token.numeric
            || (EntityLexicon.articles.contains(token.key) && i + 1 < tokens.count && (tokens[i + 1].capitalized || tokens[i + 1].numeric))
        if titleStart {
            if let (end, ids) = request.titles.longestMatch(tokens, from: i) {
                consider(end, 0, request.role(of: ids), ids)
            }
            if let (end, ids) = lexicon.titles.longestMatch(tokens, from: i) {
                let known = ids.filter(request.ids.contains)
                if !known.isEmpty {
                    consider(end, 2, request.role(of: known), known)
                } else if !(end == i + 1 && token.sentenceStart && lexicon.ordinaryWords.contains(token.key)) {
                    consider(end, 2, .wrongTitle, ids)
                }
            }
        }
        if token.capitalized {
            if let (end, names) = request.people.longestMatch(tokens, from: i) { consider(end, 1, .person, names) }
            if let (end, names) = lexicon.people.longestMatch(tokens, from: i) { consider(end, 3, .person, names) }
        }
        if let (end, genres) = lexicon.genres.longestMatch(tokens, from: i) {
            let noun = genres.allSatisfy { EntityLexicon.nounGenres.contains($0.lowercased()) }
            if !noun || (end < tokens.count && EntityLexicon.filmWords.contains(tokens[end].key))
                || coordinatedWithGenre(tokens, start: i, end: end) {
                consider(end, 4, .genre, genres)
            }
        }
        if token.numeric, let (kind, value) = Self.era(token.key) {
            consider(i + 1, 5, kind, [value])
        }
        return best.map { ($0.end, $0.mention) }
    }

    /// A genre word that is also a plain noun ("war") counts as a genre when "and" joins it to another
    /// genre: "the drama and war of …", "a war and romance film".
    func coordinatedWithGenre(_ tokens: [WordToken], start: Int, end: Int) -> Bool {
        if end + 1 < tokens.count, tokens[end].key == "and", !tokens[end + 1].breakBefore,
           let (_, next) = lexicon.genres.longestMatch(tokens, from: end + 1),
           !next.allSatisfy({ EntityLexicon.nounGenres.contains($0.lowercased()) }) {
            return true
        }
        guard start >= 2, tokens[start - 1].key == "and", !tokens[start].breakBefore else { return false }
        for from in max(0, start - 4)..<(start - 1) {
            if let (stop, previous) = lexicon.genres.longestMatch(tokens, from: from), stop == start - 1,
               !previous.allSatisfy({ EntityLexicon.nounGenres.contains($0.lowercased()) }) {
                return true
            }
        }
        return false
    }

    /// "1995" → a year; "1990s" or "90s" → a decade ("1990").
    static func era(_ key: String) -> (Mention.Kind, String)? {
        let digits = key.prefix { $0.isASCII && $0.isNumber }
        let rest = key.dropFirst(digits.count)
        guard let number = Int(digits) else { return nil }
        if rest.isEmpty, digits.count == 4, (1870...2039).contains(number) { return (.year, String(number)) }
        if rest == "s", digits.count == 4, number % 10 == 0, (1870...2039).contains(number) { return (.decade, String(number)) }
        if rest == "s", digits.count == 2, number % 10 == 0 { return (.decade, String(1900 + number)) }
        return nil
    }

    // MARK: Capitalised runs

    func capitalisedRuns(_ words: WordTokens, covered: [Bool], request: RequestNames) -> [Mention] {
        let tokens = words.tokens
        var mentions: [Mention] = []
        var i = 0
        while i < tokens.count {
            guard !covered[i], tokens[i].capitalized else { i += 1; continue }
            var end = i + 1
            while end < tokens.count, !covered[end], !tokens[end].breakBefore,
                  tokens[end].capitalized || tokens[end].numeric || tokens[end].key == "'s" {
                end += 1
            }
            // Ordinary words that open a sentence ("Given", "If You") are not names.
            var start = i
            while start < end, tokens[start].sentenceStart || start > i, lexicon.ordinaryWords.contains(tokens[start].key) {
                start += 1
            }
            if start < end, !(end - start == 1 && tokens[start].key == "i") {
                let keys = tokens[start..<end].map(\.key)
                let kind: Mention.Kind = request.plotsContain(keys) ? .plot : .unsupported
                mentions.append(Mention(kind: kind, text: words.text(start..<end), values: [],
                                        start: tokens[start].range.lowerBound, end: tokens[end - 1].range.upperBound))
            }
            i = end
        }
        return mentions
    }
}

/// The names of one request: its titles (with and without a leading article) and its people
/// (full names and surnames), plus its films' plots.
struct RequestNames {
    let facts: GroundingFacts
    let ids: Set<String>
    var titles = TokenTrie<String>()
    var people = TokenTrie<String>()
    /// The films' plots as words, cut only when a capitalised run needs them (most explanations have none).
    private let plots: LazyPlots

    init(_ facts: GroundingFacts, lexicon: EntityLexicon? = nil) {
        self.facts = facts
        let films = facts.history + [facts.item]
        ids = Set(films.map(\.id))
        for film in films {
            let names = lexicon?.requestNames(of: film) ?? FilmNames(film)
            for form in names.titleForms { titles.insert(form, film.id) }
            for (keys, name) in names.people {
                people.insert(keys, name)
                if keys.count >= 2, let last = keys.last, last.count >= 3 { people.insert([last], name) }
            }
        }
        plots = LazyPlots(films.compactMap(\.plot))
    }

    /// `.item` when the ids include the recommended item, else `.history`.
    func role(of ids: [String]) -> Mention.Kind { ids.contains(facts.item.id) ? .item : .history }

    /// Whether the words stand in a plot as a name: the same words, the first capitalised where no
    /// sentence starts ("Somerset" in "…the city; Somerset is…", not "That" opening a sentence).
    func plotsContain(_ keys: [String]) -> Bool {
        plots.tokens.contains { plot in
            guard plot.count >= keys.count else { return false }
            return (0...(plot.count - keys.count)).contains { start in
                plot[start].capitalized && !plot[start].sentenceStart
                    && plot[start..<(start + keys.count)].map(\.key).elementsEqual(keys)
            }
        }
    }
}

/// Plot texts, tokenized on first use.
final class LazyPlots {
    private let texts: [String]
    private(set) lazy var tokens: [[WordToken]] = texts.map { WordTokens($0).tokens }
    init(_ texts: [String]) { self.texts = texts }
}

/// The surface forms one film adds to a request: its titles (article-free from one word) and its
/// people's name keys.
struct FilmNames: Sendable {
    let titleForms: [[String]]
    let people: [(keys: [String], name: String)]

    init(_ film: CatalogItem) {
        titleForms = EntityLexicon.titleForms(film.title, articleFreeMinWords: 1)
        people = EntityLexicon.people(of: film).map { (WordTokens.keys($0), $0) }
    }
}
