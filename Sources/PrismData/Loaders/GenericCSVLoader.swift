import Foundation

/// Loads a generic CSV dataset from a directory:
///
/// - `interactions.csv` (required): user, item, timestamp[, rating]. With a header row, columns are
///   found by name (`user`/`user_id`/`userId`, `item`/`item_id`/`itemId`, `timestamp`/`time`/`date`,
///   `rating`/`score`); without one (first row's timestamp field is a number or date), by position.
///   Timestamps may be Unix seconds or dates (`YYYY-MM-DD[ HH:MM:SS]`, ISO 8601).
/// - `items.csv` (optional, header required): an id column (`id`/`item_id`/`item`, else the first),
///   a title column (`title`/`name`, else the second), and free attributes. The columns `year`,
///   `genres`, `director(s)`, `writers`, `actors` and `plot` fill the structured fields; lists are
///   split on `|` when present, else on commas.
/// - `users.csv` (optional, header required): a user id column and free attributes.
public struct GenericCSVLoader: Sendable {
    public var options: LoadOptions

    public init(options: LoadOptions = LoadOptions()) { self.options = options }

    var delimiter: UInt8 { options.csvDelimiter.asciiValue ?? 0x2C }

    public func load(directory: URL) throws -> Dataset {
        guard options.csvDelimiter.isASCII else {
            throw DataError.invalidOption("CSV delimiter must be one ASCII character")
        }
        var report = LoadReport()
        let interactions = try loadInteractions(try requireFile(["interactions.csv"], in: directory), &report)
        var catalog = ItemCatalog()
        if let url = firstExisting(["items.csv"], in: directory) {
            catalog = try loadItems(url, &report)
        }
        var users: [String: UserAttributes] = [:]
        if let url = firstExisting(["users.csv"], in: directory) {
            try forEachHeadedRow(url, &report) { header, values in
                let id = header.column(["user_id", "user", "id"]) ?? 0
                var a: UserAttributes = [:]
                for (c, name) in header.names.enumerated() where c != id && !values[c].isEmpty { a[name] = values[c] }
                users[try nonEmpty(values[id], "user id")] = a
            }
        }
        return Dataset(name: options.name ?? directory.lastPathComponent, interactions: interactions,
                       catalog: catalog, users: users, report: report)
    }

    func loadInteractions(_ url: URL, _ report: inout LoadReport) throws -> [Interaction] {
        var result: [Interaction] = []
        var columns: (user: Int, item: Int, time: Int, rating: Int?)?
        try CSVReader(url: url, delimiter: delimiter, lenient: options.lenient).forEachRecord(report: &report) { r, _ in
            if columns == nil {
                let looksLikeData = r.count >= 3 && (Int64(r[2]) != nil || Double(r[2]) != nil || parseDateTime(r[2]) != nil)
                if looksLikeData {
                    columns = (0, 1, 2, 3)
                } else {
                    let h = CSVHeader(r, file: url.path)
                    columns = (try h.require(["user", "user_id", "userId", "uid"]),
                               try h.require(["item", "item_id", "itemId", "iid"]),
                               try h.require(["timestamp", "time", "date", "ts"]),
                               h.column(["rating", "score", "stars"]))
                    return
                }
            }
            guard let c = columns else { return }
            let user = try nonEmpty(try r.field(c.user, "user"), "user id")
            let item = try nonEmpty(try r.field(c.item, "item"), "item id")
            let timeText = try r.field(c.time, "timestamp").trimmingCharacters(in: .whitespaces)
            guard let time = Int64(timeText) ?? Double(timeText).map({ Int64($0.rounded(.down)) })
                    ?? parseDateTime(timeText) else {
                throw LineError("timestamp is not a number or date: '\(timeText.prefix(40))'")
            }
            var rating: Double?
            if let rc = c.rating, rc < r.count, !r[rc].isEmpty {
                guard let v = Double(r[rc].trimmingCharacters(in: .whitespaces)) else {
                    throw LineError("rating is not a number: '\(r[rc].prefix(40))'")
                }
                rating = v
            }
            result.append(Interaction(userID: user, itemID: item, timestamp: time, rating: rating))
        }
        return result
    }

    func loadItems(_ url: URL, _ report: inout LoadReport) throws -> ItemCatalog {
        var catalog = ItemCatalog()
        try forEachHeadedRow(url, &report) { h, v in
            let id = h.column(["id", "item_id", "item", "itemId", "movieId", "business_id"]) ?? 0
            let title = h.column(["title", "name", "item_name"]) ?? (h.names.count > 1 ? 1 : nil)
            let fields: [(Int?, WritableKeyPath<CatalogItem, [String]>)] = [
                (h.column(["genres", "genre", "categories"]), \.genres),
                (h.column(["directors", "director"]), \.directors),
                (h.column(["writers", "writer"]), \.writers),
                (h.column(["actors", "actor", "cast"]), \.actors),
            ]
            let year = h.column(["year", "release_year"]), plot = h.column(["plot", "description", "overview"])
            let itemID = try nonEmpty(v[id], "item id")
            var item = CatalogItem(id: itemID, title: title.map { v[$0].trimmingCharacters(in: .whitespaces) } ?? itemID)
            if item.title.isEmpty { item.title = itemID }
            for (column, path) in fields {
                if let column { item[keyPath: path] = Self.list(v[column]) }
            }
            if let year, !v[year].isEmpty {
                guard let y = Int(v[year].trimmingCharacters(in: .whitespaces)) else {
                    throw LineError("year is not an integer: '\(v[year].prefix(20))'")
                }
                item.year = y
            }
            if let plot, !v[plot].isEmpty { item.plot = v[plot] }
            let special = Set([id, title, year, plot].compactMap { $0 } + fields.compactMap { $0.0 })
            for (c, name) in h.names.enumerated() where !special.contains(c) && !v[c].isEmpty {
                item.attributes[name] = v[c]
            }
            catalog.insert(item)
        }
        return catalog
    }

    /// Reads a CSV whose first row is a header; every row must have the header's field count.
    private func forEachHeadedRow(
        _ url: URL, _ report: inout LoadReport, _ body: (CSVHeader, [String]) throws -> Void
    ) throws {
        var header: CSVHeader?
        try CSVReader(url: url, delimiter: delimiter, lenient: options.lenient).forEachRecord(report: &report) { r, _ in
            guard let h = header else {
                header = CSVHeader(r.map { $0.trimmingCharacters(in: .whitespaces) }, file: url.path)
                return
            }
            guard r.count == h.names.count else {
                throw LineError("expected \(h.names.count) fields, found \(r.count)")
            }
            try body(h, r)
        }
    }

    /// Splits a list cell: on `|` when present, else on commas; items trimmed, empties dropped.
    static func list(_ cell: String) -> [String] {
        let separator: Character = cell.contains("|") ? "|" : ","
        return cell.split(separator: separator).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private func nonEmpty(_ s: String, _ name: String) throws -> String {
        let t = s.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty else { throw LineError("empty \(name)") }
        return t
    }
}
