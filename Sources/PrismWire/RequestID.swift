import Synchronization

/// Fresh request ids: RFC 9562 version-8 UUID strings made of a random 64-bit process prefix and a
/// 64-bit counter (`xxxxxxxx-xxxx-8xxx-Yxxx-xxxxxxxxxxxx`).
///
/// Unique like random UUIDs for practical purposes (a collision needs two processes drawing the same
/// 62 random bits), but with no system call per id: Foundation's `UUID()` opens and reads
/// `/dev/urandom` for every id, ~10% of a busy client's CPU in `prism bench fleet`.
public enum RequestID {
    private static let prefix: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()
    private static let counter = Atomic<UInt64>(0)

    /// A new id, distinct from every other this process made.
    public static func make() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        return format(prefix: prefix, counter: n)
    }

    /// The id for a given prefix and counter (version 8, RFC 9562 variant: 122 bits carry the two), in
    /// the canonical 8-4-4-4-12 form with upper-case hex digits (as Foundation's `uuidString`, which went
    /// through `printf` and cost ~20 % of a busy client's calling thread).
    static func format(prefix: UInt64, counter: UInt64) -> String {
        // 48 bits of prefix | version 8 | 12 bits of prefix | variant 10 | 62 bits of counter, with the
        // prefix's top 4 bits folded into the counter's top bits so none of the 64 is dropped.
        let high = (prefix << 4 & 0xFFFF_FFFF_FFFF_0000) | 0x8000 | (prefix & 0x0FFF)
        let low = (0b10 << 62) | ((counter ^ (prefix >> 60) << 58) & 0x3FFF_FFFF_FFFF_FFFF)
        return String(unsafeUninitializedCapacity: 36) { out in
            let digits: StaticString = "0123456789ABCDEF"
            var at = 0
            // Nibble `i` (0 = most significant) of the 128-bit value high:low.
            for i in 0..<32 {
                if i == 8 || i == 12 || i == 16 || i == 20 {
                    out[at] = UInt8(ascii: "-")
                    at += 1
                }
                let word = i < 16 ? high : low
                let nibble = Int(truncatingIfNeeded: word >> UInt64(60 - 4 * (i % 16))) & 0xF
                out[at] = digits.utf8Start[nibble]
                at += 1
            }
            return at
        }
    }
}
