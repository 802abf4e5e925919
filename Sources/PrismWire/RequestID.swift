import Foundation
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

    /// The id for a given prefix and counter (version 8, RFC 9562 variant: 122 bits carry the two).
    static func format(prefix: UInt64, counter: UInt64) -> String {
        // 48 bits of prefix | version 8 | 12 bits of prefix | variant 10 | 62 bits of counter, with the
        // prefix's top 4 bits folded into the counter's top bits so none of the 64 is dropped.
        let high = (prefix << 4 & 0xFFFF_FFFF_FFFF_0000) | 0x8000 | (prefix & 0x0FFF)
        let low = (0b10 << 62) | ((counter ^ (prefix >> 60) << 58) & 0x3FFF_FFFF_FFFF_FFFF)
        let bytes = withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { Array($0) }
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
            .uuidString
    }
}
