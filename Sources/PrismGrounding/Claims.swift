import PrismData

extension GroundingChecker {
    /// Genre, year, decade and person mentions, each checked against the films of its sentence.
    ///
    /// A sentence is about the recommended item when it names the item, says "it"/"its", or names no
    /// film at all; it attaches its claims to that item and to every history film it names. A claim
    /// holds when it is true of at least one of them (a director shared by the item and the history
    /// film is true of both; "a comedy like A" where only A is a comedy still holds).
    func claims(_ words: WordTokens, mentions: [Mention], facts: GroundingFacts, request: RequestNames) -> [Claim] {
        let tokens = words.tokens
        // Sentence boundaries as scalar offsets.
        var sentenceStarts = tokens.filter(\.sentenceStart).map(\.range.lowerBound)
        if sentenceStarts.first != 0 { sentenceStarts.insert(0, at: 0) }
        func sentence(of offset: Int) -> Int { (sentenceStarts.lastIndex { $0 <= offset }) ?? 0 }
        let pronouns: Set<String> = ["it", "its"]
        var itemSentences = Set<Int>(), historyBySentence: [Int: [String]] = [:], titled = Set<Int>()
        for m in mentions {
            let s = sentence(of: m.start)
            switch m.kind {
            case .item: itemSentences.insert(s); titled.insert(s)
            case .history: historyBySentence[s, default: []] += m.values; titled.insert(s)
            default: break
            }
        }
        for t in tokens where pronouns.contains(t.key) { itemSentences.insert(sentence(of: t.range.lowerBound)) }
        let films = Dictionary(facts.history.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })

        var claims: [Claim] = []
        for m in mentions {
            let kind: Claim.Kind
            switch m.kind {
            case .genre: kind = .genre
            case .year: kind = .year
            case .decade: kind = .decade
            case .person: kind = .person
            default: continue
            }
            let s = sentence(of: m.start)
            let aboutItem = itemSentences.contains(s) || !titled.contains(s)
            let history = (historyBySentence[s] ?? []).compactMap { films[$0] }
            var subjects = aboutItem ? [facts.item] : []
            subjects += history.filter { film in !subjects.contains { $0.id == film.id } }
            let holds = subjects.contains { film in m.values.contains { Self.holds(kind, $0, for: film) } }
            claims.append(Claim(kind: kind, value: m.values.first ?? "", text: m.text,
                                subjects: subjects.map { $0.title.isEmpty ? $0.id : $0.title }, holds: holds))
        }
        return claims
    }

    static func holds(_ kind: Claim.Kind, _ value: String, for film: CatalogItem) -> Bool {
        switch kind {
        case .genre: return film.genres.contains(value)
        case .year: return film.year.map(String.init) == value
        case .decade: return film.year.map { String($0 / 10 * 10) } == value
        case .person: return EntityLexicon.people(of: film).contains(value)
        }
    }
}
