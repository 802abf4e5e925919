import Foundation

/// Loads MovieLens latest / latest-small (UTF-8 CSV with a header row):
/// `ratings.csv` (userId,movieId,rating,timestamp), `movies.csv` (movieId,title,genres),
/// and, when present, `tags.csv` (userId,movieId,tag,timestamp) and `links.csv` (movieId,imdbId,tmdbId).
///
/// Tags become the item attribute `tags` (the most frequent distinct tags, comma-separated);
/// links become `imdb_id` and `tmdb_id`.
public struct MovieLensLatestLoader: Sendable {
    public var options: LoadOptions
    /// How many distinct tags to keep per movie.
    public var maxTags = 10

    public init(options: LoadOptions = LoadOptions()) { self.options = options }

    public func load(directory: URL) throws -> Dataset {
        var report = LoadReport()
        var interactions: [Interaction] = []
        interactions.reserveCapacity(100_000)
        try forEachRow(try requireFile(["ratings.csv"], in: directory), report: &report,
                       columns: [["userId"], ["movieId"], ["rating"], ["timestamp"]]) { v in
            guard let rating = Double(v[2]) else { throw LineError("rating is not a number: '\(v[2])'") }
            guard let timestamp = Int64(v[3]) else { throw LineError("timestamp is not an integer: '\(v[3])'") }
            interactions.append(Interaction(userID: try Self.nonEmpty(v[0], "userId"),
                                            itemID: try Self.nonEmpty(v[1], "movieId"),
                                            timestamp: timestamp, rating: rating))
        }

        var catalog = ItemCatalog()
        if let url = firstExisting(["movies.csv"], in: directory) {
            try forEachRow(url, report: &report, columns: [["movieId"], ["title"], ["genres"]]) { v in
                let id = try Self.nonEmpty(v[0], "movieId")
                let rawTitle = v[1].trimmingCharacters(in: .whitespaces)
                let (title, year) = MovieTitle.splitYear(rawTitle)
                let genres = v[2].split(separator: "|").map(String.init)
                    .filter { !$0.isEmpty && $0 != "(no genres listed)" }
                catalog.insert(CatalogItem(id: id, title: MovieTitle.display(title), year: year, genres: genres,
                                           attributes: ["original_title": rawTitle]))
            }
        }

        if let url = firstExisting(["tags.csv"], in: directory) {
            var counts: [String: [String: Int]] = [:]
            var firstSeen: [String: [String: Int]] = [:]
            var order = 0
            try forEachRow(url, report: &report, columns: [["movieId"], ["tag"]]) { v in
                let tag = v[1].trimmingCharacters(in: .whitespacesAndNewlines)
                guard !tag.isEmpty else { return }
                let movie = try Self.nonEmpty(v[0], "movieId")
                counts[movie, default: [:]][tag, default: 0] += 1
                if firstSeen[movie]?[tag] == nil { firstSeen[movie, default: [:]][tag] = order }
                order += 1
            }
            for (movie, tagCounts) in counts where catalog.contains(movie) {
                let seen = firstSeen[movie] ?? [:]
                let top = tagCounts.sorted { a, b in
                    a.value != b.value ? a.value > b.value : (seen[a.key] ?? 0) < (seen[b.key] ?? 0)
                }.prefix(maxTags).map(\.key)
                catalog[movie]?.attributes["tags"] = top.joined(separator: ", ")
            }
        }

        if let url = firstExisting(["links.csv"], in: directory) {
            try forEachRow(url, report: &report, columns: [["movieId"], ["imdbId"], ["tmdbId"]]) { v in
                let movie = try Self.nonEmpty(v[0], "movieId")
                guard catalog.contains(movie) else { return }
                if !v[1].isEmpty { catalog[movie]?.attributes["imdb_id"] = v[1] }
                if !v[2].isEmpty { catalog[movie]?.attributes["tmdb_id"] = v[2] }
            }
        }
        return Dataset(name: options.name ?? "ml-latest", interactions: interactions, catalog: catalog,
                       report: report)
    }

    static func nonEmpty(_ s: String, _ name: String) throws -> String {
        let t = s.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty else { throw LineError("empty \(name)") }
        return t
    }

    /// Reads a headed CSV file, resolving `columns` (each a list of accepted names) in the header,
    /// and calls `body` with the values of those columns for every data row. A row whose field count
    /// differs from the header's is malformed.
    func forEachRow(
        _ url: URL, report: inout LoadReport, columns: [[String]], _ body: ([String]) throws -> Void
    ) throws {
        var indices: [Int]?
        var width = 0
        try CSVReader(url: url, lenient: options.lenient).forEachRecord(report: &report) { record, _ in
            guard let idx = indices else {
                let header = CSVHeader(record, file: url.path)
                indices = try columns.map { try header.require($0) }
                width = record.count
                return
            }
            guard record.count == width else {
                throw LineError("expected \(width) comma-separated fields, found \(record.count)")
            }
            try body(idx.map { record[$0] })
        }
        if indices == nil { throw DataError.emptyDataset("\(url.path) has no header row") }
    }
}
