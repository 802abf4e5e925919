import Foundation
import PrismBench
import XCTest

/// `ProcessCPU` (the per-request CPU column of `bench fleet`) reads /proc/PID/stat correctly.
final class ProcessCPUTests: XCTestCase {
    /// A command name with spaces and parentheses does not shift the fields; utime + stime in ticks.
    func testParsesUserAndSystemTicksAfterTheCommandName() {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let line = "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 130 0 0 20 0 3 0 12345 1000000 300"
        XCTAssertEqual(ProcessCPU.seconds(statLine: line) ?? -1, 380 / ticks, accuracy: 1e-9)
        XCTAssertNil(ProcessCPU.seconds(statLine: "4242 (truncated) S 1 2"))
        XCTAssertNil(ProcessCPU.seconds(statLine: "no parenthesis at all"))
    }

    /// Burning CPU in this process shows up in its own sample; a process that does not exist reads nil.
    func testOwnProcessAdvancesWhileBusy() throws {
        let me = getpid()
        guard let before = ProcessCPU.seconds(pid: me) else { throw XCTSkip("no /proc here") }
        let start = Date()
        var x = 1.0
        while Date().timeIntervalSince(start) < 0.3 { x = (x * 1.000001).truncatingRemainder(dividingBy: 7) + 1 }
        XCTAssertGreaterThan(x, 0)
        let after = try XCTUnwrap(ProcessCPU.seconds(pid: me))
        XCTAssertGreaterThanOrEqual(after - before, 0.2, "0.3 s of busy loop")
        XCTAssertNil(ProcessCPU.seconds(pid: Int32.max))
        let groups = ProcessGroups([("self", [me]), ("gone", [Int32.max])]).sample()
        XCTAssertEqual(groups.count, 2)
        XCTAssertGreaterThanOrEqual(groups[0], after)
        XCTAssertEqual(groups[1], 0)
    }
}
