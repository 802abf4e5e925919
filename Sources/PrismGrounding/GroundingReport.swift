import PrismData

/// The facts of one request: the films of the user's history and the recommended item.
public struct GroundingFacts: Sendable {
    public var history: [CatalogItem]
    public var item: CatalogItem

    public init(history: [CatalogItem], item: CatalogItem) {
        self.history = history
        self.item = item
    }

    /// The facts of a sample, its items looked up in the catalog.
    public init(_ sample: Sample, catalog: ItemCatalog) {
        self.init(history: sample.history.map(catalog.itemOrPlaceholder), item: catalog.itemOrPlaceholder(sample.itemID))
    }
}

/// A name found in an explanation.
public struct Mention: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable {
        /// The recommended item's title.
        case item
        /// A title from the user's history.
        case history
        /// A real catalog title that is neither.
        case wrongTitle = "wrong_title"
        case person, genre, year, decade
        /// Capitalised words found in the plot of one of the request's films (a place, a character).
        case plot
        /// Capitalised words that match no fact: garbled or invented.
        case unsupported
    }

    public var kind: Kind
    /// The words as written.
    public var text: String
    /// The catalog ids the words name (titles), or the canonical value (a person's name, a genre, "1990").
    public var values: [String]
    /// Unicode-scalar offsets in the explanation.
    public var start: Int
    public var end: Int
}

/// A genre, era or person the explanation attaches to films of the request, true or false against the data.
public struct Claim: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable { case genre, year, decade, person }
    public var kind: Kind
    /// The canonical value: a catalog genre, a year, a decade ("1990"), a person's name.
    public var value: String
    /// The words as written.
    public var text: String
    /// The films the sentence attaches it to (the recommended item, history films named in the same sentence).
    public var subjects: [String]
    /// Whether the data supports it: true for the recommended item when the sentence is about it, and
    /// for at least one of the history films the sentence names.
    public var holds: Bool
}

/// What the grounding checker found in one explanation, and its verdict.
public struct GroundingReport: Sendable, Codable, Hashable {
    /// The recommended item is named by one of its titles.
    public var itemNamed: Bool
    /// Titles of the request (the item or history films) named.
    public var groundedTitles: [Mention]
    /// Real catalog titles that are not in the request.
    public var wrongTitles: [Mention]
    /// Capitalised runs that match no fact.
    public var unsupportedSpans: [Mention]
    /// Genre, era and person claims.
    public var claims: [Claim]
    /// Every mention in text order (titles, people, genres, years, plot words, unsupported spans).
    public var mentions: [Mention]

    /// The item is named, no wrong title, no unsupported span, no false claim.
    public var fullyGrounded: Bool {
        itemNamed && wrongTitles.isEmpty && unsupportedSpans.isEmpty && falseClaims.isEmpty
    }

    public var falseClaims: [Claim] { claims.filter { !$0.holds } }

    /// The kinds of problem the explanation has, each once: "item not named", "wrong title",
    /// "unsupported span", "false claim" (empty when it is fully grounded).
    public var problemKinds: [String] {
        var kinds: [String] = []
        if !itemNamed { kinds.append("item not named") }
        if !wrongTitles.isEmpty { kinds.append("wrong title") }
        if !unsupportedSpans.isEmpty { kinds.append("unsupported span") }
        if !falseClaims.isEmpty { kinds.append("false claim") }
        return kinds
    }

    /// Why the explanation is not fully grounded, one line per problem (empty when it is).
    public var problems: [String] {
        var lines: [String] = []
        if !itemNamed { lines.append("the recommended item is not named") }
        for m in wrongTitles { lines.append("names \"\(m.text)\", a catalog film not in the request") }
        for m in unsupportedSpans { lines.append("\"\(m.text)\" matches no title, person or fact") }
        for c in falseClaims { lines.append("claims \(c.kind.rawValue) \"\(c.text)\" for \(c.subjects.joined(separator: ", ")), which the data does not support") }
        return lines
    }

    enum CodingKeys: String, CodingKey {
        case itemNamed = "item_named", groundedTitles = "grounded_titles", wrongTitles = "wrong_titles"
        case unsupportedSpans = "unsupported_spans", claims, mentions, fullyGrounded = "fully_grounded", problems
    }

    public init(itemNamed: Bool, groundedTitles: [Mention], wrongTitles: [Mention], unsupportedSpans: [Mention],
                claims: [Claim], mentions: [Mention]) {
        self.itemNamed = itemNamed
        self.groundedTitles = groundedTitles
        self.wrongTitles = wrongTitles
        self.unsupportedSpans = unsupportedSpans
        self.claims = claims
        self.mentions = mentions
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        itemNamed = try c.decode(Bool.self, forKey: .itemNamed)
        groundedTitles = try c.decode([Mention].self, forKey: .groundedTitles)
        wrongTitles = try c.decode([Mention].self, forKey: .wrongTitles)
        unsupportedSpans = try c.decode([Mention].self, forKey: .unsupportedSpans)
        claims = try c.decode([Claim].self, forKey: .claims)
        mentions = try c.decode([Mention].self, forKey: .mentions)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(itemNamed, forKey: .itemNamed)
        try c.encode(groundedTitles, forKey: .groundedTitles)
        try c.encode(wrongTitles, forKey: .wrongTitles)
        try c.encode(unsupportedSpans, forKey: .unsupportedSpans)
        try c.encode(claims, forKey: .claims)
        try c.encode(mentions, forKey: .mentions)
        try c.encode(fullyGrounded, forKey: .fullyGrounded)
        try c.encode(problems, forKey: .problems)
    }
}
