import Foundation
import PrismWire

/// `concurrency` callers, each in a closed loop (one call outstanding at a time), for a warm-up and then
/// a measured window: the latencies (ns) of the calls that started inside the window.
enum ClosedLoop {
    static func run(concurrency: Int, warmupSeconds: Double, seconds: Double,
                    call: @escaping @Sendable (_ caller: Int) async throws -> Void) async throws -> (warmupEnd: UInt64, end: UInt64, latencies: [UInt64]) {
        let warmupEnd = monotonicNs() + UInt64(warmupSeconds * 1e9)
        let end = warmupEnd + UInt64(seconds * 1e9)
        let latencies = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for caller in 0..<concurrency {
                group.addTask {
                    var latencies: [UInt64] = []
                    latencies.reserveCapacity(200_000)
                    while true {
                        let start = monotonicNs()
                        if start >= end { break }
                        try await call(caller)
                        if start >= warmupEnd { latencies.append(monotonicNs() - start) }
                    }
                    return latencies
                }
            }
            var all: [UInt64] = []
            for try await part in group { all += part }
            return all
        }
        return (warmupEnd, end, latencies.sorted())
    }

    /// The `p` quantile (0–1) of sorted nanosecond latencies, in microseconds.
    static func percentileUs(_ sorted: [UInt64], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1_000
    }
}
