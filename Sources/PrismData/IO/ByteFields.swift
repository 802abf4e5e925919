/// Byte-level helpers the line parsers share: splitting on a separator, decoding text, parsing numbers.
///
/// Working on `UnsafeBufferPointer<UInt8>` rather than `String` keeps parsing fast even in debug builds.
typealias Bytes = UnsafeBufferPointer<UInt8>

/// How a file's text is encoded.
enum TextEncoding: Sendable {
    case utf8
    case latin1
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// Splits on a one-byte separator, keeping empty fields.
    func fields(separatedBy separator: UInt8) -> [Bytes] {
        var result: [Bytes] = []
        var start = 0
        for i in 0..<count where self[i] == separator {
            result.append(Bytes(rebasing: self[start..<i]))
            start = i + 1
        }
        result.append(Bytes(rebasing: self[start..<count]))
        return result
    }

    /// Splits on a multi-byte separator such as `::`, keeping empty fields.
    func fields(separatedBy separator: [UInt8]) -> [Bytes] {
        if separator.count == 1 { return fields(separatedBy: separator[0]) }
        var result: [Bytes] = []
        var start = 0
        var i = 0
        let m = separator.count
        while i + m <= count {
            var match = true
            for j in 0..<m where self[i + j] != separator[j] {
                match = false
                break
            }
            if match {
                result.append(Bytes(rebasing: self[start..<i]))
                i += m
                start = i
            } else {
                i += 1
            }
        }
        result.append(Bytes(rebasing: self[start..<count]))
        return result
    }

    /// Decodes the bytes as text; invalid UTF-8 is a `LineError`.
    func text(_ encoding: TextEncoding) throws -> String {
        switch encoding {
        case .utf8:
            guard let s = String(validating: self, as: UTF8.self) else { throw LineError("invalid UTF-8") }
            return s
        case .latin1:
            return latin1String(self)
        }
    }

    /// The bytes as text with surrounding spaces and tabs removed.
    func trimmedText(_ encoding: TextEncoding) throws -> String {
        try trimmedBytes().text(encoding)
    }

    /// The bytes without leading and trailing spaces and tabs.
    func trimmedBytes() -> Bytes {
        var lo = 0, hi = count
        while lo < hi, self[lo] == 0x20 || self[lo] == 0x09 { lo += 1 }
        while hi > lo, self[hi - 1] == 0x20 || self[hi - 1] == 0x09 { hi -= 1 }
        return Bytes(rebasing: self[lo..<hi])
    }

    /// Parses an optionally signed decimal integer (surrounding blanks allowed), or nil.
    func int64() -> Int64? {
        let t = trimmedBytes()
        guard !t.isEmpty else { return nil }
        var i = 0
        var negative = false
        if t[0] == 0x2D || t[0] == 0x2B {
            negative = t[0] == 0x2D
            i = 1
            if t.count == 1 { return nil }
        }
        var value: Int64 = 0
        while i < t.count {
            let d = t[i]
            guard d >= 0x30 && d <= 0x39 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d - 0x30))
            if o1 || o2 { return nil }
            value = a
            i += 1
        }
        return negative ? -value : value
    }

    /// Parses a decimal floating-point number (surrounding blanks allowed), or nil.
    func double() -> Double? {
        let t = trimmedBytes()
        guard !t.isEmpty, t.count < 64 else { return nil }
        let s = String(decoding: t, as: UTF8.self)
        guard let v = Double(s), v.isFinite else { return nil }
        return v
    }
}

/// Decodes ISO-8859-1: every byte is the Unicode scalar with the same value.
func latin1String(_ bytes: Bytes) -> String {
    if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
    var scalars = String.UnicodeScalarView()
    for b in bytes { scalars.append(Unicode.Scalar(b)) }
    return String(scalars)
}

/// Helpers that turn a field into a typed value or a `LineError` naming the field.
enum FieldParse {
    static func id(_ field: Bytes, _ name: String, _ encoding: TextEncoding = .utf8) throws -> String {
        let s = try field.trimmedText(encoding)
        guard !s.isEmpty else { throw LineError("empty \(name)") }
        return s
    }

    static func timestamp(_ field: Bytes, _ name: String = "timestamp") throws -> Int64 {
        if let v = field.int64() { return v }
        if let d = field.double(), d.magnitude < 9.0e15 { return Int64(d.rounded(.down)) }
        let text = (try? field.trimmedText(.utf8)) ?? ""
        if let t = parseDateTime(text) { return t }
        throw LineError("\(name) is not a number or date: '\(text.prefix(40))'")
    }

    static func rating(_ field: Bytes, _ name: String = "rating") throws -> Double {
        guard let v = field.double() else {
            throw LineError("\(name) is not a number: '\(String(decoding: field.prefix(40), as: UTF8.self))'")
        }
        return v
    }

    static func expectCount(_ fields: [Bytes], _ expected: Int, _ what: String) throws {
        guard fields.count == expected else {
            throw LineError("expected \(expected) \(what) fields, found \(fields.count)")
        }
    }

    static func expectAtLeast(_ fields: [Bytes], _ expected: Int, _ what: String) throws {
        guard fields.count >= expected else {
            throw LineError("expected at least \(expected) \(what) fields, found \(fields.count)")
        }
    }
}
