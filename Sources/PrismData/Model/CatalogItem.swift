/// Everything known about one item: the fields the prompts render, plus free attributes.
///
/// Structured fields (year, genres, people) are kept apart rather than folded into one string,
/// so renderers and enrichment can use them individually.
public struct CatalogItem: Sendable, Codable, Hashable {
    /// The item's external id.
    public var id: String
    /// A human-readable title without the year, e.g. "The Usual Suspects" (MovieLens "Usual Suspects, The (1995)").
    public var title: String
    /// Release year, when known.
    public var year: Int?
    /// Genres or categories, in source order.
    public var genres: [String]
    /// Director(s).
    public var directors: [String]
    /// Writer(s), with the source's role notes kept, e.g. "Frank Darabont (screenplay)".
    public var writers: [String]
    /// Leading actors, in billing order.
    public var actors: [String]
    /// A plot summary.
    public var plot: String?
    /// Free attributes (source-specific: "mpaa", "imdb_id", "city", ...).
    public var attributes: [String: String]

    public init(
        id: String, title: String, year: Int? = nil, genres: [String] = [], directors: [String] = [],
        writers: [String] = [], actors: [String] = [], plot: String? = nil, attributes: [String: String] = [:]
    ) {
        self.id = id
        self.title = title
        self.year = year
        self.genres = genres
        self.directors = directors
        self.writers = writers
        self.actors = actors
        self.plot = plot
        self.attributes = attributes
    }

    enum CodingKeys: String, CodingKey {
        case id, title, year, genres, directors, writers, actors, plot, attributes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        title = try c.decodeIfPresent(String.self, forKey: .title) ?? ""
        year = try c.decodeIfPresent(Int.self, forKey: .year)
        genres = try c.decodeIfPresent([String].self, forKey: .genres) ?? []
        directors = try c.decodeIfPresent([String].self, forKey: .directors) ?? []
        writers = try c.decodeIfPresent([String].self, forKey: .writers) ?? []
        actors = try c.decodeIfPresent([String].self, forKey: .actors) ?? []
        plot = try c.decodeIfPresent(String.self, forKey: .plot)
        attributes = try c.decodeIfPresent([String: String].self, forKey: .attributes) ?? [:]
    }
}

/// The item catalog: id → item, iterated in natural id order.
public struct ItemCatalog: Sendable, Hashable {
    private var storage: [String: CatalogItem] = [:]

    public init() {}

    public init(_ items: some Sequence<CatalogItem>) {
        for item in items { storage[item.id] = item }
    }

    /// Number of items.
    public var count: Int { storage.count }

    /// Whether the catalog is empty.
    public var isEmpty: Bool { storage.isEmpty }

    /// The item with this id, or nil. Setting nil removes it.
    public subscript(id: String) -> CatalogItem? {
        get { storage[id] }
        set { storage[id] = newValue }
    }

    /// Inserts or replaces an item (keyed by its id).
    public mutating func insert(_ item: CatalogItem) {
        storage[item.id] = item
    }

    /// Whether an item with this id exists.
    public func contains(_ id: String) -> Bool { storage[id] != nil }

    /// All ids in natural order ("2" before "10").
    public var ids: [String] { storage.keys.sorted(by: naturalIDLess) }

    /// All items in natural id order.
    public var items: [CatalogItem] { ids.compactMap { storage[$0] } }

    /// Applies `transform` to every item in place.
    public mutating func updateEach(_ transform: (inout CatalogItem) throws -> Void) rethrows {
        for key in Array(storage.keys) {
            if var item = storage[key] {
                try transform(&item)
                storage[key] = item
            }
        }
    }

    /// The item with this id, or a bare item whose title is the id (for interactions that
    /// reference an item the catalog lacks).
    public func itemOrPlaceholder(_ id: String) -> CatalogItem {
        storage[id] ?? CatalogItem(id: id, title: id)
    }
}
