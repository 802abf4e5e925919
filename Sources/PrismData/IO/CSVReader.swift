import Foundation

/// Reads RFC 4180 CSV: fields separated by a delimiter (comma by default), optionally wrapped in
/// double quotes; inside quotes the delimiter and line breaks are literal and `""` is one quote.
///
/// Streams the file through `LineReader`. A record that spans lines (a quoted line break) is
/// reported under the line it starts on. A quote inside an unquoted field, text after a closing
/// quote, invalid UTF-8, or an unterminated quote at the end of the file make the record malformed.
struct CSVReader {
    let url: URL
    var delimiter: UInt8 = 0x2C
    var lenient = false

    /// Calls `body` with each record's fields and its starting line number.
    /// `body` may throw `LineError` to reject a record; the strict/lenient policy applies to it too.
    func forEachRecord(report: inout LoadReport, _ body: ([String], Int) throws -> Void) throws {
        let file = url.path
        var parser = CSVRecordParser(delimiter: delimiter)
        var recordStart = 0
        var read = 0
        var skipped = 0
        var problems: [DataError] = []

        func fail(_ error: LineError, line: Int) throws {
            let dataError = DataError.malformedLine(file: file, line: line, reason: error.reason)
            guard lenient else { throw dataError }
            skipped += 1
            if problems.count < LoadReport.problemLimit { problems.append(dataError) }
        }

        try LineReader(url: url).forEachLine { line, number in
            if !parser.inRecord {
                if LineDriver.isBlank(line) { return }
                recordStart = number
            }
            let fields: [String]?
            do {
                fields = try parser.feed(line)
            } catch let error as LineError {
                read += 1
                try fail(error, line: recordStart)
                return
            }
            guard let fields else { return }
            read += 1
            do {
                try body(fields, recordStart)
            } catch let error as LineError {
                try fail(error, line: recordStart)
            }
        }
        if parser.inRecord {
            read += 1
            try fail(LineError("unterminated quoted field"), line: recordStart)
        }
        var own = LoadReport()
        own.linesRead[file] = read
        if skipped > 0 { own.skipped[file] = skipped }
        own.firstProblems = problems
        report.merge(own)
    }
}

/// The CSV state machine, fed one physical line at a time.
struct CSVRecordParser {
    let delimiter: UInt8
    private var fields: [String] = []
    private var current: [UInt8] = []
    private var inQuotes = false
    private var fieldWasQuoted = false
    private var afterClosingQuote = false
    /// Whether a record is open across a line break (inside quotes).
    private(set) var inRecord = false

    init(delimiter: UInt8) { self.delimiter = delimiter }

    mutating func reset() {
        fields = []
        current = []
        inQuotes = false
        fieldWasQuoted = false
        afterClosingQuote = false
        inRecord = false
    }

    /// Consumes one line; returns the record's fields when it is complete, nil when a quoted
    /// field continues on the next line.
    mutating func feed(_ line: Bytes) throws -> [String]? {
        do {
            return try feedUnchecked(line)
        } catch {
            reset()
            throw error
        }
    }

    private mutating func feedUnchecked(_ line: Bytes) throws -> [String]? {
        let quote: UInt8 = 0x22
        var i = 0
        let n = line.count
        while i < n {
            let b = line[i]
            if inQuotes {
                if b == quote {
                    if i + 1 < n, line[i + 1] == quote {
                        current.append(quote)
                        i += 1
                    } else {
                        inQuotes = false
                        afterClosingQuote = true
                    }
                } else {
                    current.append(b)
                }
            } else if b == delimiter {
                try finishField()
            } else if afterClosingQuote {
                throw LineError("unexpected character after closing quote in field \(fields.count + 1)")
            } else if b == quote {
                guard current.isEmpty else { throw LineError("quote inside unquoted field \(fields.count + 1)") }
                inQuotes = true
                fieldWasQuoted = true
            } else {
                current.append(b)
            }
            i += 1
        }
        if inQuotes {
            current.append(0x0A)
            inRecord = true
            return nil
        }
        try finishField()
        let record = fields
        fields = []
        inRecord = false
        return record
    }

    private mutating func finishField() throws {
        guard let s = String(validating: current, as: UTF8.self) else {
            throw LineError("invalid UTF-8 in field \(fields.count + 1)")
        }
        fields.append(s)
        current.removeAll(keepingCapacity: true)
        fieldWasQuoted = false
        afterClosingQuote = false
    }
}

/// Every record of a CSV file (RFC 4180, comma-separated), the header row included; a malformed
/// record is an error naming its line.
public func readCSVRecords(_ url: URL) throws -> [[String]] {
    var records: [[String]] = []
    var report = LoadReport()
    try CSVReader(url: url).forEachRecord(report: &report) { fields, _ in records.append(fields) }
    return records
}
