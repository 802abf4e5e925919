import Foundation

/// Streams a file line by line as raw bytes, reading fixed-size chunks so multi-gigabyte files
/// never sit in memory whole.
///
/// Lines end at `\n`; a trailing `\r` is removed (CRLF files), and a UTF-8 byte-order mark at the
/// start of the file is dropped. Line numbers are 1-based.
struct LineReader {
    let url: URL
    var chunkSize = 1 << 20

    /// Calls `body` with each line's bytes (valid only during the call) and its line number.
    func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.fileNotFound(path: path) }
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw DataError.unreadable(path: path, reason: "\(error)")
        }
        defer { try? handle.close() }

        var pending: [UInt8] = []
        pending.reserveCapacity(chunkSize + 4096)
        var lineNumber = 0
        var atFileStart = true

        while true {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: chunkSize)
            } catch {
                throw DataError.unreadable(path: path, reason: "\(error)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            pending.append(contentsOf: chunk)
            if atFileStart {
                atFileStart = false
                if pending.starts(with: [0xEF, 0xBB, 0xBF]) { pending.removeFirst(3) }
            }
            let consumed = try pending.withUnsafeBufferPointer { buffer -> Int in
                var start = 0
                var i = 0
                let n = buffer.count
                while i < n {
                    if buffer[i] == 0x0A {
                        lineNumber += 1
                        try body(Self.trimCR(buffer, start, i), lineNumber)
                        start = i + 1
                    }
                    i += 1
                }
                return start
            }
            if consumed > 0 { pending.removeFirst(consumed) }
        }
        if !pending.isEmpty {
            lineNumber += 1
            try pending.withUnsafeBufferPointer { buffer in
                try body(Self.trimCR(buffer, 0, buffer.count), lineNumber)
            }
        }
    }

    private static func trimCR(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        var end = end
        if end > start, buffer[end - 1] == 0x0D { end -= 1 }
        return UnsafeBufferPointer(rebasing: buffer[start..<end])
    }
}

/// A parse failure inside one line; the loop that owns the file turns it into
/// `DataError.malformedLine` (strict) or a skip count (lenient).
struct LineError: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Drives a loader over one file's lines: skips blank lines, numbers lines, and applies the
/// strict or lenient policy to lines whose parser throws `LineError`.
struct LineDriver {
    let url: URL
    let lenient: Bool

    /// Runs `parse` on each non-blank line; counts go into `report` under the file's path.
    func run(
        report: inout LoadReport,
        _ parse: (UnsafeBufferPointer<UInt8>, Int) throws -> Void
    ) throws {
        let file = url.path
        var read = 0
        var skipped = 0
        var problems: [DataError] = []
        try LineReader(url: url).forEachLine { line, number in
            if Self.isBlank(line) { return }
            read += 1
            do {
                try parse(line, number)
            } catch let error as LineError {
                let dataError = DataError.malformedLine(file: file, line: number, reason: error.reason)
                guard lenient else { throw dataError }
                skipped += 1
                if problems.count < LoadReport.problemLimit { problems.append(dataError) }
            }
        }
        var own = LoadReport()
        own.linesRead[file] = read
        if skipped > 0 { own.skipped[file] = skipped }
        own.firstProblems = problems
        report.merge(own)
    }

    static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }
}
