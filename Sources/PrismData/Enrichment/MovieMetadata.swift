import Foundation

/// One record of `movies_extrainfos.dat`:
/// `id::title::year::MPAA::release date::genres::director::writers::actors::plot::poster URL`
/// (UTF-8, CRLF; "N/A" means unknown). Ids are MovieLens (ML-1M / ML-latest) movie ids.
public struct MovieMetadata: Sendable, Hashable, Codable {
    public var id: String
    /// The IMDb-style title, article in front ("The Usual Suspects").
    public var title: String
    public var year: Int?
    public var mpaa: String?
    public var released: String?
    public var genres: [String]
    public var directors: [String]
    public var writers: [String]
    public var actors: [String]
    public var plot: String?
    public var posterURL: String?
}

/// The metadata records keyed by MovieLens id, with a title+year index for joining datasets
/// whose ids differ (ML-100K).
public struct MovieMetadataTable: Sendable {
    /// Records by MovieLens movie id.
    public private(set) var records: [String: MovieMetadata] = [:]
    /// normalized title key + "|" + year → ids carrying that title.
    private var titleIndex: [String: Set<String>] = [:]
    /// The same for partial titles: the part before a colon ("Star Wars" of "Star Wars: Episode IV -
    /// A New Hope") and the part after the last " - " ("A New Hope"). Consulted only after full titles fail.
    private var partialIndex: [String: Set<String>] = [:]

    public init(records: [MovieMetadata] = []) {
        for r in records { add(r) }
    }

    /// Number of records.
    public var count: Int { records.count }

    /// Reads `movies_extrainfos.dat`. In lenient mode malformed lines are skipped and counted in `report`.
    public static func load(_ url: URL, lenient: Bool = false, report: inout LoadReport) throws -> MovieMetadataTable {
        var table = MovieMetadataTable()
        let separator: [UInt8] = [0x3A, 0x3A]
        try LineDriver(url: url, lenient: lenient).run(report: &report) { line, _ in
            let f = line.fields(separatedBy: separator)
            try FieldParse.expectCount(f, 11, "'::'-separated")
            func text(_ i: Int) throws -> String? {
                let s = try f[i].trimmedText(.utf8)
                return s.isEmpty || s == "N/A" ? nil : s
            }
            let id = try FieldParse.id(f[0], "movie id")
            guard let title = try text(1) else { throw LineError("empty title") }
            let yearText = try text(2) ?? ""
            let year = Int(String(yearText.prefix(4)))
            table.add(MovieMetadata(
                id: id, title: title, year: year, mpaa: try text(3), released: try text(4),
                genres: splitPeople(try text(5)), directors: splitPeople(try text(6)),
                writers: splitPeople(try text(7)), actors: splitPeople(try text(8)),
                plot: try text(9), posterURL: try text(10)))
        }
        return table
    }

    /// Adds (or replaces) a record and indexes its title.
    public mutating func add(_ record: MovieMetadata) {
        records[record.id] = record
        addTitle(record.title, year: record.year, for: record.id)
    }

    /// Indexes another title for a record id — e.g. the MovieLens spelling from ML-1M `movies.dat`
    /// ("Usual Suspects, The (1995)"), which bridges ML-100K titles to the metadata ids.
    /// Ignored when no record has this id.
    public mutating func addTitle(_ title: String, year: Int?, for id: String) {
        guard records[id] != nil, let year else { return }
        for key in MovieTitle.keyVariants(title) {
            titleIndex["\(key)|\(year)", default: []].insert(id)
        }
        for part in Self.partialTitles(title) {
            for key in MovieTitle.keyVariants(part) {
                partialIndex["\(key)|\(year)", default: []].insert(id)
            }
        }
    }

    /// "Star Wars: Episode V - The Empire Strikes Back" → ["Star Wars", "The Empire Strikes Back"].
    static func partialTitles(_ title: String) -> [String] {
        var parts: [String] = []
        if let colon = title.range(of: ": ") { parts.append(String(title[..<colon.lowerBound])) }
        if let dash = title.range(of: " - ", options: .backwards) { parts.append(String(title[dash.upperBound...])) }
        return parts.filter { $0.count >= 3 }
    }

    /// Indexes every title of an ML-1M style catalog (raw MovieLens titles from `original_title`).
    public mutating func addTitles(from catalog: ItemCatalog) {
        for item in catalog.items {
            let raw = item.attributes["original_title"].map { MovieTitle.splitYear($0).title } ?? item.title
            addTitle(raw, year: item.year, for: item.id)
        }
    }

    /// The record for a title and year: a full-title match in the same year first, then ±1 year,
    /// then a partial-title match in the same year ("Star Wars" 1977 → "Star Wars: Episode IV - A New Hope").
    /// Nil when nothing, or more than one distinct record, matches at the first step that finds any.
    public func lookup(title: String, year: Int?) -> MovieMetadata? {
        guard let year else { return nil }
        let keys = MovieTitle.keyVariants(title)
        let steps: [([String: Set<String>], Int)] = [(titleIndex, 0), (titleIndex, -1), (titleIndex, 1), (partialIndex, 0)]
        for (index, delta) in steps {
            var ids = Set<String>()
            for key in keys { ids.formUnion(index["\(key)|\(year + delta)"] ?? []) }
            if ids.count == 1, let id = ids.first { return records[id] }
            if ids.count > 1 { return nil }
        }
        return nil
    }
}

/// Splits a comma-separated people or genre list, keeping commas inside parentheses:
/// `Stephen King (short story "A, B"), Frank Darabont (screenplay)` → two entries.
func splitPeople(_ text: String?) -> [String] {
    guard let text else { return [] }
    var result: [String] = []
    var current = ""
    var depth = 0
    for ch in text {
        switch ch {
        case "(": depth += 1; current.append(ch)
        case ")": depth = max(0, depth - 1); current.append(ch)
        case "," where depth == 0:
            let t = current.trimmingCharacters(in: .whitespaces)
            if !t.isEmpty && t != "N/A" { result.append(t) }
            current = ""
        default: current.append(ch)
        }
    }
    let t = current.trimmingCharacters(in: .whitespaces)
    if !t.isEmpty && t != "N/A" { result.append(t) }
    return result
}
