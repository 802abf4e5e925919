import ArgumentParser
import Foundation
import BARTBench
import PrismBench
import TensorKernels

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks, each measured side by side against its reference in one run.",
        subcommands: [FleetBenchCommand.self, GatewayBenchCommand.self, LoadBenchCommand.self, DistillBenchCommand.self, BARTBenchCommand.self, T5BenchCommand.self, GroundingBenchCommand.self, EchoServerCommand.self,
                      ProxyCommand.self, BrokerStateBenchCommand.self]
    )
}

struct FleetBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Echo through the broker vs a direct DEALER/ROUTER round trip (and zmq_proxy, the floor): p50/p99, requests/s."
    )

    @Option(help: "Concurrent clients, comma-separated.") var clients = "1,4,16"
    @Option(help: "Seconds measured per configuration.") var seconds = 3.0
    @Option(help: "Echo workers (and direct echo servers).") var workers = 2
    @Option(help: "Payload bytes per request.") var payload = 64
    @Option(help: "Client connections shared by the callers (0: one per caller).") var connections = 1
    @Option(help: "tcp (loopback) or ipc (Unix domain sockets).") var transport = "tcp"

    func run() async throws {
        var options = FleetBench.Options()
        options.concurrencies = try positiveIntegers(clients, option: "--clients")
        options.seconds = seconds
        options.workers = workers
        options.payloadBytes = payload
        options.connections = connections
        guard ["tcp", "ipc"].contains(transport) else { throw ValidationError("--transport is tcp or ipc") }
        options.transport = transport
        let results = try await FleetBench(options: options) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }.run()
        print(FleetBench.report(results))
    }
}

struct BrokerStateBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker-state",
        abstract: "The broker's Swift work per echo request without sockets (decode, routing state, frames out), next to encoding the same two messages, in one run."
    )

    @Option(help: "Requests per round.") var requests = 200_000
    @Option(help: "Rounds (after one warm-up round); the median is reported.") var rounds = 5
    @Option(help: "Requests in flight, as with that many closed-loop callers.") var inFlight = 16
    @Option(help: "Payload bytes per request.") var payload = 64

    func run() throws {
        guard requests > 0, rounds > 0, inFlight > 0, payload >= 0 else {
            throw ValidationError("--requests, --rounds and --in-flight must be positive, --payload at least 0")
        }
        var bench = BrokerStateBench(inFlight: inFlight, payloadBytes: payload)
        _ = try bench.measure(requests: requests)
        var broker: [Double] = [], inputs: [Double] = []
        for round in 1...rounds {
            let m = try bench.measure(requests: requests)
            broker.append(m.brokerNs)
            inputs.append(m.inputsNs)
            print(String(format: "round %d: broker %6.0f ns per request   inputs (request + reply encoded) %6.0f ns", round, m.brokerNs, m.inputsNs))
        }
        let median = { (xs: [Double]) in xs.sorted()[xs.count / 2] }
        print(String(format: "median: broker %.0f ns per request, %.2fx the inputs' %.0f ns", median(broker), median(broker) / median(inputs), median(inputs)))
    }
}

struct GatewayBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Echo through `prism gateway` (HTTP/JSON) vs the ZeroMQ client, same broker and workers, alternating rounds: p50/p99, requests/s."
    )

    @Option(help: "Concurrent callers, comma-separated.") var clients = "1,8,32"
    @Option(help: "Seconds measured per round.") var seconds = 2.0
    @Option(help: "Rounds per path and concurrency (the median is reported).") var rounds = 3
    @Option(help: "Echo workers.") var workers = 2
    @Option(help: "Payload bytes per request.") var payload = 64

    func run() async throws {
        var options = GatewayBench.Options()
        options.concurrencies = try positiveIntegers(clients, option: "--clients")
        options.seconds = seconds
        options.rounds = max(1, rounds)
        options.workers = workers
        options.payloadBytes = payload
        let results = try await GatewayBench(options: options) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }.run()
        print(GatewayBench.report(results))
    }
}

struct EchoServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server",
        abstract: "The direct reference of `bench fleet`: answers the client protocol without a broker.",
        shouldDisplay: false
    )

    @Option(help: "Endpoint to bind.") var bind = "tcp://127.0.0.1:*"

    func run() throws {
        try DirectEchoServer.run(bind: bind) { endpoint in
            emitLine("echo server ready endpoint=\(endpoint)")
        }
    }
}

