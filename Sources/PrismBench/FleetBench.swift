import Foundation
import Logging
import PrismClient
import PrismWire

/// `prism bench fleet`: echo round trips through the broker (2 echo workers) against a direct
/// DEALER/ROUTER round trip to 2 echo servers, side by side in one run, with the same client.
public struct FleetBench {
    public struct Options: Sendable {
        public var concurrencies = [1, 4, 16]
        public var seconds = 3.0
        public var warmupSeconds = 0.5
        public var workers = 2
        public var payloadBytes = 64
        /// Client connections the concurrent callers share (a service multiplexes its callers
        /// over one client); 0 gives every caller its own connection and I/O thread.
        public var connections = 1
        /// "tcp" (loopback) or "ipc" (Unix domain sockets), for both paths.
        public var transport = "tcp"
        public var executable = currentExecutablePath()
        public init() {}
    }

    public struct Measurement: Sendable {
        public var path: String
        public var concurrency: Int
        public var count: Int
        public var seconds: Double
        public var p50Us: Double
        public var p99Us: Double
        public var requestsPerSecond: Double { Double(count) / seconds }
        /// CPU microseconds per measured request, by role on this path (the calling process, the broker or
        /// proxy, the workers or servers), over the measured window; empty where /proc is unavailable.
        public var cpuMicrosPerRequest: [(role: String, micros: Double)] = []
    }

    let options: Options
    let log: @Sendable (String) -> Void

    public init(options: Options, log: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.log = log
    }

    public func run() async throws -> [Measurement] {
        var children: [ChildProcess] = []
        defer { for child in children.reversed() { child.terminate() } }
        let exe = options.executable
        let tag = UUID().uuidString.prefix(8)
        func endpoint(_ name: String) -> String {
            options.transport == "ipc" ? "ipc:///tmp/prism-bench-\(tag)-\(name)" : "tcp://127.0.0.1:*"
        }
        let (broker, frontend, backend) = try startBroker(executable: exe, frontend: endpoint("fe"), backend: endpoint("be"))
        children.append(broker)
        var workers: [ChildProcess] = []
        for i in 0..<options.workers {
            workers.append(try ChildProcess(executable: exe, arguments: [
                "worker", "--broker", backend, "--service", "echo", "--handler", "echo",
                "--capacity", "16", "--id", "echo\(i)", "--log-level", "error"]))
            children.append(workers[i])
        }
        var direct: [String] = []
        var servers: [ChildProcess] = []
        for i in 0..<options.workers {
            let server = try ChildProcess(executable: exe, arguments: ["bench", "echo-server", "--bind", endpoint("direct\(i)")])
            children.append(server)
            servers.append(server)
            guard let endpoint = field("endpoint", in: try server.waitForLine(containing: "echo server ready")) else {
                throw BenchError.notReady("echo server")
            }
            direct.append(endpoint)
        }
        let proxy = try ChildProcess(executable: exe, arguments: [
            "bench", "proxy", "--bind", endpoint("proxy"), "--servers", direct.joined(separator: ",")])
        children.append(proxy)
        guard let proxied = field("endpoint", in: try proxy.waitForLine(containing: "proxy ready")) else {
            throw BenchError.notReady("zmq_proxy")
        }
        try await FleetBench.waitForWorkers(frontend: frontend, service: "echo", count: options.workers)
        log("broker \(frontend), \(options.workers) echo workers; direct servers \(direct.joined(separator: ", ")); zmq_proxy \(proxied)")

        let me = getpid()
        let pids = { (children: [ChildProcess]) in children.map { $0.process.processIdentifier } }
        let paths: [(name: String, endpoints: [String], processes: ProcessGroups)] = [
            ("direct", direct, ProcessGroups([("clients", [me]), ("servers", pids(servers))])),
            ("proxy", [proxied], ProcessGroups([("clients", [me]), ("proxy", pids([proxy])), ("servers", pids(servers))])),
            ("broker", [frontend], ProcessGroups([("clients", [me]), ("broker", pids([broker])), ("workers", pids(workers))])),
        ]
        var results: [Measurement] = []
        for concurrency in options.concurrencies {
            for (path, endpoints, processes) in paths {
                let m = try await measure(path: path, endpoints: endpoints, concurrency: concurrency, processes: processes)
                log(String(format: "%-6@ c=%-3d %8.0f req/s  p50 %7.1f us  p99 %7.1f us", path as NSString, concurrency,
                           m.requestsPerSecond, m.p50Us, m.p99Us))
                results.append(m)
            }
        }
        return results
    }

