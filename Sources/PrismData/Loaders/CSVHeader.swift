import Foundation

/// Column lookup in a CSV (or RecBole) header row by any of several accepted names, case-insensitively.
struct CSVHeader {
    let file: String
    let names: [String]
    private let index: [String: Int]

    init(_ names: [String], file: String) {
        self.file = file
        self.names = names
        var index: [String: Int] = [:]
        for (i, name) in names.enumerated() {
            let key = Self.canonical(name)
            if index[key] == nil { index[key] = i }
        }
        self.index = index
    }

    /// Lowercased with `_`, `-` and spaces removed: "userId", "user_id" and "User ID" all match.
    static func canonical(_ name: String) -> String {
        String(name.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
            .trimmingCharacters(in: .whitespaces)
    }

    /// The column of the first matching name, or nil.
    func column(_ candidates: [String]) -> Int? {
        for c in candidates {
            if let i = index[Self.canonical(c)] { return i }
        }
        return nil
    }

    /// The column of the first matching name, or `DataError.missingColumn` naming the first candidate.
    func require(_ candidates: [String]) throws -> Int {
        guard let i = column(candidates) else { throw DataError.missingColumn(file: file, column: candidates[0]) }
        return i
    }
}

extension Array where Element == String {
    /// The field at `index`, or a `LineError` when the record is too short.
    func field(_ index: Int, _ name: String) throws -> String {
        guard index < count else { throw LineError("missing field '\(name)' (record has \(count) fields)") }
        return self[index]
    }
}
