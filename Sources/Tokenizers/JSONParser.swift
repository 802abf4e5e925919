import Foundation

/// A JSON object with its members in file order, keyed by their exact text (`ExactString`).
/// Foundation's parser returns `[String: Any]`, whose keys compare by canonical equivalence: two
/// vocabulary entries such as ";" and U+037E would become one. This keeps every member.
final class JSONObject: @unchecked Sendable {
    /// Members in the order the file lists them (a repeated key keeps each occurrence here).
    let members: [(key: String, value: Any)]
    /// The index of each key's last occurrence (JSON parsers keep the last value of a repeated key).
    private let index: [ExactString: Int]

    init(members: [(key: String, value: Any)]) {
        self.members = members
        var index: [ExactString: Int] = [:]
        index.reserveCapacity(members.count)
        for (position, member) in members.enumerated() { index[exact: member.key] = position }
        self.index = index
    }

    subscript(key: String) -> Any? {
        index[exact: key].map { members[$0].value }
    }

    /// Distinct keys (the last value of each).
    var uniqueMembers: [(key: String, value: Any)] {
        members.enumerated().filter { index[exact: $0.element.key] == $0.offset }.map(\.element)
    }
}

/// A strict JSON (RFC 8259) parser for `tokenizer.json`: strings keep their scalars exactly as written
/// (no normalization, a literal or escaped U+FEFF included), objects are `JSONObject`s, arrays `[Any]`,
/// numbers `Int` when integral and in range, else `Double`, `true`/`false` as `Bool`, `null` as `NSNull`.
struct JSONParser {
    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0
    private static let maxDepth = 512

    /// Parses a whole document (a leading UTF-8 byte order mark is skipped).
    static func parse(_ data: Data) throws(TokenizerError) -> Any {
        var parser = JSONParser(bytes: [UInt8](data))
        if parser.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.position = 3 }
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.position == parser.bytes.count else { throw parser.error("unexpected text after the document") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func error(_ reason: String) -> TokenizerError {
        .invalidJSON("\(reason) at byte \(position)")
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func value() throws(TokenizerError) -> Any {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of the document") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return try string()
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        case UInt8(ascii: "n"): try literal("null"); return NSNull()
        default: return try number()
        }
    }

    private mutating func literal(_ word: String) throws(TokenizerError) {
        let expected = Array(word.utf8)
        guard bytes[position...].starts(with: expected) else { throw error("invalid literal") }
        position += expected.count
    }

    private mutating func enter() throws(TokenizerError) {
        depth += 1
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth)") }
    }

    private mutating func object() throws(TokenizerError) -> JSONObject {
        try enter()
        defer { depth -= 1 }
        position += 1  // {
        var members: [(key: String, value: Any)] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return JSONObject(members: members)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let key = try string()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            members.append((key, try value()))
            skipWhitespace()
            guard position < bytes.count else { throw error("unterminated object") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            guard bytes[position] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
            position += 1
            return JSONObject(members: members)
        }
    }

    private mutating func array() throws(TokenizerError) -> [Any] {
        try enter()
        defer { depth -= 1 }
        position += 1  // [
        var elements: [Any] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return elements
        }
        while true {
            elements.append(try value())
            skipWhitespace()
            guard position < bytes.count else { throw error("unterminated array") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            guard bytes[position] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
            position += 1
            return elements
        }
    }

    private mutating func string() throws(TokenizerError) -> String {
        position += 1  // opening quote
        var utf8: [UInt8] = []
        var plainStart = position
        while true {
            guard position < bytes.count else { throw error("unterminated string") }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                utf8.append(contentsOf: bytes[plainStart..<position])
                position += 1
                break
            }
            if byte < 0x20 { throw error("a control character inside a string") }
            guard byte == UInt8(ascii: "\\") else { position += 1; continue }
            utf8.append(contentsOf: bytes[plainStart..<position])
            position += 1
            guard position < bytes.count else { throw error("unterminated escape") }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"): utf8.append(contentsOf: try unicodeEscape())
            default: throw error("invalid escape")
            }
            plainStart = position
        }
        guard let text = String(validating: utf8, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
        return text
    }

    /// After `\u`: four hex digits, or a surrogate pair as two escapes; returns the scalar's UTF-8.
    private mutating func unicodeEscape() throws(TokenizerError) -> [UInt8] {
        var value = try hex4()
        if (0xD800..<0xDC00).contains(value) {
            guard bytes[position...].starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "u")]) else { throw error("a lone surrogate") }
            position += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("a lone surrogate") }
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(value) {
            throw error("a lone surrogate")
        }
        guard let scalar = Unicode.Scalar(value) else { throw error("an invalid code point") }
        return Array(String(Character(scalar)).utf8)
    }

    private mutating func hex4() throws(TokenizerError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("a short \\u escape") }
        var value: UInt32 = 0
        for byte in bytes[position..<(position + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("a bad hex digit in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        position += 4
        return value
    }

    private mutating func number() throws(TokenizerError) -> Any {
        let start = position
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        var integral = true
        let digits = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        guard position < bytes.count, digits(bytes[position]) else { throw error("invalid value") }
        while position < bytes.count, digits(bytes[position]) { position += 1 }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            integral = false
            position += 1
            guard position < bytes.count, digits(bytes[position]) else { throw error("invalid number") }
            while position < bytes.count, digits(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            integral = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count, digits(bytes[position]) else { throw error("invalid number") }
            while position < bytes.count, digits(bytes[position]) { position += 1 }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if integral, let int = Int(text) { return int }
        guard let double = Double(text) else { throw error("invalid number") }
        return double
    }
}
