import Foundation

/// Loads MovieLens 1M: `ratings.dat` (UserID::MovieID::Rating::Timestamp), `movies.dat`
/// (MovieID::Title::Genres with `|`-separated genres) and `users.dat`
/// (UserID::Gender::Age::Occupation::Zip-code). All `::`-separated and Latin-1.
///
/// `movies.dat` and `users.dat` are optional; `ratings.dat` is required.
public struct MovieLens1MLoader: Sendable {
    public var options: LoadOptions

    public init(options: LoadOptions = LoadOptions()) { self.options = options }

    static let separator: [UInt8] = [0x3A, 0x3A]

    /// ML-1M occupation codes (README), 0–20.
    public static let occupations = [
        "other", "academic/educator", "artist", "clerical/admin", "college/grad student",
        "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
        "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
        "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
    ]

    public func load(directory: URL) throws -> Dataset {
        var report = LoadReport()
        var interactions: [Interaction] = []
        try LineDriver(url: directory.appendingPathComponent("ratings.dat"), lenient: options.lenient)
            .run(report: &report) { line, _ in
                let f = line.fields(separatedBy: Self.separator)
                try FieldParse.expectCount(f, 4, "'::'-separated")
                interactions.append(Interaction(
                    userID: try FieldParse.id(f[0], "user id", .latin1),
                    itemID: try FieldParse.id(f[1], "movie id", .latin1),
                    timestamp: try FieldParse.timestamp(f[3]),
                    rating: try FieldParse.rating(f[2])))
            }
        var catalog = ItemCatalog()
        if let url = firstExisting(["movies.dat"], in: directory) {
            catalog = try Self.loadMovies(url, lenient: options.lenient, report: &report)
        }
        var users: [String: UserAttributes] = [:]
        if let url = firstExisting(["users.dat"], in: directory) {
            try LineDriver(url: url, lenient: options.lenient).run(report: &report) { line, _ in
                let f = line.fields(separatedBy: Self.separator)
                try FieldParse.expectCount(f, 5, "'::'-separated")
                let id = try FieldParse.id(f[0], "user id", .latin1)
                var attributes: UserAttributes = [
                    "gender": try f[1].trimmedText(.latin1),
                    "age": try f[2].trimmedText(.latin1),
                    "occupation": try f[3].trimmedText(.latin1),
                    "zip": try f[4].trimmedText(.latin1),
                ]
                if let code = f[3].int64(), code >= 0, code < Self.occupations.count {
                    attributes["occupation"] = Self.occupations[Int(code)]
                }
                users[id] = attributes
            }
        }
        return Dataset(name: options.name ?? "ml-1m", interactions: interactions, catalog: catalog,
                       users: users, report: report)
    }

    /// Reads an ML-1M style `movies.dat` (also used as a title bridge by the enricher).
    static func loadMovies(_ url: URL, lenient: Bool, report: inout LoadReport) throws -> ItemCatalog {
        var catalog = ItemCatalog()
        try LineDriver(url: url, lenient: lenient).run(report: &report) { line, _ in
            let f = line.fields(separatedBy: separator)
            try FieldParse.expectCount(f, 3, "'::'-separated")
            let id = try FieldParse.id(f[0], "movie id", .latin1)
            let rawTitle = try f[1].trimmedText(.latin1)
            let (title, year) = MovieTitle.splitYear(rawTitle)
            let genres = try f[2].trimmedText(.latin1).split(separator: "|").map(String.init)
                .filter { !$0.isEmpty && $0 != "(no genres listed)" }
            catalog.insert(CatalogItem(id: id, title: MovieTitle.display(title), year: year, genres: genres,
                                       attributes: ["original_title": rawTitle]))
        }
        return catalog
    }
}
