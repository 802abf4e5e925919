import PrismGrounding
import PrismWire

/// The grounded rule oracle: a **rule-based teacher, not an LLM**. It writes a one- or
/// two-sentence explanation only from facts it can check in the structured sample — a director or
/// actor shared with films in the history, genres that recur in the history, a theme word found in
/// both plots, the same era — so it never states anything the data does not support. It exists so
/// the whole distillation pipeline runs offline in minutes; a real LLM teacher replaces it through
/// the same `TeacherBackend` interface.
public struct RuleOracle: TeacherBackend {
    /// What decides the wording of an explanation.
    public enum Style: String, Sendable, CaseIterable {
        /// The sample: wordings vary from sample to sample, independent of who the user is. The text
        /// then depends only on what the student's input shows, so a user embedding has nothing to learn.
        case sample
        /// The user: each user has a voice of their own — one of the three wordings, and which of two
        /// checked reasons comes first — kept across all their samples, as a teacher that sees the user's
        /// profile would write. Only the user id tells a student which voice; the facts are the same.
        case user
    }

    public let style: Style

    public init(style: Style = .sample) { self.style = style }
    public var teacherID: String { style == .sample ? "rule-oracle/1" : "rule-oracle/1+user-style" }

    /// One piece of checked evidence linking the item to the history.
    public enum Evidence: Sendable, Equatable {
        /// `name` directed the item and every one of `titles` (history).
        case director(String, titles: [String])
        /// `name` acts in the item and in every one of `titles`.
        case actor(String, titles: [String])
        /// The item and every one of `titles` have all of `genres`.
        case genres([String], titles: [String])
        /// `word` appears in the item's plot and in the plot of every one of `titles`.
        case theme(String, titles: [String])
        /// The item and every one of `titles` come from `decade` (e.g. 1990).
        case era(Int, titles: [String])
        /// Nothing shared: a description of the item itself.
        case itemOnly
    }

    public func generate(_ prompts: [TeacherPrompt], decoding: Decoding) async -> [TeacherOutput] {
        prompts.map { prompt in
            let (text, marked) = explainMarked(prompt)
            var output = TeacherOutput(text: text)
            output.marked = marked
            return output
        }
    }

    /// The explanation and the evidence it rests on.
    public func explain(_ prompt: TeacherPrompt) -> (text: String, evidence: [Evidence]) {
        compose(prompt) { _, name in name }
    }

    /// The explanation with its grounding marks (GROUNDING.md), written as it is composed: every title,
    /// person, genre and era the oracle names is a span. Its plain text is `explain(_:)`'s.
    public func explainMarked(_ prompt: TeacherPrompt) -> (text: String, marked: String) {
        let (raw, _) = compose(prompt, mark: { kind, name in kind.open + name + GroundingMarks.close })
        // A mark goes before the space in front of its name (GROUNDING.md).
        var marked = raw
        for kind in GroundingMarks.Kind.allCases { marked = marked.replacing(" " + kind.open, with: kind.open + " ") }
        return (GroundingMarks.strip(marked), marked)
    }

    /// Writes the explanation; `mark` wraps each name the oracle writes.
    func compose(_ prompt: TeacherPrompt, mark: (GroundingMarks.Kind, String) -> String) -> (text: String, evidence: [Evidence]) {
        var all = gather(history: prompt.history, item: prompt.item)
        let variant: Int
        if style == .user, !prompt.userID.isEmpty {
            let voice = fnv1a("voice:" + prompt.userID)
            variant = Int(voice % 3)
            // Half the users hear the second-strongest reason first.
            if all.count > 1, (voice / 3) % 2 == 1 { all.swapAt(0, 1) }
        } else {
            variant = Int(fnv1a(prompt.sampleID.isEmpty ? prompt.item.itemID : prompt.sampleID) % 3)
        }
        let item = displayTitle(prompt.item)
        // Name at most two films per reason, and films the first reason did not name already.
        var evidence = [all[0].keepingTitles { Array($0.prefix(2)) }]
        if all.count > 1 {
            let named = Set(evidence[0].titles)
            evidence.append(all[1].keepingTitles { titles in
                let fresh = titles.filter { !named.contains($0) }
                return Array((fresh.isEmpty ? titles : fresh).prefix(2))
            })
        }
        let sentences = evidence.enumerated().map { index, reason in
            sentence(reason, item: item, facts: prompt.item, variant: variant, first: index == 0, mark: mark)
        }
        return (sentences.joined(separator: " "), evidence)
    }

