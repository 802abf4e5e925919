import XCTest
final class PrismBrokerTestsPlaceholder: XCTestCase { func testNothing() {} }
