import ArgumentParser
import Foundation
import PrismBench

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks, each measured side by side against its reference in one run.",
        subcommands: [FleetBenchCommand.self, EchoServerCommand.self]
    )
}

struct FleetBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Echo through the broker vs a direct DEALER/ROUTER round trip: p50/p99 and requests/s."
    )

    @Option(help: "Concurrent clients, comma-separated.") var clients = "1,4,16"
    @Option(help: "Seconds measured per configuration.") var seconds = 3.0
    @Option(help: "Echo workers (and direct echo servers).") var workers = 2
    @Option(help: "Payload bytes per request.") var payload = 64
    @Option(help: "Client connections shared by the callers (0: one per caller).") var connections = 1

    func run() async throws {
        var options = FleetBench.Options()
        options.concurrencies = try clients.split(separator: ",").map {
            guard let n = Int($0.trimmingCharacters(in: .whitespaces)), n > 0 else { throw ValidationError("bad --clients \(clients)") }
            return n
        }
        options.seconds = seconds
        options.workers = workers
        options.payloadBytes = payload
        options.connections = connections
        let results = try await FleetBench(options: options) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }.run()
        print(FleetBench.report(results))
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