    // MARK: Evidence

    /// All evidence, strongest first (at most one of each kind, with up to 6 supporting titles,
    /// most recent first); `.itemOnly` when none.
    func gather(history: [ItemFacts], item: ItemFacts) -> [Evidence] {
        let recent = Array(history.reversed())  // most recent first
        var found: [Evidence] = []
        for name in item.directors {
            let titles = recent.filter { $0.directors.contains(name) }.map(displayTitle)
            if !titles.isEmpty { found.append(.director(name, titles: Array(titles.prefix(6)))); break }
        }
        var bestActor: (String, [String])?
        for name in item.actors.prefix(5) {
            let titles = recent.filter { $0.actors.contains(name) }.map(displayTitle)
            if titles.count > (bestActor?.1.count ?? 0) { bestActor = (name, titles) }
        }
        if let (name, titles) = bestActor { found.append(.actor(name, titles: Array(titles.prefix(6)))) }
        // Genres of the item that recur in at least two history items (or one, for short histories).
        var counts: [String: Int] = [:]
        for h in history { for g in Set(h.genres) { counts[g, default: 0] += 1 } }
        let threshold = history.count >= 4 ? 2 : 1
        var shared = Array(item.genres.filter { (counts[$0] ?? 0) >= threshold }
            .sorted { (counts[$0] ?? 0, $1) > (counts[$1] ?? 0, $0) }.prefix(2))
        var titles = recent.filter { Set($0.genres).isSuperset(of: shared) }.map(displayTitle)
        if titles.isEmpty && shared.count > 1 {  // no film has both: speak of the most frequent one
            shared = [shared[0]]
            titles = recent.filter { $0.genres.contains(shared[0]) }.map(displayTitle)
        }
        if !shared.isEmpty && !titles.isEmpty { found.append(.genres(shared, titles: Array(titles.prefix(6)))) }
        let itemThemes = themeLexicon.filter(themeWords(item.plot).contains)
        if !itemThemes.isEmpty {
            let historyWords = recent.map { themeWords($0.plot) }  // each plot read once
            for word in itemThemes {
                let titles = zip(recent, historyWords).filter { $0.1.contains(word) }.map { displayTitle($0.0) }
                if !titles.isEmpty { found.append(.theme(word, titles: Array(titles.prefix(6)))); break }
            }
        }
        if item.year > 0 {
            let decade = item.year / 10 * 10
            let titles = recent.filter { $0.year > 0 && $0.year / 10 * 10 == decade }.map(displayTitle)
            if titles.count >= 2 && titles.count * 3 >= history.count { found.append(.era(Int(decade), titles: Array(titles.prefix(6)))) }
        }
        return found.isEmpty ? [.itemOnly] : found
    }

    // MARK: Wording

