import Foundation

/// Loads RecBole atomic files from a directory: one `*.inter` (required), and optional `*.item`
/// and `*.user`. Each is tab-separated with a header of `name:type` columns, where type is
/// `token`, `token_seq`, `float` or `float_seq`; sequences are space-separated.
///
/// Interactions use the columns `user_id`, `item_id`, `timestamp` and `rating` (the last two optional;
/// without a timestamp the row number orders the interactions). In `.item`, title-like columns
/// (`movie_title`, `title`, `name`) become the title, `release_year`/`year` the year,
/// `genre`/`genres`/`categories` the genres, and people columns (`director`, `writers`, `actors`)
/// their fields; everything else becomes a free attribute. When several files share an extension,
/// the one named after `options.name` is used.
public struct RecBoleLoader: Sendable {
    public var options: LoadOptions

    public init(options: LoadOptions = LoadOptions()) { self.options = options }

    enum FieldType: String {
        case token, tokenSeq = "token_seq", float, floatSeq = "float_seq"
        var isSequence: Bool { self == .tokenSeq || self == .floatSeq }
    }

    struct Column {
        let name: String
        let type: FieldType
    }

    public func load(directory: URL) throws -> Dataset {
        var report = LoadReport()
        guard let interURL = try atomicFile("inter", in: directory) else {
            throw DataError.fileNotFound(path: directory.appendingPathComponent("*.inter").path)
        }
        var interactions: [Interaction] = []
        try forEachRow(interURL, &report) { header, row in
            let user = try header.require(["user_id"]), item = try header.require(["item_id"])
            let time = header.column(["timestamp"]), rating = header.column(["rating"])
            return { values, number in
                let u = try Self.nonEmpty(values[user], "user_id"), i = try Self.nonEmpty(values[item], "item_id")
                var t = Int64(number)
                if let time {
                    guard let d = Double(values[time]) else { throw LineError("timestamp is empty") }
                    t = Int64(d.rounded(.down))
                }
                let r = rating.flatMap { Double(values[$0]) }
                interactions.append(Interaction(userID: u, itemID: i, timestamp: t, rating: r))
            }
        }

        var catalog = ItemCatalog()
        if let url = try atomicFile("item", in: directory) {
            try forEachRow(url, &report) { header, row in
                let id = try header.require(["item_id"])
                let title = header.column(["movie_title", "title", "name", "item_name"])
                let year = header.column(["release_year", "year"])
                let genres = header.column(["genre", "genres", "categories", "class"])
                let directors = header.column(["director", "directors"])
                let writers = header.column(["writer", "writers"])
                let actors = header.column(["actor", "actors", "cast"])
                let plot = header.column(["plot", "description", "overview"])
                let special = Set([id, title, year, genres, directors, writers, actors, plot].compactMap { $0 })
                return { values, _ in
                    let itemID = try Self.nonEmpty(values[id], "item_id")
                    func list(_ c: Int?) -> [String] {
                        guard let c else { return [] }
                        return row[c].type.isSequence ? Self.sequence(values[c]) : (values[c].isEmpty ? [] : [values[c]])
                    }
                    var item = CatalogItem(id: itemID, title: title.map { values[$0] } ?? itemID)
                    if let year { item.year = Double(values[year]).map { Int($0) } }
                    item.genres = list(genres)
                    item.directors = list(directors)
                    item.writers = list(writers)
                    item.actors = list(actors)
                    if let plot, !values[plot].isEmpty { item.plot = values[plot] }
                    for (c, column) in row.enumerated() where !special.contains(c) && !values[c].isEmpty {
                        item.attributes[column.name] = column.type.isSequence
                            ? Self.sequence(values[c]).joined(separator: ", ") : values[c]
                    }
                    catalog.insert(item)
                }
            }
        }

        var users: [String: UserAttributes] = [:]
        if let url = try atomicFile("user", in: directory) {
            try forEachRow(url, &report) { header, row in
                let id = try header.require(["user_id"])
                return { values, _ in
                    var a: UserAttributes = [:]
                    for (c, column) in row.enumerated() where c != id && !values[c].isEmpty {
                        a[column.name] = column.type.isSequence
                            ? Self.sequence(values[c]).joined(separator: ", ") : values[c]
                    }
                    users[try Self.nonEmpty(values[id], "user_id")] = a
                }
            }
        }
        let name = options.name ?? interURL.deletingPathExtension().lastPathComponent
        return Dataset(name: name, interactions: interactions, catalog: catalog, users: users, report: report)
    }

    /// The directory's file with this extension; with several, the one named after `options.name`.
    func atomicFile(_ ext: String, in directory: URL) throws -> URL? {
        let all: [String]
        do {
            all = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw DataError.unreadable(path: directory.path, reason: "\(error)")
        }
        let matches = all.filter { $0.hasSuffix(".\(ext)") }.sorted()
        if let name = options.name, matches.contains("\(name).\(ext)") {
            return directory.appendingPathComponent("\(name).\(ext)")
        }
        guard matches.count <= 1 else {
            throw DataError.invalidOption("several .\(ext) files in \(directory.path); pick one with the dataset name")
        }
        return matches.first.map { directory.appendingPathComponent($0) }
    }

    /// Parses the header, asks `makeRowHandler` for a row handler, then feeds it each row's
    /// tab-separated values (floats validated) with the row's line number.
    private func forEachRow(
        _ url: URL, _ report: inout LoadReport,
        _ makeRowHandler: (CSVHeader, [Column]) throws -> ([String], Int) throws -> Void
    ) throws {
        var handler: (([String], Int) throws -> Void)?
        var columns: [Column] = []
        try LineDriver(url: url, lenient: options.lenient).run(report: &report) { line, number in
            let fields = line.fields(separatedBy: 0x09)
            guard let handler else {
                columns = try Self.parseHeader(fields, file: url.path, line: number)
                handler = try makeRowHandler(CSVHeader(columns.map(\.name), file: url.path), columns)
                return
            }
            try FieldParse.expectCount(fields, columns.count, "tab-separated")
            var values: [String] = []
            values.reserveCapacity(fields.count)
            for (k, field) in fields.enumerated() {
                let v = try field.trimmedText(.utf8)
                switch columns[k].type {
                case .float where !v.isEmpty && Double(v) == nil:
                    throw LineError("column '\(columns[k].name)' is not a float: '\(v.prefix(40))'")
                case .floatSeq where Self.sequence(v).contains { Double($0) == nil }:
                    throw LineError("column '\(columns[k].name)' is not a float sequence")
                default: break
                }
                values.append(v)
            }
            try handler(values, number)
        }
        if handler == nil { throw DataError.emptyDataset("\(url.path) has no header row") }
    }

    /// Header fields must all be `name:type` with a known type; a bad header is always an error.
    static func parseHeader(_ fields: [Bytes], file: String, line: Int) throws -> [Column] {
        try fields.map { field in
            let text = (try? field.trimmedText(.utf8)) ?? ""
            guard let colon = text.lastIndex(of: ":"),
                  let type = FieldType(rawValue: String(text[text.index(after: colon)...])) else {
                throw DataError.malformedLine(file: file, line: line,
                                              reason: "header column '\(text)' is not name:token|float|token_seq|float_seq")
            }
            return Column(name: String(text[..<colon]), type: type)
        }
    }

    static func sequence(_ s: String) -> [String] {
        s.split(separator: " ").map(String.init)
    }

    static func nonEmpty(_ s: String, _ name: String) throws -> String {
        guard !s.isEmpty else { throw LineError("empty \(name)") }
        return s
    }
}
