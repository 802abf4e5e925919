import Foundation

/// Options every loader understands.
public struct LoadOptions: Sendable {
    /// Skip malformed lines and count them in the `LoadReport` instead of throwing.
    public var lenient: Bool
    /// The dataset name used in tables and output; each loader has a default ("ml-100k", ...).
    public var name: String?
    /// Field delimiter for the generic CSV loader (a single ASCII character).
    public var csvDelimiter: Character

    public init(lenient: Bool = false, name: String? = nil, csvDelimiter: Character = ",") {
        self.lenient = lenient
        self.name = name
        self.csvDelimiter = csvDelimiter
    }
}

/// The dataset formats `loadDataset(kind:directory:options:)` reads.
public enum DatasetKind: String, Sendable, CaseIterable, Codable {
    /// MovieLens 100K: `u.data`, `u.item`, `u.user` (and `u.genre` if present).
    case ml100k = "ml-100k"
    /// MovieLens 1M: `ratings.dat`, `movies.dat`, `users.dat` (`::`-separated, Latin-1).
    case ml1m = "ml-1m"
    /// MovieLens latest / latest-small: `ratings.csv`, `movies.csv`, `tags.csv`, `links.csv`.
    case mlLatest = "ml-latest"
    /// Yelp Open Dataset JSON lines: review, business, user.
    case yelp
    /// RecBole atomic files: `*.inter`, `*.item`, `*.user`.
    case recbole
    /// Generic CSV: `interactions.csv` (user, item, timestamp[, rating]), `items.csv`, `users.csv`.
    case csv

    /// Parses a command-line spelling: the raw value, or aliases such as "ml100k", "movielens-1m",
    /// "ml-latest-small", "atomic".
    public init?(argument: String) {
        let a = argument.lowercased().replacingOccurrences(of: "_", with: "-")
        switch a {
        case "ml-100k", "ml100k", "movielens-100k": self = .ml100k
        case "ml-1m", "ml1m", "movielens-1m": self = .ml1m
        case "ml-latest", "ml-latest-small", "mllatest", "movielens-latest": self = .mlLatest
        case "yelp": self = .yelp
        case "recbole", "atomic": self = .recbole
        case "csv", "generic", "generic-csv": self = .csv
        default: return nil
        }
    }

    /// Whether items are MovieLens movies, so `movies_extrainfos.dat` can enrich them.
    public var isMovieLens: Bool { self == .ml100k || self == .ml1m || self == .mlLatest }
}

/// Loads a dataset of the given kind from a directory, in the common model.
///
/// Throws `DataError` for missing files and (unless `options.lenient`) for malformed lines.
public func loadDataset(kind: DatasetKind, directory: URL, options: LoadOptions = LoadOptions()) throws -> Dataset {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
        throw DataError.fileNotFound(path: directory.path)
    }
    switch kind {
    case .ml100k: return try MovieLens100KLoader(options: options).load(directory: directory)
    case .ml1m: return try MovieLens1MLoader(options: options).load(directory: directory)
    case .mlLatest: return try MovieLensLatestLoader(options: options).load(directory: directory)
    case .yelp: return try YelpLoader(options: options).load(directory: directory)
    case .recbole: return try RecBoleLoader(options: options).load(directory: directory)
    case .csv: return try GenericCSVLoader(options: options).load(directory: directory)
    }
}

/// Returns the first of `names` that exists in `directory`, or nil.
func firstExisting(_ names: [String], in directory: URL) -> URL? {
    for name in names {
        let url = directory.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: url.path) { return url }
    }
    return nil
}

/// Returns the first of `names` that exists in `directory`, or throws `fileNotFound` for the first name.
func requireFile(_ names: [String], in directory: URL) throws -> URL {
    guard let url = firstExisting(names, in: directory) else {
        throw DataError.fileNotFound(path: directory.appendingPathComponent(names[0]).path)
    }
    return url
}
