import ArgumentParser
import Foundation
import PrismBench
import PrismClient
import PrismData
import PrismExplain
import PrismTelemetry
import PrismWire

/// `prism bench load`: a paced load on a running fleet (scripts/soak.sh drives it).
struct LoadBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Paced open-loop load on a running fleet for soak runs: --rate requests/s for --seconds, one line per interval."
    )

    @Option(help: "The broker's frontend endpoint.") var broker = "tcp://127.0.0.1:5555"
    @Option(help: "Service to call (echo, sleep, prism.explain).") var service = "echo"
    @Option(help: "Requests per second.") var rate = 1_000.0
    @Option(help: "Seconds to run.") var seconds = 60.0
    @Option(help: "Seconds per report line.") var reportEvery = 10.0
    @Option(help: "Echo/sleep: payload bytes per request.") var payload = 64
    @Option(help: "prism.explain: a `prism data prepare` folder; requests are its test samples in turn.") var data: String?
    @Option(help: "Deadline per request in milliseconds.") var timeoutMs: Int64 = 10_000
    @OptionGroup var curve: CurveOptions

    func validate() throws {
        guard rate > 0, seconds > 0, reportEvery > 0 else { throw ValidationError("--rate, --seconds and --report-every must be positive") }
        guard payload >= 0 else { throw ValidationError("--payload must not be negative") }
    }

    func run() async throws {
        Telemetry.bootstrap(logLevel: .warning)
        var bodies: [Data] = [Data(repeating: 0x61, count: payload)]
        if let data {
            let samples = try SampleIO.readSamples(from: URL(fileURLWithPath: data).appendingPathComponent("samples.jsonl"))
                .filter { $0.split == .test }
            guard !samples.isEmpty else { throw ValidationError("no test samples in \(data)") }
            bodies = try samples.prefix(2_000).enumerated().map { i, sample in
                var request = ExplainRequest()
                // One in five as an unknown user (cold start), like prism eval.
                request.userID = i % 5 == 4 ? "soak-new-user-\(i)" : sample.userID
                request.historyItemIds = sample.history
                request.itemID = sample.itemID
                return try request.serializedData()
            }
        }
        let client = try PrismClient(configuration: ClientConfiguration(broker: broker, curve: curve.clientKeys()))
        var options = LoadRun.Options()
        options.service = service
        options.rate = rate
        options.seconds = seconds
        options.reportEvery = reportEvery
        options.timeoutMs = timeoutMs
        let summary = await LoadRun(client: client, options: options, bodies: bodies).run { emitLine($0) }  // unbuffered: a log shows each interval as it ends
        await client.close()
        if summary.ok == 0 { throw ExitCode(1) }
    }
}
