import Foundation

/// Writes JSON lines through a buffer; one `append` per object.
struct JSONLinesWriter {
    private let handle: FileHandle
    private let path: String
    private var buffer: [UInt8] = []
    private(set) var linesWritten = 0

    init(url: URL) throws {
        path = url.path
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw DataError.writeFailed(path: path, reason: "cannot create file")
        }
        do {
            handle = try FileHandle(forWritingTo: url)
        } catch {
            throw DataError.writeFailed(path: path, reason: "\(error)")
        }
        buffer.reserveCapacity(1 << 20)
    }

    /// Appends one line (the object's JSON text, without the newline).
    mutating func append(_ line: String) throws {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        linesWritten += 1
        if buffer.count >= 1 << 20 { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw DataError.writeFailed(path: path, reason: "\(error)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func close() throws {
        try flush()
        do { try handle.close() } catch { throw DataError.writeFailed(path: path, reason: "\(error)") }
    }
}

/// A tiny JSON text builder for flat objects, with keys in the order written. Fast and deterministic,
/// for the hot write paths (100k+ samples); reading back goes through `JSONDecoder`.
struct JSONObjectBuilder {
    private(set) var text = "{"
    private var first = true

    private mutating func key(_ k: String) {
        if !first { text += "," }
        first = false
        Self.appendString(k, to: &text)
        text += ":"
    }

    mutating func add(_ k: String, _ v: String) { key(k); Self.appendString(v, to: &text) }
    mutating func add(_ k: String, _ v: Int64) { key(k); text += String(v) }
    mutating func add(_ k: String, _ v: Int) { key(k); text += String(v) }
    mutating func add(_ k: String, _ v: Double) { key(k); text += v.isFinite ? formatNumber(v) : "null" }

    mutating func add(_ k: String, _ v: [String]) {
        key(k)
        text += "["
        for (i, s) in v.enumerated() {
            if i > 0 { text += "," }
            Self.appendString(s, to: &text)
        }
        text += "]"
    }

    /// A string-to-string object with keys sorted by their UTF-8 bytes.
    mutating func add(_ k: String, _ v: [String: String]) {
        key(k)
        text += "{"
        for (i, name) in v.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
            if i > 0 { text += "," }
            Self.appendString(name, to: &text)
            text += ":"
            Self.appendString(v[name] ?? "", to: &text)
        }
        text += "}"
    }

    func finish() -> String { text + "}" }

    /// Appends a JSON string literal: quotes, backslashes and control characters escaped; other
    /// characters (including non-ASCII) written as UTF-8.
    static func appendString(_ s: String, to out: inout String) {
        out += "\""
        var needsEscape = false
        for b in s.utf8 where b < 0x20 || b == 0x22 || b == 0x5C {
            needsEscape = true
            break
        }
        if !needsEscape {
            out += s
        } else {
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// Reads a JSON-lines file of `T`, streaming. Blank lines are skipped; a line that does not decode
/// is `DataError.malformedLine` naming the file and line.
func readJSONLines<T: Decodable>(_ type: T.Type, from url: URL) throws -> [T] {
    let decoder = JSONDecoder()
    var result: [T] = []
    var report = LoadReport()
    try LineDriver(url: url, lenient: false).run(report: &report) { line, _ in
        do {
            result.append(try decoder.decode(T.self, from: Data(line)))
        } catch {
            throw LineError("invalid \(T.self) JSON: \(YelpLoader.describe(error))")
        }
    }
    return result
}