    func sentence(_ evidence: Evidence, item plainItem: String, facts: ItemFacts, variant: Int, first: Bool,
                  mark: (GroundingMarks.Kind, String) -> String = { _, name in name }) -> String {
        let item = mark(.item, plainItem)
        func seen(_ titles: [String]) -> String { list(titles.map { mark(.title, $0) }) }
        switch evidence {
        case .director(let plainName, let titles):
            let name = mark(.person, plainName), seen = seen(titles)
            switch variant {
            case 0: return "Since you watched \(seen), \(item) should suit you: it is also directed by \(name)."
            case 1: return "\(item) comes from \(name), the director of \(seen), which you have seen."
            default: return "You have already watched \(name)'s \(seen), and \(item) is another film by \(name)."
            }
        case .actor(let plainName, let titles):
            let name = mark(.person, plainName), seen = seen(titles)
            if !first { return "It also features \(name), whom you saw in \(seen)." }
            switch variant {
            case 0: return "\(item) stars \(name), whom you saw in \(seen)."
            case 1: return "If you liked \(name) in \(seen), you will find \(name) again in \(item)."
            default: return "\(name), from \(seen) in your history, also appears in \(item)."
            }
        case .genres(let genres, let titles):
            let a = article(genreList(genres))
            let kind = genreList(genres, mark: mark)
            let seen = seen(titles)
            if !first { return "Like \(seen), it is \(a) \(kind) film." }
            switch variant {
            case 0: return "\(item) is \(a) \(kind) film, a kind you keep coming back to with titles like \(seen)."
            case 1: return "You often watch \(kind) films such as \(seen), and \(item) is one too."
            default: return "Given \(seen) in your history, the \(kind) of \(item) should appeal to you."
            }
        case .theme(let word, let titles):
            let seen = seen(titles)
            return first ? "Like \(seen), \(item) is a story about \(word)." : "Like \(seen), it is a story about \(word)."
        case .era(let decade, let titles):
            let seen = seen(titles), era = mark(.era, "\(decade)s")
            return first ? "\(item) comes from the \(era), like \(seen), an era you watch a lot."
                         : "It comes from the \(era), like \(seen)."
        case .itemOnly:
            let plainGenres = Array(facts.genres.prefix(2))
            let genres = genreList(plainGenres, mark: mark)
            let year = facts.year > 0 ? " from \(mark(.era, String(facts.year)))" : ""
            if plainGenres.isEmpty { return "\(item)\(year) would add something new to what you have been watching." }
            return "\(item) is \(article(genreList(plainGenres))) \(genres) film\(year) that would add some variety to what you have been watching."
        }
    }

    func displayTitle(_ item: ItemFacts) -> String {
        let title = item.title.trimmingCharacters(in: .whitespaces)
        return title.isEmpty ? item.itemID : title
    }

    func list(_ titles: [String]) -> String {
        titles.count >= 2 ? "\(titles[0]) and \(titles[1])" : (titles.first ?? "")
    }

    func genreList(_ genres: [String], mark: (GroundingMarks.Kind, String) -> String = { _, name in name }) -> String {
        let words = genres.prefix(2).map { mark(.genre, $0.lowercasedGenre) }
        return words.count >= 2 ? "\(words[0]) and \(words[1])" : (words.first ?? "")
    }

    func article(_ word: String) -> String {
        guard let first = word.lowercased().first else { return "a" }
        return "aeiou".contains(first) ? "an" : "a"
    }

    func themeWords(_ plot: String) -> Set<String> {
        Set(plot.lowercased().split { !$0.isLetter }.map(String.init))
    }

    /// Themes worth naming; plain content words that mean the same thing in any plot.
    let themeLexicon = [
        "revenge", "war", "love", "friendship", "family", "murder", "escape", "survival", "betrayal", "heist",
        "prison", "space", "aliens", "robots", "vampires", "ghosts", "magic", "dragons", "pirates", "spies",
        "marriage", "divorce", "wedding", "school", "college", "music", "dance", "boxing", "baseball", "football",
        "racing", "politics", "journalism", "drugs", "mafia", "gangsters", "terrorists", "hostages", "kidnapping",
        "detective", "courtroom", "time", "dinosaurs", "zombies", "monsters", "soldiers", "cowboys", "ship", "island",
        "christmas", "adolescence", "coming-of-age", "redemption", "jealousy", "obsession", "conspiracy",
    ]
}

extension RuleOracle.Evidence {
    /// The history titles the evidence names.
    var titles: [String] {
        switch self {
        case .director(_, let t), .actor(_, let t), .genres(_, let t), .theme(_, let t), .era(_, let t): return t
        case .itemOnly: return []
        }
    }

    func keepingTitles(_ choose: ([String]) -> [String]) -> Self {
        switch self {
        case .director(let name, let t): return .director(name, titles: choose(t))
        case .actor(let name, let t): return .actor(name, titles: choose(t))
        case .genres(let g, let t): return .genres(g, titles: choose(t))
        case .theme(let w, let t): return .theme(w, titles: choose(t))
        case .era(let d, let t): return .era(d, titles: choose(t))
        case .itemOnly: return .itemOnly
        }
    }
}

extension String {
    /// Genre names read naturally in lower case ("Sci-Fi" → "sci-fi", "Film-Noir" → "film-noir").
    var lowercasedGenre: String { lowercased() }
}

/// A stable 64-bit FNV-1a hash (phrasing choices must not change between runs).
func fnv1a(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    return hash
}
