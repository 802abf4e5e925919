/// Renders one catalog item as a short line of text for prompts and student inputs.
///
/// Format: `Title (year; genre, genre; dir. Director; with Actor, Actor)`, e.g.
/// `Toy Story (1995; Animation, Children's, Comedy; dir. John Lasseter; with Tom Hanks, Tim Allen, Don Rickles)`.
///
/// Rules (mirrored by the Python side, see `INPUT_FORMAT.md`):
/// 1. Every text value is cleaned: runs of ASCII whitespace (space, tab, CR, LF, FF, VT) become one
///    space, and leading/trailing spaces are removed. Empty values are skipped.
/// 2. The title is the cleaned title, or the item id when the title is empty.
/// 3. The parts, each only when present, in this order: the year (decimal); the first `maxGenres`
///    genres joined by ", "; "dir. " + the first `maxDirectors` directors joined by ", ";
///    "with " + the first `maxActors` actors joined by ", ".
/// 4. With at least one part: title + " (" + parts joined by "; " + ")". With none: the title alone.
public struct ItemRenderer: Sendable, Hashable {
    /// How many genres to show.
    public var maxGenres: Int
    /// How many directors to show.
    public var maxDirectors: Int
    /// How many actors to show.
    public var maxActors: Int

    public init(maxGenres: Int = 3, maxDirectors: Int = 2, maxActors: Int = 3) {
        self.maxGenres = maxGenres
        self.maxDirectors = maxDirectors
        self.maxActors = maxActors
    }

    /// The item's rendering.
    public func render(_ item: CatalogItem) -> String {
        var title = cleanWhitespace(item.title)
        if title.isEmpty { title = cleanWhitespace(item.id) }
        var parts: [String] = []
        if let year = item.year { parts.append(String(year)) }
        let genres = list(item.genres, maxGenres)
        if !genres.isEmpty { parts.append(genres) }
        let directors = list(item.directors, maxDirectors)
        if !directors.isEmpty { parts.append("dir. " + directors) }
        let actors = list(item.actors, maxActors)
        if !actors.isEmpty { parts.append("with " + actors) }
        return parts.isEmpty ? title : title + " (" + parts.joined(separator: "; ") + ")"
    }

    /// The rendering of the catalog's item with this id (the bare id when the catalog lacks it).
    public func render(id: String, in catalog: ItemCatalog) -> String {
        render(catalog.itemOrPlaceholder(id))
    }

    private func list(_ values: [String], _ limit: Int) -> String {
        values.lazy.map(cleanWhitespace).filter { !$0.isEmpty }.prefix(max(0, limit)).joined(separator: ", ")
    }
}

/// Collapses runs of ASCII whitespace to one space and trims the ends.
public func cleanWhitespace(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    var pendingSpace = false
    for scalar in text.unicodeScalars {
        switch scalar.value {
        case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D:
            pendingSpace = true
        default:
            if pendingSpace && !out.isEmpty { out += " " }
            pendingSpace = false
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}
