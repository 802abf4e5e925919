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

    /// Appends one line (the object's JSON bytes, without the newline).
    mutating func append(_ line: [UInt8]) throws {
        buffer.append(contentsOf: line)
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

/// A tiny JSON builder for flat objects, writing UTF-8 bytes with keys in the order added. Fast and
/// deterministic, for the hot write paths (100k+ samples); reading back goes through `JSONDecoder`.
struct JSONObjectBuilder {
    private(set) var bytes: [UInt8] = [0x7B]
    private var first = true

    private mutating func key(_ k: String) {
        if !first { bytes.append(0x2C) }
        first = false
        Self.appendString(k, to: &bytes)
        bytes.append(0x3A)
    }

    mutating func add(_ k: String, _ v: String) { key(k); Self.appendString(v, to: &bytes) }
    mutating func add(_ k: String, _ v: Int64) { key(k); bytes.append(contentsOf: String(v).utf8) }
    mutating func add(_ k: String, _ v: Int) { key(k); bytes.append(contentsOf: String(v).utf8) }
    mutating func add(_ k: String, _ v: Double) {
        key(k)
        bytes.append(contentsOf: (v.isFinite ? formatNumber(v) : "null").utf8)
    }

    mutating func add(_ k: String, _ v: [String]) {
        key(k)
        bytes.append(0x5B)
        if !v.isEmpty {
            // One escape pass over the joined text: `","` separators contain no escapable byte
            // other than the quotes we add ourselves, so escape each element only when needed.
            if Self.isPlain(v.joined(separator: ",")) {
                bytes.append(0x22)
                bytes.append(contentsOf: v.joined(separator: "\",\"").utf8)
                bytes.append(0x22)
            } else {
                for (i, s) in v.enumerated() {
                    if i > 0 { bytes.append(0x2C) }
                    Self.appendString(s, to: &bytes)
                }
            }
        }
        bytes.append(0x5D)
    }

    /// Whether a string needs no JSON escaping.
    /// (libc `strcspn` does the scan: much faster than a Swift byte loop in debug builds.)
    static func isPlain(_ s: String) -> Bool {
        s.withCString { strcspn($0, escapable) } == s.utf8.count
    }

    /// Every byte that must be escaped inside a JSON string (NUL is caught by the length check).
    private static let escapable: String = {
        var scalars = String.UnicodeScalarView()
        for b in UInt8(1)..<0x20 { scalars.append(Unicode.Scalar(b)) }
        scalars.append("\"")
        scalars.append("\\")
        return String(scalars)
    }()

    /// A string-to-string object with keys sorted by their UTF-8 bytes.
    mutating func add(_ k: String, _ v: [String: String]) {
        key(k)
        bytes.append(0x7B)
        for (i, name) in v.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
            if i > 0 { bytes.append(0x2C) }
            Self.appendString(name, to: &bytes)
            bytes.append(0x3A)
            Self.appendString(v[name] ?? "", to: &bytes)
        }
        bytes.append(0x7D)
    }

    /// The finished object's bytes.
    func finish() -> [UInt8] { bytes + [0x7D] }

    /// The finished object as text.
    func finishText() -> String { String(decoding: finish(), as: UTF8.self) }

    /// Appends a JSON string literal: quotes, backslashes and control characters escaped; all other
    /// characters (including non-ASCII) written as UTF-8.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        if isPlain(s) {
            out.append(contentsOf: s.utf8)
            out.append(0x22)
            return
        }
        let start = out.count
        out.append(contentsOf: s.utf8)
        var i = start
        while i < out.count {
            let b = out[i]
            if b < 0x20 || b == 0x22 || b == 0x5C {
                let escape: [UInt8]
                switch b {
                case 0x22: escape = [0x5C, 0x22]
                case 0x5C: escape = [0x5C, 0x5C]
                case 0x0A: escape = [0x5C, 0x6E]
                case 0x0D: escape = [0x5C, 0x72]
                case 0x09: escape = [0x5C, 0x74]
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    escape = [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
                }
                out.replaceSubrange(i...i, with: escape)
                i += escape.count
            } else {
                i += 1
            }
        }
        out.append(0x22)
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
