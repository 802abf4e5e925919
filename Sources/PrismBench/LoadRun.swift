import Foundation
import PrismClient
import PrismWire

/// An open-loop, paced load on a running fleet (for soak runs): `rate` requests per second for
/// `seconds`, bodies taken in turn from `bodies`, at most `maxInFlight` waiting at once (beyond it a
/// tick's requests are skipped and counted, so an overloaded fleet shows as `skipped`, not as a
/// slower clock). Every `reportEvery` seconds one line: sent, OK, errors by status, p50/p99 of that
/// interval.
public struct LoadRun: Sendable {
    public struct Options: Sendable {
        public var service = "echo"
        public var rate = 1_000.0
        public var seconds = 60.0
        public var reportEvery = 10.0
        public var timeoutMs: Int64 = 10_000
        public var maxInFlight = 20_000
        public init() {}
    }

    public struct Summary: Sendable {
        public var sent = 0, ok = 0, skipped = 0
        public var errors: [String: Int] = [:]
        public var p50Ms = 0.0, p99Ms = 0.0
    }

    let client: PrismClient
    let options: Options
    let bodies: [Data]

    public init(client: PrismClient, options: Options, bodies: [Data]) {
        self.client = client
        self.options = options
        self.bodies = bodies.isEmpty ? [Data()] : bodies
    }

    /// Runs the load; `report` gets one line per interval and the summary at the end.
    public func run(report: @escaping @Sendable (String) -> Void) async -> Summary {
        let tally = LoadTally()
        let start = Date()
        let tickSeconds = 0.01
        var sent = 0, nextReport = options.reportEvery
        // Discarding: finished requests leave nothing behind in the group during a long run.
        await withDiscardingTaskGroup { group in
            while true {
                let elapsed = Date().timeIntervalSince(start)
                if elapsed >= options.seconds { break }
                let target = Int(elapsed * options.rate)
                for _ in 0..<max(0, target - sent) {
                    sent += 1
                    guard tally.inFlight < options.maxInFlight else {
                        tally.skip()
                        continue
                    }
                    let body = bodies[sent % bodies.count]
                    tally.begin()
                    group.addTask { [client, options] in
                        let began = Date()
                        do {
                            _ = try await client.call(service: options.service, body: body, timeoutMs: options.timeoutMs)
                            tally.end(ms: Date().timeIntervalSince(began) * 1000, error: nil)
                        } catch let error as PrismClientError {
                            tally.end(ms: Date().timeIntervalSince(began) * 1000, error: error.code?.name ?? "CLIENT")
                        } catch {
                            tally.end(ms: Date().timeIntervalSince(began) * 1000, error: "CLIENT")
                        }
                    }
                }
                if elapsed >= nextReport {
                    report(tally.interval(at: elapsed))
                    nextReport += options.reportEvery
                }
                try? await Task.sleep(for: .seconds(tickSeconds))
            }
        }
        let summary = tally.total()
        report(String(format: "total: sent %d, ok %d, skipped %d, errors %@, p50 %.2f ms, p99 %.2f ms",
                      summary.sent, summary.ok, summary.skipped, summary.errors.description, summary.p50Ms, summary.p99Ms))
        return summary
    }
}

/// Counters shared by the load's tasks.
final class LoadTally: @unchecked Sendable {
    private let lock = NSLock()
    private var running = 0
    private var latencies: [Double] = [], all: [Double] = []
    private var intervalErrors: [String: Int] = [:], errors: [String: Int] = [:]
    private var intervalSent = 0, sent = 0, ok = 0, skipped = 0, intervalSkipped = 0

    static let reservoir = 20_000

    var inFlight: Int { lock.withLock { running } }

    func begin() { lock.withLock { running += 1; sent += 1; intervalSent += 1 } }
    func skip() { lock.withLock { skipped += 1; intervalSkipped += 1; sent += 1; intervalSent += 1 } }

    func end(ms: Double, error: String?) {
        lock.withLock {
            running -= 1
            if let error {
                intervalErrors[error, default: 0] += 1
                errors[error, default: 0] += 1
            } else {
                ok += 1
                latencies.append(ms)
                // A fixed-size uniform sample for the overall percentiles (reservoir sampling), so that
                // a long run does not grow the load generator.
                if all.count < Self.reservoir {
                    all.append(ms)
                } else if case let slot = Int.random(in: 0..<ok), slot < Self.reservoir {
                    all[slot] = ms
                }
            }
        }
    }

    func interval(at elapsed: Double) -> String {
        lock.withLock {
            let sorted = latencies.sorted()
            let line = String(format: "t=%4.0fs sent %d ok %d skipped %d in-flight %d errors %@ p50 %.2f ms p99 %.2f ms",
                              elapsed, intervalSent, latencies.count, intervalSkipped, running, intervalErrors.description,
                              Self.percentile(sorted, 0.5), Self.percentile(sorted, 0.99))
            latencies.removeAll(keepingCapacity: true)
            intervalErrors.removeAll()
            intervalSent = 0
            intervalSkipped = 0
            return line
        }
    }

    func total() -> LoadRun.Summary {
        lock.withLock {
            let sorted = all.sorted()
            return LoadRun.Summary(sent: sent, ok: ok, skipped: skipped, errors: errors,
                                   p50Ms: Self.percentile(sorted, 0.5), p99Ms: Self.percentile(sorted, 0.99))
        }
    }

    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q))]
    }
}
