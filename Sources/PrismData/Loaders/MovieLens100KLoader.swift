import Foundation

/// Loads MovieLens 100K: `u.data` (user⇥item⇥rating⇥unixtime), `u.item` (`|`-separated, Latin-1:
/// id|title|release date|video release date|IMDb URL|19 genre flags), `u.user` (id|age|gender|occupation|zip),
/// and the genre names from `u.genre` when present.
public struct MovieLens100KLoader: Sendable {
    public var options: LoadOptions

    public init(options: LoadOptions = LoadOptions()) { self.options = options }

    /// The 19 genres in `u.item` flag order, used when `u.genre` is absent.
    public static let defaultGenres = [
        "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
        "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
        "Thriller", "War", "Western",
    ]

    public func load(directory: URL) throws -> Dataset {
        var report = LoadReport()
        let interactions = try loadRatings(directory.appendingPathComponent("u.data"), report: &report)
        let genres = try loadGenreNames(directory, report: &report)
        var catalog = ItemCatalog()
        let itemURL = directory.appendingPathComponent("u.item")
        if FileManager.default.fileExists(atPath: itemURL.path) {
            catalog = try loadItems(itemURL, genres: genres, report: &report)
        }
        var users: [String: UserAttributes] = [:]
        let userURL = directory.appendingPathComponent("u.user")
        if FileManager.default.fileExists(atPath: userURL.path) {
            users = try loadUsers(userURL, report: &report)
        }
        return Dataset(name: options.name ?? "ml-100k", interactions: interactions, catalog: catalog,
                       users: users, report: report)
    }

    func loadRatings(_ url: URL, report: inout LoadReport) throws -> [Interaction] {
        var result: [Interaction] = []
        result.reserveCapacity(100_000)
        try LineDriver(url: url, lenient: options.lenient).run(report: &report) { line, _ in
            let f = line.fields(separatedBy: 0x09)
            try FieldParse.expectCount(f, 4, "tab-separated")
            result.append(Interaction(
                userID: try FieldParse.id(f[0], "user id"),
                itemID: try FieldParse.id(f[1], "item id"),
                timestamp: try FieldParse.timestamp(f[3]),
                rating: try FieldParse.rating(f[2])))
        }
        return result
    }

    func loadGenreNames(_ directory: URL, report: inout LoadReport) throws -> [String] {
        let url = directory.appendingPathComponent("u.genre")
        guard FileManager.default.fileExists(atPath: url.path) else { return Self.defaultGenres }
        var byIndex: [Int: String] = [:]
        try LineDriver(url: url, lenient: options.lenient).run(report: &report) { line, _ in
            let f = line.fields(separatedBy: 0x7C)
            try FieldParse.expectCount(f, 2, "'|'-separated")
            guard let index = f[1].int64(), index >= 0, index < 64 else { throw LineError("bad genre index") }
            byIndex[Int(index)] = try f[0].trimmedText(.latin1)
        }
        let names = (0..<byIndex.count).compactMap { byIndex[$0] }
        return names.count == byIndex.count && !names.isEmpty ? names : Self.defaultGenres
    }

    func loadItems(_ url: URL, genres: [String], report: inout LoadReport) throws -> ItemCatalog {
        var catalog = ItemCatalog()
        try LineDriver(url: url, lenient: options.lenient).run(report: &report) { line, _ in
            let f = line.fields(separatedBy: 0x7C)
            try FieldParse.expectCount(f, 5 + genres.count, "'|'-separated")
            let id = try FieldParse.id(f[0], "item id", .latin1)
            let rawTitle = try f[1].trimmedText(.latin1)
            let releaseDate = try f[2].trimmedText(.latin1)
            var (title, year) = MovieTitle.splitYear(rawTitle)
            if year == nil, releaseDate.count >= 4 { year = Int(releaseDate.suffix(4)) }
            var itemGenres: [String] = []
            for (k, name) in genres.enumerated() {
                let flag = f[5 + k].trimmedBytes()
                guard flag.count == 1, flag[0] == 0x30 || flag[0] == 0x31 else {
                    throw LineError("genre flag \(k + 1) is not 0 or 1")
                }
                if flag[0] == 0x31 && name != "unknown" { itemGenres.append(name) }
            }
            var attributes = ["original_title": rawTitle]
            if !releaseDate.isEmpty { attributes["release_date"] = releaseDate }
            let imdb = try f[4].trimmedText(.latin1)
            if !imdb.isEmpty { attributes["imdb_url"] = imdb }
            catalog.insert(CatalogItem(id: id, title: MovieTitle.display(title), year: year,
                                       genres: itemGenres, attributes: attributes))
        }
        return catalog
    }

    func loadUsers(_ url: URL, report: inout LoadReport) throws -> [String: UserAttributes] {
        var users: [String: UserAttributes] = [:]
        try LineDriver(url: url, lenient: options.lenient).run(report: &report) { line, _ in
            let f = line.fields(separatedBy: 0x7C)
            try FieldParse.expectCount(f, 5, "'|'-separated")
            let id = try FieldParse.id(f[0], "user id", .latin1)
            users[id] = [
                "age": try f[1].trimmedText(.latin1),
                "gender": try f[2].trimmedText(.latin1),
                "occupation": try f[3].trimmedText(.latin1),
                "zip": try f[4].trimmedText(.latin1),
            ]
        }
        return users
    }
}
