import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import PrismClient

/// The HTTP gateway's overhead on the echo service, against the ZeroMQ client in the same run:
/// broker + echo workers + `prism gateway`, then for each concurrency, rounds that alternate the two
/// paths (so that a noisy host hurts both alike); the median round of each is reported.
public struct GatewayBench {
    public struct Options: Sendable {
        public var concurrencies = [1, 8, 32]
        public var seconds = 2.0
        public var warmupSeconds = 0.3
        public var rounds = 3
        public var workers = 2
        public var payloadBytes = 64
        public var executable = currentExecutablePath()
        public init() {}
    }

    public struct Measurement: Sendable {
        public var path: String
        public var concurrency: Int
        public var requestsPerSecond: Double
        public var p50Us: Double
        public var p99Us: Double
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
        let (broker, frontend, backend) = try startBroker(executable: exe)
        children.append(broker)
        for i in 0..<options.workers {
            children.append(try ChildProcess(executable: exe, arguments: [
                "worker", "--broker", backend, "--service", "echo", "--handler", "echo",
                "--capacity", "32", "--id", "echo\(i)", "--log-level", "error"]))
        }
        let gateway = try ChildProcess(executable: exe, arguments: [
            "gateway", "--listen", "127.0.0.1:0", "--broker", frontend, "--log-level", "error"])
        children.append(gateway)
        guard let listen = field("listen", in: try gateway.waitForLine(containing: "prism gateway ready")) else {
            throw BenchError.notReady("gateway")
        }
        try await FleetBench.waitForWorkers(frontend: frontend, service: "echo", count: options.workers)
        log("broker \(frontend), \(options.workers) echo workers, gateway http://\(listen)")

        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(
            connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)))
        let client = try PrismClient(configuration: ClientConfiguration(broker: frontend), logger: Logger(label: "bench"))
        let payload = Data(repeating: 0x61, count: options.payloadBytes)
        let url = "http://\(listen)/v1/services/echo:call"
        var results: [Measurement] = []
        do {
            for concurrency in options.concurrencies {
                var rounds: [String: [Measurement]] = [:]
                for _ in 0..<options.rounds {
                    rounds["zeromq", default: []].append(try await measure("zeromq", concurrency) { _ in
                        let reply = try await client.call(service: "echo", body: payload, timeoutMs: 10_000)
                        guard reply.body == payload else { throw BenchError.notReady("wrong echo") }
                    })
                    rounds["http", default: []].append(try await measure("http", concurrency) { _ in
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.body = .bytes(ByteBuffer(bytes: payload))
                        let response = try await http.execute(request, timeout: .seconds(10))
                        let body = try await response.body.collect(upTo: 1 << 20)
                        guard response.status == .ok, body.readableBytes == payload.count else {
                            throw BenchError.notReady("HTTP \(response.status.code)")
                        }
                    })
                }
                for path in ["zeromq", "http"] {
                    let sorted = (rounds[path] ?? []).sorted { $0.requestsPerSecond < $1.requestsPerSecond }
                    let median = sorted[sorted.count / 2]
                    log(String(format: "%-6@ c=%-3d %8.0f req/s  p50 %7.1f us  p99 %7.1f us (median of %d rounds)",
                               path as NSString, concurrency, median.requestsPerSecond, median.p50Us, median.p99Us, sorted.count))
                    results.append(median)
                }
            }
        } catch {
            await client.close()
            try? await http.shutdown()
            throw error
        }
        await client.close()
        try await http.shutdown()
        return results
    }

    func measure(_ path: String, _ concurrency: Int, call: @escaping @Sendable (Int) async throws -> Void) async throws -> Measurement {
        let sorted = try await ClosedLoop.run(concurrency: concurrency, warmupSeconds: options.warmupSeconds,
                                              seconds: options.seconds, call: call).latencies
        return Measurement(path: path, concurrency: concurrency, requestsPerSecond: Double(sorted.count) / options.seconds,
                           p50Us: ClosedLoop.percentileUs(sorted, 0.5), p99Us: ClosedLoop.percentileUs(sorted, 0.99))
    }

    /// The table: each concurrency's HTTP figures as ratios to the ZeroMQ client's.
    public static func report(_ results: [Measurement]) -> String {
        var lines = ["clients  path       req/s   p50 (us)  p99 (us)  p50 / zeromq  req/s / zeromq"]
        for concurrency in Set(results.map(\.concurrency)).sorted() {
            guard let z = results.first(where: { $0.concurrency == concurrency && $0.path == "zeromq" }) else { continue }
            for m in results where m.concurrency == concurrency {
                let ratios = m.path == "zeromq" ? "" : String(format: "  %12.2f  %14.2f", m.p50Us / z.p50Us, m.requestsPerSecond / z.requestsPerSecond)
                lines.append(String(format: "%7d  %-6@ %9.0f  %9.1f %9.1f", m.concurrency, m.path as NSString, m.requestsPerSecond,
                                    m.p50Us, m.p99Us) + ratios)
            }
        }
        return lines.joined(separator: "\n")
    }
}
