/// Attributes of one user (demographics and the like), as strings.
public typealias UserAttributes = [String: String]

/// A loaded dataset in the common model every loader produces.
public struct Dataset: Sendable {
    /// A short name for tables and output, e.g. "ml-100k".
    public var name: String
    /// All interactions, in file order.
    public var interactions: [Interaction]
    /// The item catalog.
    public var catalog: ItemCatalog
    /// Per-user attributes, keyed by user id (empty where the source has none).
    public var users: [String: UserAttributes]
    /// What the loader skipped (lenient mode) and read.
    public var report: LoadReport

    public init(
        name: String, interactions: [Interaction], catalog: ItemCatalog,
        users: [String: UserAttributes] = [:], report: LoadReport = LoadReport()
    ) {
        self.name = name
        self.interactions = interactions
        self.catalog = catalog
        self.users = users
        self.report = report
    }

    /// Number of distinct users among the interactions.
    public var userCount: Int { Set(interactions.lazy.map { $0.userID }).count }

    /// Number of distinct items among the interactions.
    public var interactedItemCount: Int { Set(interactions.lazy.map { $0.itemID }).count }
}

/// Counts of what a loader read and skipped, per file.
public struct LoadReport: Sendable, Hashable {
    /// Lines (records) read per file, by the path as given to the loader.
    public var linesRead: [String: Int] = [:]
    /// Malformed lines skipped per file (lenient mode only; strict mode throws instead).
    public var skipped: [String: Int] = [:]
    /// The first few skip reasons, for the log.
    public var firstProblems: [DataError] = []

    public init() {}

    /// Total skipped lines over all files.
    public var totalSkipped: Int { skipped.values.reduce(0, +) }

    /// Adds another report's counts to this one.
    public mutating func merge(_ other: LoadReport) {
        for (k, v) in other.linesRead { linesRead[k, default: 0] += v }
        for (k, v) in other.skipped { skipped[k, default: 0] += v }
        firstProblems.append(contentsOf: other.firstProblems.prefix(max(0, Self.problemLimit - firstProblems.count)))
    }

    /// How many problems `firstProblems` keeps.
    public static let problemLimit = 10

    /// One line per file with skips, e.g. "u.data: skipped 2 of 100002 lines".
    public var summary: String {
        if skipped.isEmpty { return "no lines skipped" }
        return skipped.keys.sorted().map { file in
            "\(file): skipped \(skipped[file] ?? 0) of \(linesRead[file] ?? 0) lines"
        }.joined(separator: "\n")
    }
}
