import XCTest
final class PrismWireTestsPlaceholder: XCTestCase { func testNothing() {} }
