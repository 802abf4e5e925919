import Foundation
import PrismData

/// Every name the checker recognises, built once from the catalog: titles (all surface forms) →
/// item ids, people → their names, genre words → catalog genres, and the ordinary English words
/// that may start a sentence capitalised without naming anything.
public struct EntityLexicon: Sendable {
    public let catalog: ItemCatalog
    let titles: TokenTrie<String>
    let people: TokenTrie<String>
    let genres: TokenTrie<String>
    /// Folded words that are ordinary vocabulary (function words, and words the catalog's plots use in lower case).
    let ordinaryWords: Set<String>
    /// Each catalog film's request names, computed once (a request's films are usually catalog films).
    let filmNames: [String: FilmNames]

    public init(catalog: ItemCatalog) {
        self.catalog = catalog
        var titles = TokenTrie<String>(), people = TokenTrie<String>(), genres = TokenTrie<String>()
        var genreNames = Set<String>()
        var ordinary = Self.functionWords
        for item in catalog.items {
            for form in Self.titleForms(item.title, articleFreeMinWords: 2) { titles.insert(form, item.id) }
            for name in Self.people(of: item) { people.insert(WordTokens.keys(name), name) }
            genreNames.formUnion(item.genres)
            if let plot = item.plot {
                for token in WordTokens(plot).tokens where !token.capitalized && !token.numeric { ordinary.insert(token.key) }
            }
        }
        for genre in genreNames where genre.lowercased() != "unknown" && genre.lowercased() != "(no genres listed)" {
            for form in Self.genreForms(genre) { genres.insert(form, genre) }
        }
        self.titles = titles
        self.people = people
        self.genres = genres
        self.ordinaryWords = ordinary
        var names: [String: FilmNames] = [:]
        for item in catalog.items { names[item.id] = FilmNames(item) }
        filmNames = names
    }

    /// A film's request names: the cached ones when it is the catalog's film of that id, unchanged.
    func requestNames(of film: CatalogItem) -> FilmNames? {
        guard let cached = filmNames[film.id], catalog[film.id] == film else { return nil }
        return cached
    }

    // MARK: Surface forms

    /// The key sequences a title may be written as: the title itself ("Il Postino (The Postman)"),
    /// without its parenthesised parts ("Il Postino"), each parenthesised alternate ("The Postman",
    /// "a.k.a." dropped; none with fewer than 3 letters), the MovieLens order with the article last ("Postino, Il"), and each of them
    /// without a leading article when at least `articleFreeMinWords` words remain ("Ice Storm" for
    /// "The Ice Storm" with 2; "Piano" for "The Piano" only with 1).
    public static func titleForms(_ title: String, articleFreeMinWords: Int) -> [[String]] {
        let display = MovieTitle.display(title)
        let (base, alternates) = MovieTitle.splitAlternates(display)
        var texts = [display, base]
        // "(1995)", "(V)": a year or a video marker, not another title.
        texts += alternates.filter { $0.unicodeScalars.filter(\.properties.isAlphabetic).count >= 3 }
        var forms: [[String]] = []
        func add(_ keys: [String]) { if !keys.isEmpty && !forms.contains(keys) { forms.append(keys) } }
        for text in texts {
            let keys = WordTokens.keys(text)
            add(keys)
            if let first = keys.first, articles.contains(first), keys.count > 1 {
                add(Array(keys.dropFirst()) + [first])  // "Usual Suspects, The"
                if keys.count - 1 >= articleFreeMinWords { add(Array(keys.dropFirst())) }
            }
        }
        return forms
    }

    /// Articles a title may start with (English, and those MovieLens moves to the end).
    static let articles: Set<String> = ["the", "a", "an", "il", "la", "le", "les", "el", "los", "las", "die", "der", "das"]

    /// Directors, actors and writers of an item, writers without their role notes
    /// ("Frank Darabont (screenplay)" → "Frank Darabont").
    public static func people(of item: CatalogItem) -> [String] {
        var names: [String] = []
        for name in item.directors + item.actors + item.writers.map(personName) where !name.isEmpty && !names.contains(name) {
            names.append(name)
        }
        return names
    }

    static func personName(_ credited: String) -> String {
        var name = credited
        if let paren = name.firstIndex(of: "(") { name = String(name[..<paren]) }
        return name.trimmingCharacters(in: .whitespaces)
    }

    /// A genre's words, its plural and common synonyms ("Sci-Fi": "sci-fi", "sci-fis", "science fiction").
    static func genreForms(_ genre: String) -> [[String]] {
        var forms: [[String]] = []
        let keys = WordTokens.keys(genre)
        guard let last = keys.last else { return [] }
        forms.append(keys)
        if last.hasSuffix("y") && !last.hasSuffix("ey") {
            forms.append(keys.dropLast() + [String(last.dropLast()) + "ies"])
        } else if keys.last != "'s" && !last.hasSuffix("s") {
            forms.append(keys.dropLast() + [last + "s"])
        }
        for synonym in genreSynonyms[keys.joined(separator: " "), default: []] { forms.append(WordTokens.keys(synonym)) }
        return forms
    }

    static let genreSynonyms: [String: [String]] = [
        "sci fi": ["science fiction", "science-fiction", "scifi"],
        "romance": ["romantic"],
        "animation": ["animated"],
        "film noir": ["noir", "films noirs"],
        "comedy": ["comedic"],
        "musical": ["musicals"],
        "documentary": ["documentaries"],
    ]

    /// Genres that are also everyday nouns (a "story about war"): a claim only when a film word follows.
    static let nounGenres: Set<String> = ["war"]
    static let filmWords: Set<String> = ["film", "films", "movie", "movies", "picture", "pictures", "drama", "dramas", "epic", "epics"]

    /// Words that start sentences without naming anything.
    static let functionWords: Set<String> = [
        "a", "about", "after", "again", "all", "also", "although", "an", "and", "another", "any", "as", "at", "because",
        "before", "both", "but", "by", "each", "even", "every", "fans", "for", "from", "given", "has", "have", "he", "her",
        "here", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "like", "many", "more", "most", "much",
        "no", "not", "now", "of", "on", "once", "one", "or", "our", "she", "since", "so", "some", "such", "that", "the",
        "their", "then", "there", "these", "they", "this", "those", "though", "through", "to", "too", "two", "viewers",
        "we", "what", "when", "where", "whether", "which", "while", "who", "whom", "why", "with", "yet", "you", "your",
        "yours", "overall", "ultimately", "additionally", "furthermore", "moreover", "similarly", "likewise", "however",
        "therefore", "thus", "recommended", "recommendation", "based", "considering", "as", "because", "if", "enjoy",
        "enjoyed", "liked", "loved", "watching", "watched", "with", "without", "this", "that", "its", "it's", "it", "yes",
    ]
}
