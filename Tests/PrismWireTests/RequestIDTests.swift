import Foundation
@testable import PrismWire
import XCTest

final class RequestIDTests: XCTestCase {
    func testIdsAreVersion8UUIDsAndDistinct() {
        let ids = (0..<10_000).map { _ in RequestID.make() }
        XCTAssertEqual(Set(ids).count, ids.count)
        for id in ids.prefix(100) {
            let uuid = UUID(uuidString: id)
            XCTAssertNotNil(uuid, id)
            let bytes = withUnsafeBytes(of: uuid!.uuid) { Array($0) }
            XCTAssertEqual(bytes[6] >> 4, 8, "version nibble of \(id)")
            XCTAssertEqual(bytes[8] >> 6, 0b10, "variant bits of \(id)")
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
