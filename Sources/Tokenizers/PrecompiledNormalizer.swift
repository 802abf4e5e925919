import Foundation

/// SentencePiece's `precompiled_charsmap` normalizer (T5, ALBERT, XLM-R, mBART, …).
///
/// The charsmap is a little-endian `u32` byte length, a darts-clone double-array trie of that
/// many bytes mapping UTF-8 byte strings to offsets, then a blob of NUL-terminated replacement
/// strings. Like Hugging Face, each extended grapheme cluster shorter than 6 UTF-8 bytes is
/// replaced whole when the trie knows a prefix of it (the shortest such prefix decides the
/// replacement); otherwise each scalar is looked up on its own.
struct PrecompiledNormalizer: Normalizer {
    private let trie: [UInt32]
    private let replacements: [UInt8]

    init(_ node: JSONNode) throws(TokenizerError) {
        let field = node["precompiled_charsmap"]
        guard let bytes = Data(base64Encoded: try field.string()).map({ [UInt8]($0) }) else {
            throw .invalidField(path: field.path, reason: "not base64")
        }
        func fail(_ reason: String) -> TokenizerError { .invalidField(path: field.path, reason: reason) }
        guard bytes.count >= 4 else { throw fail("too short") }
        let trieBytes = Int(Self.readUInt32(bytes, at: 0)) / 4 * 4
        guard trieBytes >= 4, 4 + trieBytes <= bytes.count else { throw fail("truncated trie") }
        trie = stride(from: 4, to: 4 + trieBytes, by: 4).map { Self.readUInt32(bytes, at: $0) }
        replacements = Array(bytes[(4 + trieBytes)...])
        guard String(validating: replacements, as: UTF8.self) != nil else { throw fail("replacements are not UTF-8") }
    }

    private static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: text)
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for grapheme in String(view) {
            let utf8 = Array(grapheme.utf8)
            if utf8.count < 6, let replacement = transform(utf8) {
                out.append(contentsOf: replacement)
                continue
            }
            for scalar in grapheme.unicodeScalars {
                if let replacement = transform(Array(scalar.utf8)) {
                    out.append(contentsOf: replacement)
                } else {
                    out.append(scalar)
                }
            }
        }
        return out
    }

    /// The replacement for the shortest prefix of `key` that the trie holds, if any.
    private func transform(_ key: [UInt8]) -> [Unicode.Scalar]? {
        guard let offset = shortestPrefixValue(key), offset >= 0, offset <= replacements.count else { return nil }
        let end = replacements[offset...].firstIndex(of: 0) ?? replacements.count
        guard let text = String(validating: replacements[offset..<end], as: UTF8.self) else { return nil }
        return Array(text.unicodeScalars)
    }

    /// Walks the double array along `key` (stopping at a NUL byte) and returns the value of
    /// the first leaf met. Out-of-range links in a damaged trie end the walk.
    private func shortestPrefixValue(_ key: [UInt8]) -> Int? {
        func offset(_ unit: UInt32) -> Int { Int(unit >> 10) << Int((unit & (1 << 9)) >> 6) }
        func label(_ unit: UInt32) -> UInt32 { unit & (1 << 31 | 0xFF) }
        func hasLeaf(_ unit: UInt32) -> Bool { (unit >> 8) & 1 == 1 }
        var position = offset(trie[0])
        for byte in key {
            if byte == 0 { break }
            position ^= Int(byte)
            guard position < trie.count else { return nil }
            let unit = trie[position]
            if label(unit) != UInt32(byte) { return nil }
            position ^= offset(unit)
            if hasLeaf(unit) {
                guard position < trie.count else { return nil }
                return Int(trie[position] & 0x7FFF_FFFF)
            }
        }
        return nil
    }
}
