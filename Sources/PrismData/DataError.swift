import Foundation

/// Every error the `PrismData` module throws.
///
/// Errors that come from file input name the file and, where it applies, the 1-based line number,
/// so a message like `u.data:12: expected 4 fields, found 3` points straight at the bad input.
public enum DataError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A required file or directory does not exist.
    case fileNotFound(path: String)
    /// A file exists but could not be opened or read.
    case unreadable(path: String, reason: String)
    /// One line (or CSV record starting on that line) of an input file could not be parsed.
    case malformedLine(file: String, line: Int, reason: String)
    /// A header (CSV, RecBole) lacks a column the loader needs.
    case missingColumn(file: String, column: String)
    /// An output file could not be written.
    case writeFailed(path: String, reason: String)
    /// A caller-supplied option is out of range or inconsistent.
    case invalidOption(String)
    /// A prompt template is missing a placeholder or could not be read.
    case invalidTemplate(String)
    /// Loading finished but produced nothing usable (no interactions, no samples).
    case emptyDataset(String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "file not found: \(path)"
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .malformedLine(let file, let line, let reason):
            return "\(file):\(line): \(reason)"
        case .missingColumn(let file, let column):
            return "\(file): missing column '\(column)'"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .invalidOption(let message):
            return "invalid option: \(message)"
        case .invalidTemplate(let message):
            return "invalid prompt template: \(message)"
        case .emptyDataset(let message):
            return "empty dataset: \(message)"
        }
    }
}

extension DataError: LocalizedError {
    public var errorDescription: String? { description }
}