struct ProxyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "The floor reference of `bench fleet`: libzmq's zmq_proxy in front of the echo servers.",
        shouldDisplay: false
    )

    @Option(help: "Endpoint to bind for clients.") var bind = "tcp://127.0.0.1:*"
    @Option(help: "Echo servers to connect, comma-separated.") var servers: String

    func run() throws {
        let list = servers.split(separator: ",").map(String.init)
        guard !list.isEmpty else { throw ValidationError("--servers names at least one endpoint") }
        try ForwardingProxy.run(bind: bind, servers: list) { endpoint in
            emitLine("proxy ready endpoint=\(endpoint)")
        }
    }
}

struct DistillBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Distillation samples/s through the fleet with 1, 2, 4… teacher workers, and the speed-up."
    )

    @Option(help: "Folder with samples.jsonl and catalog.jsonl.") var data = "out/data"
    @Option(help: "Worker counts, comma-separated.") var workers = "1,2,4"
    @Option(help: "rule or sleep.") var teacher = "rule"
    @Option(help: "For --teacher sleep: milliseconds per prompt.") var sleepMs = 50
    @Option(help: "Samples per worker in each run.") var samplesPerWorker = 2_000
    @Option(help: "Prompts per shard.") var shardSize = 32

    func run() async throws {
        var options = DistillBench.Options(data: URL(fileURLWithPath: data))
        options.workerCounts = try positiveIntegers(workers, option: "--workers")
        options.teacher = teacher
        options.sleepMs = sleepMs
        options.samplesPerWorker = samplesPerWorker
        options.shardSize = shardSize
        let rows = try await DistillBench(options: options) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }.run()
        print("teacher: \(teacher)\(teacher == "sleep" ? " (\(sleepMs) ms per prompt)" : "")")
        print(DistillBench.report(rows))
    }
}

struct BARTBenchCommand: AsyncParsableCommand {
    /// Precisions in the order of the memory they need (BART-base peak RSS at batch 1, each alone: int8
    /// 223 MiB, int8-bf16 302, bf16 336, int8-encoder between, fp32 ~674), so that a process's peak after
    /// each one is that one's own.
    static func memoryRank(_ precision: Precision) -> Int {
        switch precision {
        case .int8: return 0
        case .int8BF16: return 1
        case .bf16: return 2
        case .int8Encoder: return 3
        case .fp32: return 4
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "bart",
        abstract: "BART-base (random weights) greedy or beam-search generation latency in Swift at fp32 and int8, next to PyTorch eager fp32, CTranslate2 float32 and int8 and ONNX Runtime int8 in the same run."
    )

    @Option(help: "Batch sizes, comma-separated.") var batch = "1,16"
    @Option(help: "Encoder input tokens.") var inputLength = 400
    @Option(help: "Generated tokens.") var newTokens = 40
    @Option(help: "Beams per request (1: greedy; more: beam search, in the references too).") var beams = 1
    @Option(help: "Timed runs per batch size (median reported).") var runs = 3
    @Option(help: "BLAS threads (and torch / CTranslate2 threads for the references).") var threads = 1
    @Option(help: "Python with torch + transformers for the reference (scripts/setup-python.sh --train); empty: Swift only.")
    var python = ""
    @Option(help: "Reference engines, comma-separated (torch, ctranslate2, ctranslate2-int8, onnxruntime-int8); one not installed is skipped.")
    var engines = "torch,ctranslate2,ctranslate2-int8,onnxruntime-int8"
    @Option(help: "Swift precisions, comma-separated (fp32, bf16, int8, int8-encoder, int8-bf16). They run from the least memory to the most (int8, int8-bf16, bf16, int8-encoder, fp32): each one's peak RSS is then its own.")
    var precision = "fp32,int8"
    @Flag(inversion: .prefixedNo,
          help: "Greedy steps of up to 16 rows pick tokens with the int8-screened exact argmax (BartModel.screenedGreedyArgmax).")
    var screenedArgmax = true

    func run() async throws {
        let requested = try precision.split(separator: ",").map { name -> Precision in
            guard let p = Precision(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--precision takes \(Precision.allCases.map(\.rawValue).joined(separator: ", ")) separated by commas, got '\(precision)'")
            }
            return p
        }.sorted { Self.memoryRank($0) < Self.memoryRank($1) }
        guard !requested.isEmpty else { throw ValidationError("--precision names no precision") }
        var precisions = requested
        for p in requested {
            guard let reason = p.unavailableReason else { continue }
            precisions.removeAll { $0 == p }
            guard !precisions.isEmpty else { throw ValidationError(reason) }
            print("\(reason): \(p) skipped")
        }
        var options = BARTBenchOptions()
        options.batchSizes = try positiveIntegers(batch, option: "--batch")
        options.inputLength = inputLength
        options.newTokens = newTokens
        options.beams = beams
        options.runs = runs
        options.threads = threads
        options.screenedArgmax = screenedArgmax
        print("load average at start: \(loadAverage())")
        print("OpenBLAS kernels: \(BLASKernels.coreName)")
        var swiftRuns: [(Precision, [BARTBenchResult])] = []
        for p in precisions {
            options.precision = p
            let results = try BARTBench.run(options) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
            print(BARTBench.report(results, options: options))
            print("\n" + BARTBench.breakdown(results, options: options) + "\n")
            swiftRuns.append((p, results))
        }
        guard !python.isEmpty else { return }
        var references: [(String, [Int: Double])] = []
        for engine in engines.split(separator: ",").map(String.init) {
            let output = try reference(engine: engine, batchSizes: options.batchSizes)
            print("\n\(engine) reference:\n" + output)
            var medians: [Int: Double] = [:]
            for line in output.split(separator: "\n") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                if fields.count >= 2, let b = Int(fields[0]), let median = Double(fields[1]) { medians[b] = median }
            }
            if !medians.isEmpty { references.append((engine, medians)) }
        }
        print("\nload average at end: \(loadAverage())")
        for (p, swift) in swiftRuns {
            print(Self.comparison(swift, precision: p, references: references))
        }
    }

