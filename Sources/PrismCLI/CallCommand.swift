import ArgumentParser
import Foundation
import PrismClient
import PrismTelemetry
import PrismWire

struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call a service through the broker and print the reply body."
    )

    @Option(help: "The broker's frontend endpoint (several, comma-separated: failover in that order).") var broker = "tcp://127.0.0.1:5555"
    @Option(help: "Service to call.") var service = "echo"
    @Option(help: "Method within the service.") var method = ""
    @Option(help: "Request body as text.") var body: String?
    @Option(help: "Read the request body from this file.") var bodyFile: String?
    @Option(name: .customLong("meta"), help: "Metadata key=value (repeatable).") var metadata: [String] = []
    @Option(help: "Deadline in milliseconds from now.") var timeoutMs: Int64 = 10_000
    @OptionGroup var curve: CurveOptions

    func run() async throws {
        Telemetry.bootstrap(logLevel: .warning)  // logs to stderr, never into the output
        let payload: Data
        switch (body, bodyFile) {
        case (let text?, nil): payload = Data(text.utf8)
        case (nil, let path?): payload = try Data(contentsOf: URL(fileURLWithPath: path))
        case (nil, nil): payload = Data()
        default: throw ValidationError("give --body or --body-file, not both")
        }
        let client = try PrismClient(configuration: ClientConfiguration(broker: broker, curve: curve.clientKeys()))
        do {
            let result = try await client.call(service: service, method: method, body: payload,
                                               metadata: try parsePairs(metadata, what: "--meta"), timeoutMs: timeoutMs)
            FileHandle.standardOutput.write(result.body)
            if !result.body.isEmpty && result.body.last != UInt8(ascii: "\n") { print() }
            await client.close()
        } catch let error as PrismClientError {
            await client.close()
            FileHandle.standardError.write(Data("prism call: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Print the broker's workers, queue depth and in-flight count per service."
    )

    @Option(help: "The broker's frontend endpoint (several, comma-separated: failover in that order).") var broker = "tcp://127.0.0.1:5555"
    @Option(help: "Only this service.") var service = ""
    @Option(help: "Milliseconds to wait for the broker.") var timeoutMs: Int64 = 2_000
    @OptionGroup var curve: CurveOptions

    func run() async throws {
        Telemetry.bootstrap(logLevel: .warning)  // logs to stderr, never into the output
        let client = try PrismClient(configuration: ClientConfiguration(broker: broker, curve: curve.clientKeys()))
        guard let health = await client.health(service: service, timeoutMs: timeoutMs) else {
            await client.close()
            FileHandle.standardError.write(Data("prism health: no answer from \(broker) within \(timeoutMs) ms\n".utf8))
            throw ExitCode(1)
        }
        await client.close()
        print("uptime \(health.uptimeMs / 1000) s")
        // The name column fits the longest name, so that a long one never runs into the worker count.
        let width = max(24, (health.services.map(\.service.count).max() ?? 0) + 2)
        print("service".padding(toLength: width, withPad: " ", startingAt: 0) + "workers  capacity  queued  in_flight")
        for s in health.services {
            print(s.service.padding(toLength: width, withPad: " ", startingAt: 0)
                  + "\(s.workers)".padding(toLength: 9, withPad: " ", startingAt: 0)
                  + "\(s.capacity)".padding(toLength: 10, withPad: " ", startingAt: 0)
                  + "\(s.queued)".padding(toLength: 8, withPad: " ", startingAt: 0) + "\(s.inFlight)")
        }
    }
}
