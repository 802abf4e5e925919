import PrismWire
import ArgumentParser
import Foundation
import Logging
import PrismData
import PrismDistill
import PrismTeacher
import PrismTelemetry
import Tokenizers

struct DistillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Ask the teacher service for a golden explanation of every sample; resumable, exactly once."
    )

    @Option(help: "Folder with samples.jsonl and catalog.jsonl (from `prism data prepare`).") var data = "out/data"
    @Option(help: "Output folder (results.jsonl, distilled.jsonl, summary.json).") var output = "out/distill"
    @Option(help: "The broker's frontend endpoint (several, comma-separated: failover in that order).") var broker = "tcp://127.0.0.1:5555"
    @Option(help: "The teacher service.") var service = "teacher"
    @Option(help: "Splits to distill, comma-separated.") var splits = "train,valid,test"
    @Option(help: "Only the first N samples.") var limit: Int?
    @Option(help: "At most N train samples, spread evenly over the file (every user keeps a share); valid and test samples in full.") var maxTrainSamples: Int?
    @Option(help: "Prompts per shard.") var shardSize = 32
    @Option(help: "Shards in flight at once.") var inFlight = 8
    @Option(help: "Milliseconds before a shard is retried.") var shardTimeoutMs: Int64 = 120_000
    @Option(help: "Sends of a shard before its prompts are recorded as failed.") var attempts = 4
    @Option(help: "Prompt template file with {history} and {item_to_explain} (default: the paper's).") var template: String?
    @Option(help: "Prompt budget (characters, or tokens with --prompt-tokenizer); the oldest history is dropped to fit, whole items only.")
    var promptBudget: Int?
    @Option(help: "The teacher's tokenizer.json: measure --prompt-budget in its tokens instead of characters.")
    var promptTokenizer: String?
    @Option(help: "Decoding: max new tokens.") var maxNewTokens: UInt32 = 96
    @Option(help: "Decoding: temperature (0: greedy).") var temperature: Float = 0
    @Option(help: "Decoding: top-p (0: off).") var topP: Float = 0
    @Option(help: "Decoding: seed.") var seed: UInt64 = 0
    @Flag(help: "Ask again for samples whose stored result is any failure.") var retryFailed = false
    @Flag(inversion: .prefixedNo, help: "Ask again for samples whose stored result is a transient failure (unavailable, deadline exceeded, overloaded, cancelled).")
    var retryTransient = true
    @Option(help: "Goldens the grounding checker does not find fully grounded: keep (with only their grounded spans marked) or drop.")
    var unmarkable = "keep"
    @OptionGroup var curve: CurveOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if !(temperature >= 0 && temperature <= 2) { throw ValidationError("--temperature must be in 0...2 (0: greedy), not \(temperature)") }
        if !(topP >= 0 && topP <= 1) { throw ValidationError("--top-p must be in 0...1 (0: off), not \(topP)") }
        if UnmarkablePolicy(rawValue: unmarkable) == nil { throw ValidationError("--unmarkable must be keep or drop, not '\(unmarkable)'") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let maxTrainSamples, maxTrainSamples < 0 { throw ValidationError("--max-train-samples must not be negative") }
    }

    func run() async throws {
        Telemetry.bootstrap(logLevel: common.level)
        let folder = URL(fileURLWithPath: data)
        var options = DistillOptions(samples: folder.appendingPathComponent("samples.jsonl"),
                                     catalog: folder.appendingPathComponent("catalog.jsonl"),
                                     output: URL(fileURLWithPath: output), broker: broker)
        options.service = service
        options.curve = try curve.clientKeys()
        options.splits = Set(try splits.split(separator: ",").map {
            guard let split = Split(rawValue: String($0)) else { throw ValidationError("unknown split '\($0)'") }
            return split
        })
        options.limit = limit
        options.maxTrainSamples = maxTrainSamples
        options.shardSize = shardSize
        options.maxInFlight = inFlight
        options.shardTimeoutMs = shardTimeoutMs
        options.maxShardAttempts = attempts
        options.retryFailed = retryFailed
        options.retryTransient = retryTransient
        options.unmarkable = UnmarkablePolicy(rawValue: unmarkable) ?? .keep
        var decoding = Decoding()
        decoding.maxNewTokens = maxNewTokens
        decoding.temperature = temperature
        decoding.topP = topP
        decoding.seed = seed
        options.decoding = decoding
        var builder = OraclePromptBuilder()
        if let template { builder.template = try PromptTemplate(contentsOf: URL(fileURLWithPath: template)) }
        builder.budget = promptBudget
        if let promptTokenizer {
            let tokenizer = try Tokenizer(contentsOf: URL(fileURLWithPath: promptTokenizer))
            builder.length = TextLength(name: "teacher tokens") { tokenizer.encode($0).count }
        }
        options.builder = builder
        let summary = try await Coordinator(options: options).run()
        print(summary.text)
        print("wrote \(options.output.appendingPathComponent("distilled.jsonl").path)")
    }
}
