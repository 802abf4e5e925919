#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// CPU time (user + system) of processes, from `/proc/PID/stat`: what `bench fleet` charges to each part
/// of a path (the calling process, the broker, the workers) per request.
public enum ProcessCPU {
    /// Seconds of CPU the process has used so far, or nil where /proc is unavailable or the process is gone.
    public static func seconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        return seconds(statLine: text)
    }

    /// Parses a `/proc/PID/stat` line: utime and stime are fields 14 and 15, counted after the command
    /// name, which is in parentheses and may itself hold spaces.
    public static func seconds(statLine: String) -> Double? {
        guard let close = statLine.lastIndex(of: ")") else { return nil }
        let fields = statLine[statLine.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), so utime (14) and stime (15) are fields[11] and fields[12].
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / ticksPerSecond
    }

    static let ticksPerSecond: Double = {
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        return ticks > 0 ? Double(ticks) : 100
    }()
}

/// Processes grouped by their role in a benchmark path ("clients", "broker", "workers", …).
public struct ProcessGroups: Sendable {
    public var groups: [(role: String, pids: [Int32])]

    public init(_ groups: [(role: String, pids: [Int32])]) { self.groups = groups }

    /// CPU seconds used so far by each group (a process that is gone counts 0).
    public func sample() -> [Double] {
        groups.map { group in group.pids.reduce(0) { $0 + (ProcessCPU.seconds(pid: $1) ?? 0) } }
    }
}