    /// Waits until `count` workers of `service` are registered with the broker.
    static func waitForWorkers(frontend: String, service: String, count: Int) async throws {
        let client = try PrismClient(configuration: ClientConfiguration(broker: frontend))
        for _ in 0..<200 {
            if let health = await client.health(service: service, timeoutMs: 500), health.services.first?.workers == UInt32(count) {
                await client.close()
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await client.close()
        throw BenchError.notReady("the \(service) workers did not register")
    }

    /// `concurrency` callers, each in a closed loop (one call outstanding), for the set time.
    func measure(path: String, endpoints: [String], concurrency: Int, processes: ProcessGroups) async throws -> Measurement {
        var connections: [PrismClient] = []
        let connectionCount = options.connections == 0 ? concurrency : max(options.connections, endpoints.count)
        for i in 0..<min(connectionCount, max(concurrency, endpoints.count)) {
            connections.append(try PrismClient(configuration: ClientConfiguration(broker: endpoints[i % endpoints.count]),
                                               logger: Logger(label: "bench")))
        }
        let clients = (0..<concurrency).map { connections[$0 % connections.count] }
        let payload = Data(repeating: 0x61, count: options.payloadBytes)
        let warmupEnd = monotonicNs() + UInt64(options.warmupSeconds * 1e9)
        let end = warmupEnd + UInt64(options.seconds * 1e9)
        // CPU of every process on the path, read when the measured window opens and when it closes.
        let window = Task.detached { () -> [Double] in
            try? await Task.sleep(nanoseconds: warmupEnd - min(warmupEnd, monotonicNs()))
            let before = processes.sample()
            try? await Task.sleep(nanoseconds: end - min(end, monotonicNs()))
            return zip(processes.sample(), before).map { $0 - $1 }
        }
        let sorted = try await ClosedLoop.run(concurrency: concurrency, warmupSeconds: options.warmupSeconds, seconds: options.seconds) { caller in
            let result = try await clients[caller].call(service: "echo", body: payload, timeoutMs: 10_000)
            if result.body.count != payload.count { throw BenchError.notReady("wrong echo") }
        }.latencies
        for client in connections { await client.close() }
        let cpu = await window.value
        var measurement = Measurement(path: path, concurrency: concurrency, count: sorted.count, seconds: options.seconds,
                                      p50Us: ClosedLoop.percentileUs(sorted, 0.5), p99Us: ClosedLoop.percentileUs(sorted, 0.99))
        if !sorted.isEmpty {
            measurement.cpuMicrosPerRequest = zip(processes.groups, cpu).map { ($0.role, $1 * 1e6 / Double(sorted.count)) }
        }
        return measurement
    }

    /// The report table: each path's p50 and throughput as ratios to the direct path's.
    /// `proxy` (zmq_proxy: the same socket hops as the broker, no work) is what libzmq alone costs.
    public static func report(_ results: [Measurement]) -> String {
        var lines = ["clients  path     req/s     p50 (us)  p99 (us)  p50 / direct  req/s / direct"]
        for concurrency in Set(results.map(\.concurrency)).sorted() {
            guard let d = results.first(where: { $0.concurrency == concurrency && $0.path == "direct" }) else { continue }
            for m in results where m.concurrency == concurrency {
                let ratios = m.path == "direct"
                    ? "" : String(format: "  %12.2f  %14.2f", m.p50Us / d.p50Us, m.requestsPerSecond / d.requestsPerSecond)
                lines.append(String(format: "%7d  %-6@ %9.0f  %9.1f %9.1f", m.concurrency, m.path as NSString,
                                    m.requestsPerSecond, m.p50Us, m.p99Us) + ratios)
            }
        }
        lines.append("")
        lines.append("CPU per request (us; user + system, each path's processes over its measured window):")
        for m in results where !m.cpuMicrosPerRequest.isEmpty {
            let parts = m.cpuMicrosPerRequest.map { String(format: "%@ %.1f", $0.role as NSString, $0.micros) }
            let total = m.cpuMicrosPerRequest.reduce(0) { $0 + $1.micros }
            lines.append(String(format: "%7d  %-6@ total %6.1f  = ", m.concurrency, m.path as NSString, total)
                         + parts.joined(separator: " + "))
        }
        return lines.joined(separator: "\n")
    }
}
