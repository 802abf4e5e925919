import ArgumentParser
import Foundation
import PrismClient
import PrismData
import PrismExplain
import PrismTelemetry
import PrismWire

struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Ask the prism.explain service why ITEM suits USER, given their history."
    )

    @Option(help: "The broker's frontend endpoint (several, comma-separated: failover in that order).") var broker = "tcp://127.0.0.1:5555"
    @OptionGroup var curve: CurveOptions
    @Option(help: "The service.") var service = "prism.explain"
    @Option(help: "The user id.") var user: String
    @Option(help: "History item ids, oldest first, comma-separated.") var history = ""
    @Option(help: "The recommended item id.") var item: String
    @Option(help: "Deadline in milliseconds.") var timeoutMs: Int64 = 10_000

    func run() async throws {
        Telemetry.bootstrap(logLevel: .warning)  // logs to stderr, never into the output
        var request = ExplainRequest()
        request.userID = user
        request.historyItemIds = history.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        request.itemID = item
        let client = try PrismClient(configuration: ClientConfiguration(broker: broker, curve: curve.clientKeys()))
        do {
            let result = try await client.call(service: service, body: try request.serializedData(), timeoutMs: timeoutMs)
            let reply = try ExplainReply(serializedBytes: result.body)
            print(reply.explanation)
            if !reply.groundingProblems.isEmpty { print("grounding problems of the student's text: " + reply.groundingProblems.joined(separator: "; ")) }
            print("grounding: \(ServiceCaller.name(reply.grounding)), cold start: \(reply.coldStart), model \(reply.modelID), history dropped \(reply.historyDropped), "
                  + "encode \(reply.timings.encodeUs / 1000) ms, decode \(reply.timings.decodeUs / 1000) ms, batch \(reply.timings.batchSize)")
            await client.close()
        } catch let error as PrismClientError {
            await client.close()
            FileHandle.standardError.write(Data("prism explain: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Play a ranking service: explanation requests for held-out (user, item) pairs, some for unknown users; a table, then p50/p95 and throughput."
    )

    @Option(help: "Folder with samples.jsonl and catalog.jsonl.") var data = "out/data"
    @Option(help: "The broker's frontend endpoint (several, comma-separated: failover in that order).") var broker = "tcp://127.0.0.1:5555"
    @OptionGroup var curve: CurveOptions
    @Option(help: "The service.") var service = "prism.explain"
    @Option(help: "Which split's pairs to replay.") var split = "test"
    @Option(help: "Requests to send.") var count = 40
    @Option(help: "Of those, how many as users the model has never seen (cold start).") var unknownUsers = 8
    @Option(help: "Concurrent callers.") var concurrency = 8
    @Option(help: "Rows to print in the table.") var show = 12
    @Option(help: "Deadline per request in milliseconds.") var timeoutMs: Int64 = 30_000

    struct Row: Sendable {
        var user: String, history: String, item: String, explanation: String, coldStart: Bool, latencyMs: Double, grounding: String
    }

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        guard (0...count).contains(unknownUsers) else { throw ValidationError("--unknown-users must be between 0 and --count") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard show >= 0 else { throw ValidationError("--show must not be negative") }
        guard timeoutMs > 0 else { throw ValidationError("--timeout-ms must be positive") }
    }

    func run() async throws {
        Telemetry.bootstrap(logLevel: .warning)  // logs to stderr, never into the output
        let folder = URL(fileURLWithPath: data)
        guard let wanted = Split(rawValue: split) else { throw ValidationError("unknown split \(split)") }
        let samples = try SampleIO.readSamples(from: folder.appendingPathComponent("samples.jsonl")).filter { $0.split == wanted }
        let catalog = try SampleIO.readCatalog(from: folder.appendingPathComponent("catalog.jsonl"))
        guard !samples.isEmpty else { throw ValidationError("no \(split) samples in \(data)") }
        // Spread over users; the last `unknownUsers` requests come from users nobody has seen.
        let step = max(1, samples.count / max(1, count))
        let chosen = stride(from: 0, to: samples.count, by: step).prefix(count).map { samples[$0] }
        let requests: [(Sample, String)] = chosen.enumerated().map { i, s in (s, i >= chosen.count - unknownUsers ? "new-user-\(i)" : s.userID) }
        let client = try PrismClient(configuration: ClientConfiguration(broker: broker, curve: curve.clientKeys()))
        let start = Date()
        let rows = try await withThrowingTaskGroup(of: (Int, Row).self) { group in
            var next = 0, rows = [Row?](repeating: nil, count: requests.count)
            func submit() {
                guard next < requests.count else { return }
                let index = next, (sample, user) = requests[index]
                next += 1
                group.addTask {
                    var request = ExplainRequest()
                    request.userID = user
                    request.historyItemIds = sample.history
                    request.itemID = sample.itemID
                    let sent = Date()
                    let result = try await client.call(service: service, body: try request.serializedData(), timeoutMs: timeoutMs)
                    let reply = try ExplainReply(serializedBytes: result.body)
                    let titles = sample.history.suffix(2).map { catalog[$0]?.title ?? $0 }
                    return (index, Row(user: user, history: (sample.history.count > 2 ? "… " : "") + titles.joined(separator: "; "),
                                       item: catalog[sample.itemID]?.title ?? sample.itemID, explanation: reply.explanation,
                                       coldStart: reply.coldStart, latencyMs: Date().timeIntervalSince(sent) * 1000,
                                       grounding: ServiceCaller.name(reply.grounding)))
                }
            }
            for _ in 0..<max(1, concurrency) { submit() }
            while let (index, row) = try await group.next() {
                rows[index] = row
                submit()
            }
            return rows.compactMap { $0 }
        }
        let elapsed = Date().timeIntervalSince(start)
        await client.close()
        let shown = Array(rows.prefix(max(0, show - min(show / 3, unknownUsers)))) + Array(rows.suffix(min(show / 3, unknownUsers)))
        for row in shown {
            print("user \(row.user) | history: \(row.history) | item: \(row.item) | cold start: \(row.coldStart ? "yes" : "no") | \(row.grounding) | \(String(format: "%.0f", row.latencyMs)) ms")
            print("    → \(row.explanation)")
        }
        let latencies = rows.map(\.latencyMs).sorted()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        print(String(format: "\n%d requests, %d concurrent: p50 %.0f ms, p95 %.0f ms, %.1f explanations/s; cold starts %d",
                     rows.count, concurrency, percentile(0.5), percentile(0.95), Double(rows.count) / elapsed,
                     rows.filter(\.coldStart).count))
        let served = Dictionary(grouping: rows, by: \.grounding).mapValues(\.count).sorted { $0.key < $1.key }
        print("served: " + served.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }
}
