/// The GPT-2 byte-to-unicode table: every byte maps to a printable scalar. Printable Latin-1
/// bytes map to themselves; the others (controls, space, soft hyphen, …) to U+0100 onwards,
/// in byte order.
enum ByteLevelAlphabet {
    /// `scalars[b]` is the scalar that stands for byte `b`.
    static let scalars: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt16 = 256  // U+0100…U+0143: all valid scalars
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next) ?? " "
                next += 1
            }
        }
        return table
    }()

    /// The inverse table: scalar value → byte.
    static let bytes: [UInt32: UInt8] = {
        var inverse: [UInt32: UInt8] = [:]
        for (byte, scalar) in scalars.enumerated() { inverse[scalar.value] = UInt8(byte) }
        return inverse
    }()

    /// Maps the UTF-8 encoding of `text` to byte-level scalars.
    static func encode(_ text: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for scalar in text {
            for byte in scalar.utf8 { out.append(scalars[Int(byte)]) }
        }
        return out
    }
}
