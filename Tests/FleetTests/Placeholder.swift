import XCTest
final class FleetTestsPlaceholder: XCTestCase { func testNothing() {} }
