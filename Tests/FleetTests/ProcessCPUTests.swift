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

    /// Burning CPU in this process shows up in its own sample as much as the kernel's own account of it
    /// (getrusage) says, however busy the host is; a process that does not exist reads nil.
    func testOwnProcessAdvancesWhileBusy() throws {
        let me = getpid()
        guard let before = ProcessCPU.seconds(pid: me) else { throw XCTSkip("no /proc here") }
        func rusageSeconds() -> Double {
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        // Busy until the kernel has charged 0.3 s of CPU (on a loaded host that takes longer than 0.3 s).
        let reference = rusageSeconds(), start = Date()
        var x = 1.0
        while rusageSeconds() - reference < 0.3 && Date().timeIntervalSince(start) < 30 {
            for _ in 0..<10_000 { x = (x * 1.000001).truncatingRemainder(dividingBy: 7) + 1 }
        }
        XCTAssertGreaterThan(x, 0)
        let charged = rusageSeconds() - reference
        let after = try XCTUnwrap(ProcessCPU.seconds(pid: me))
        XCTAssertGreaterThanOrEqual(charged, 0.3)
        // /proc counts in clock ticks (10 ms): the same CPU time, to a few ticks.
        XCTAssertEqual(after - before, charged, accuracy: 0.05, "/proc/self/stat against getrusage")
        XCTAssertNil(ProcessCPU.seconds(pid: Int32.max))
        let groups = ProcessGroups([("self", [me]), ("gone", [Int32.max])]).sample()
        XCTAssertEqual(groups.count, 2)
        XCTAssertGreaterThanOrEqual(groups[0], after)
        XCTAssertEqual(groups[1], 0)
    }
}