    /// Each reference engine's median against Swift's at one precision (ratio > 1: Swift is faster).
    static func comparison(_ swift: [BARTBenchResult], precision: Precision, references: [(String, [Int: Double])]) -> String {
        var header = "batch  swift_\(precision)_s  expl/s"
        for (engine, _) in references { header += "  \(engine)_s  \(engine)/swift" }
        var lines = [header]
        for result in swift {
            var row = String(format: "%5d  %\(precision.rawValue.count + 8).3f  %6.2f", result.batchSize, result.medianSeconds,
                             result.explanationsPerSecond)
            for (engine, medians) in references {
                let name = engine.count + 2
                if let t = medians[result.batchSize] {
                    row += "  " + String(format: "%\(name).3f", t) + "  " + String(format: "%\(engine.count + 5).2fx", t / result.medianSeconds)
                } else {
                    row += "  " + String(repeating: " ", count: name - 3) + "n/a" + String(repeating: " ", count: engine.count + 3) + "n/a"
                }
            }
            lines.append(row)
        }
        if let one = swift.first(where: { $0.batchSize == 1 }) {
            for r in swift where r.batchSize > 1 {
                lines.append(String(format: "%@ batch %d throughput = %.2fx batch 1", precision.rawValue, r.batchSize,
                                    r.explanationsPerSecond / one.explanationsPerSecond))
            }
        }
        return lines.joined(separator: "\n")
    }

    private func reference(engine: String, batchSizes: [Int]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["scripts/bench/bart_reference.py", "--engine", engine, "--threads", "\(threads)",
                             "--runs", "\(runs)", "--input-length", "\(inputLength)", "--new-tokens", "\(newTokens)",
                             "--beams", "\(beams)",
                             "--batch"] + batchSizes.map(String.init)
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return output
    }

    private func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "n/a" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}

/// A comma-separated list of positive integers (`1,4,16`; spaces around items allowed).
func positiveIntegers(_ text: String, option: String) throws -> [Int] {
    try text.split(separator: ",").map {
        guard let n = Int($0.trimmingCharacters(in: .whitespaces)), n > 0 else {
            throw ValidationError("\(option) takes positive integers separated by commas, got '\(text)'")
        }
        return n
    }
}
