import Foundation
import Logging
import PrismDistill

/// `prism bench distill`: distillation throughput through the fleet with 1, 2, 4… teacher
/// workers (processes), each count measured in the same run, with its speed-up over one worker.
public struct DistillBench {
    public struct Options: Sendable {
        public var data: URL
        public var workerCounts = [1, 2, 4]
        /// "rule" (the rule oracle, CPU-bound) or "sleep" (a fixed time per prompt).
        public var teacher = "rule"
        public var sleepMs = 50
        /// Samples per run for one worker; a run with N workers distills N times as many.
        public var samplesPerWorker = 2_000
        public var shardSize = 32
        public var executable = currentExecutablePath()
        public init(data: URL) { self.data = data }
    }

    public struct Row: Sendable {
        public var workers: Int
        public var samples: Int
        public var seconds: Double
        public var samplesPerSecond: Double { Double(samples) / seconds }
    }

    let options: Options
    let log: @Sendable (String) -> Void

    public init(options: Options, log: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.log = log
    }

    public func run() async throws -> [Row] {
        var rows: [Row] = []
        for count in options.workerCounts {
            rows.append(try await measure(workers: count))
            let row = rows[rows.count - 1]
            log(String(format: "%2d workers: %6d samples in %6.2f s = %8.1f samples/s", row.workers, row.samples, row.seconds, row.samplesPerSecond))
        }
        return rows
    }

    func measure(workers count: Int) async throws -> Row {
        var children: [ChildProcess] = []
        defer { for child in children.reversed() { child.terminate() } }
        let (broker, frontend, backend) = try startBroker(executable: options.executable)
        children.append(broker)
        for i in 0..<count {
            children.append(try ChildProcess(executable: options.executable, arguments: [
                "worker", "--broker", backend, "--service", "teacher", "--teacher", options.teacher,
                "--sleep-ms", "\(options.sleepMs)", "--id", "teacher\(i)", "--log-level", "error"]))
        }
        try await FleetBench.waitForWorkers(frontend: frontend, service: "teacher", count: count)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("prism-bench-distill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        var distill = DistillOptions(samples: options.data.appendingPathComponent("samples.jsonl"),
                                     catalog: options.data.appendingPathComponent("catalog.jsonl"), output: output, broker: frontend)
        distill.limit = options.samplesPerWorker * count
        distill.shardSize = options.shardSize
        distill.maxInFlight = 2 * count  // one running and one waiting per worker
        distill.progress = .none
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let summary = try await Coordinator(options: distill, logger: logger).run()
        return Row(workers: count, samples: summary.done, seconds: summary.seconds)
    }

    public static func report(_ rows: [Row]) -> String {
        guard let base = rows.first else { return "" }
        var lines = ["workers  samples   seconds  samples/s  speed-up  efficiency (speed-up / (workers / \(base.workers)))"]
        for row in rows {
            let speedup = row.samplesPerSecond / base.samplesPerSecond
            let ideal = Double(row.workers) / Double(base.workers)
            lines.append(String(format: "%7d  %7d  %8.2f  %9.1f  %8.2f  %10.2f", row.workers, row.samples, row.seconds,
                                row.samplesPerSecond, speedup, speedup / ideal))
        }
        return lines.joined(separator: "\n")
    }
}
