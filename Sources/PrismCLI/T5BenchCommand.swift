import ArgumentParser
import BARTBench
import Foundation
import Generation
import T5
import TensorKernels

/// `prism bench t5`: loads a T5 folder (real or random weights) and reports its memory and greedy latency.
struct T5BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "t5",
        abstract: "A T5 / FLAN-T5 folder: weights in memory, peak RSS, and greedy latency for one request (random input ids)."
    )

    @Option(help: "The model folder (config.json, model.safetensors or an index with shards).") var model: String
    @Option(help: "Encoder input tokens.") var inputLength = 400
    @Option(help: "Generated tokens (the decoder runs to this length: EOS is not allowed to end it early).") var newTokens = 40
    @Option(help: "Timed runs (median reported).") var runs = 2
    @Option(help: "BLAS threads.") var threads = 2
    @Flag(help: "Widen BF16 projections to float32 at load (twice the memory) instead of keeping them as stored.") var widenBF16 = false
    @Option(help: "Arithmetic of the projections: fp32 (BF16 kept where stored), int8 (quantized at load; needs VNNI), int8-encoder (the encoder's in int8), bf16 (bf16 products; needs AVX512-BF16), or int8-bf16.")
    var precision: Precision = .fp32

    func run() async throws {
        if precision.usesBF16, let reason = precision.unavailableReason { throw ValidationError(reason) }
        guard inputLength >= 1, newTokens >= 1, runs >= 1, threads >= 1 else {
            throw ValidationError("--input-length, --new-tokens, --runs and --threads must be ≥ 1")
        }
        let loadStart = Date()
        let t5 = try T5Model.load(folder: model, blasThreads: threads, widenBF16: widenBF16, precision: precision)
        let loadSeconds = Date().timeIntervalSince(loadStart)
        let afterLoad = BARTBench.peakRSSBytes() ?? 0
        let c = t5.config
        var config = GenerationConfig(model: c)
        config.maxNewTokens = newTokens
        config.numBeams = 1
        config.minNewTokens = newTokens  // full-length decodes: the same work every run
        let input = (0..<inputLength).map { i in 3 + (i * 7919 + 13) % (c.vocabSize - 3) }
        let generator = Seq2SeqGenerator(model: t5)
        var seconds: [Double] = []
        for _ in 0..<runs {
            let start = Date()
            _ = try generator.generate(GenerationRequest(inputIds: input), config: config)
            seconds.append(Date().timeIntervalSince(start))
        }
        let mib = { (bytes: Int) in String(format: "%.0f MiB", Double(bytes) / 1_048_576) }
        print("model: \(model)")
        print("  d_model \(c.dModel), \(c.numLayers)+\(c.numDecoderLayers) layers, \(c.numHeads) heads, d_ff \(c.dFF), vocab \(c.vocabSize), \(c.gatedFFN ? "gated " : "")\(c.activation)")
        let held: String
        switch precision {
        case .int8: held = "projections in int8"
        case .int8Encoder: held = "encoder projections in int8"
        case .bf16: held = "projections in bf16, bf16 products"
        case .int8BF16: held = "encoder projections in int8, the rest in bf16"
        case .fp32: held = widenBF16 ? "BF16 widened to float32" : "BF16 kept where stored"
        }
        print("  weights in memory: \(mib(t5.weights.bytes)) (\(held))")
        print("  load: \(String(format: "%.1f", loadSeconds)) s, peak RSS after load \(mib(afterLoad))")
        print("  greedy, \(inputLength) in / \(newTokens) out, \(threads) threads: median \(String(format: "%.2f", seconds.sorted()[seconds.count / 2])) s over \(runs) runs")
        print("  peak RSS: \(mib(BARTBench.peakRSSBytes() ?? 0))")
    }
}
