import Foundation
@testable import PrismWire
import XCTest

final class RequestIDTests: XCTestCase {
    func testIdsAreVersion8UUIDsAndDistinct() throws {
        let ids = (0..<10_000).map { _ in RequestID.make() }
        XCTAssertEqual(Set(ids).count, ids.count)
        for id in ids.prefix(100) {
            let uuid = try XCTUnwrap(UUID(uuidString: id), id)
            let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
            XCTAssertEqual(bytes[6] >> 4, 8, "version nibble of \(id)")
            XCTAssertEqual(bytes[8] >> 6, 0b10, "variant bits of \(id)")
        }
    }

    /// The hand-written hex form is exactly Foundation's `uuidString` of the same 16 bytes.
    func testFormatMatchesFoundationUUIDString() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1_000 {
            let (prefix, counter) = (generator.next() as UInt64, generator.next() as UInt64)
            let id = RequestID.format(prefix: prefix, counter: counter)
            guard let uuid = UUID(uuidString: id) else { return XCTFail("not a UUID: \(id)") }
            XCTAssertEqual(uuid.uuidString, id)
            let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
            let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            XCTAssertEqual(high & 0xFFFF_FFFF_FFFF_0000, prefix << 4 & 0xFFFF_FFFF_FFFF_0000, id)
            XCTAssertEqual(high & 0x0FFF, prefix & 0x0FFF, id)
        }
    }

    /// Every bit of the process prefix and of the counter changes the id.
    func testEveryPrefixAndCounterBitCounts() {
        let base = RequestID.format(prefix: 0x0123_4567_89AB_CDEF, counter: 42)
        for bit in 0..<64 {
            XCTAssertNotEqual(RequestID.format(prefix: 0x0123_4567_89AB_CDEF ^ (1 << UInt64(bit)), counter: 42), base,
                              "prefix bit \(bit)")
        }
        for bit in 0..<58 {
            XCTAssertNotEqual(RequestID.format(prefix: 0x0123_4567_89AB_CDEF, counter: 42 ^ (1 << UInt64(bit))), base,
                              "counter bit \(bit)")
        }
    }
}
