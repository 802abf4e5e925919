import BART
import Foundation
import Generation
import TensorKernels

/// What `prism bench bart` measures: a BART model with random weights (no download), a fixed-length
/// encoder input and exactly `newTokens` tokens (EOS disabled; greedy, or beam search with `beams`), at
/// several batch sizes.
public struct BARTBenchOptions: Sendable {
    /// Architecture; BART-base by default.
    public var config: BartConfig = .bartBase
    /// Encoder input length per request.
    public var inputLength: Int = 400
    /// Generated tokens per request (exactly; EOS and forced EOS are disabled).
    public var newTokens: Int = 40
    public var batchSizes: [Int] = [1, 16]
    /// Beams per request: 1 is greedy; more runs beam search (no EOS, so every beam runs `newTokens` steps).
    public var beams: Int = 1
    /// Timed runs per batch size (the median is reported), after `warmupRuns` untimed ones.
    public var runs: Int = 3
    public var warmupRuns: Int = 1
    /// OpenBLAS threads.
    public var threads: Int = 1
    public var seed: UInt64 = 0
    /// Greedy steps of up to 16 rows use the int8-screened exact argmax (`BartModel.screenedGreedyArgmax`).
    public var screenedArgmax = true
    /// The arithmetic of the linear layers (`.int8`: the random weights are quantized as they are drawn).
    public var precision: Precision = .fp32

    public init() {}
}

/// Result for one batch size.
public struct BARTBenchResult: Sendable {
    public var batchSize: Int
    /// Wall-clock seconds of each timed run (encode + generate for the whole batch).
    public var runSeconds: [Double]
    /// Median of `runSeconds`.
    public var medianSeconds: Double
    /// `batchSize / medianSeconds`.
    public var explanationsPerSecond: Double
    /// Process peak resident set size after the runs (VmHWM), in bytes; nil where /proc is unavailable.
    public var peakRSSBytes: Int?
    /// Mean seconds per timed run spent in each profiled phase (`BartProfile.Phase.allCases` order).
    public var phaseSeconds: [Double] = []
}

/// The BART benchmark behind `prism bench bart`.
public enum BARTBench {
    /// Builds the random model and times greedy generation for each batch size. `log` receives progress lines.
    public static func run(
        _ options: BARTBenchOptions = BARTBenchOptions(), log: (String) -> Void = { _ in }
    ) throws -> [BARTBenchResult] {
        guard options.runs >= 1, options.inputLength >= 1, options.newTokens >= 1,
              options.beams >= 1, !options.batchSizes.isEmpty, options.batchSizes.allSatisfy({ $0 >= 1 })
        else { throw BartError.invalidArgument("bench: runs, lengths and batch sizes must be ≥ 1") }
        let c = options.config
        log("building random weights: vocab \(c.vocabSize), d_model \(c.dModel), layers \(c.encoderLayers)+\(c.decoderLayers), heads \(c.encoderAttentionHeads), ffn \(c.encoderFFNDim)")
        let weights = try BartWeights.random(config: c, seed: options.seed, precision: options.precision)
        let model = try BartModel(config: c, weights: weights, blasThreads: options.threads)
        let generator = Seq2SeqGenerator(model: model)
        let profile = BartProfile()
        model.profile = profile
        model.screenedGreedyArgmax = options.screenedArgmax
        var generation = GenerationConfig(model: c)
        generation.numBeams = options.beams
        generation.maxNewTokens = options.newTokens
        // Exactly `newTokens` tokens: greedy runs without EOS; beam search needs one, so EOS is suppressed
        // until the last step (min = max new tokens, as the references are asked).
        generation.eosTokenId = options.beams > 1 ? c.eosTokenId : nil
        generation.minNewTokens = options.beams > 1 ? options.newTokens : 0
        generation.forcedEOSTokenId = nil
        generation.forcedBOSTokenId = nil
        generation.noRepeatNgramSize = 0
        generation.minLength = 0

        var results: [BARTBenchResult] = []
        for batch in options.batchSizes {
            let requests = (0..<batch).map { b in
                GenerationRequest(inputIds: inputTokens(length: options.inputLength, vocab: c.vocabSize, salt: b))
            }
            var times: [Double] = []
            for run in 0..<(options.warmupRuns + options.runs) {
                if run == options.warmupRuns { profile.reset() }
                let start = DispatchTime.now().uptimeNanoseconds
                let out = try generator.generate(requests, config: generation)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                guard out.allSatisfy({ $0.tokens.count == options.newTokens + 1 }) else {
                    throw BartError.invalidArgument("bench: expected exactly \(options.newTokens) tokens")
                }
                if run >= options.warmupRuns { times.append(seconds) }
                log("batch \(batch) run \(run + 1): \(String(format: "%.3f", seconds)) s\(run < options.warmupRuns ? " (warm-up)" : "")")
            }
            let median = Self.median(times)
            let phases = BartProfile.Phase.allCases.map { profile.seconds($0) / Double(options.runs) }
            results.append(BARTBenchResult(
                batchSize: batch, runSeconds: times, medianSeconds: median,
                explanationsPerSecond: Double(batch) / median, peakRSSBytes: peakRSSBytes(), phaseSeconds: phases))
        }
        return results
    }

    /// A plain-text table of results.
    public static func report(_ results: [BARTBenchResult], options: BARTBenchOptions) -> String {
        var lines = [
            "BART bench: d_model \(options.config.dModel), \(options.config.encoderLayers)+\(options.config.decoderLayers) layers, vocab \(options.config.vocabSize), input \(options.inputLength) tokens, \(options.newTokens) \(options.beams == 1 ? "greedy tokens" : "tokens, \(options.beams) beams"), \(options.threads) BLAS thread(s), \(options.precision)\(options.precision.usesInt8 ? " (oneDNN \(Int8Rows.instructionSet))" : "")",
            "batch  median_s  explanations/s  peak_rss_MiB",
        ]
        if options.threads > 1 {
            // OpenBLAS reads it when the library loads: idle BLAS threads spin for ~2^28 cycles by default,
            // holding the second core that the int8 screen's own thread (and everything else) needs.
            let timeout = ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] ?? "unset"
            lines.insert("OPENBLAS_THREAD_TIMEOUT=\(timeout) (4 makes idle OpenBLAS threads sleep at once; set it before starting)", at: 1)
        }
        for r in results {
            let rss = r.peakRSSBytes.map { String(format: "%.0f", Double($0) / 1_048_576) } ?? "n/a"
            let row = String(format: "%5d  %8.3f  %14.2f  ", r.batchSize, r.medianSeconds, r.explanationsPerSecond)
            lines.append(row + String(repeating: " ", count: max(0, 12 - rss.count)) + rss)
        }
        return lines.joined(separator: "\n")
    }

    /// Where the time goes, per batch size: each profiled phase (mean seconds per run and share of the
    /// run), then the totals the issue asks about.
    public static func breakdown(_ results: [BARTBenchResult], options: BARTBenchOptions) -> String {
        let phases = BartProfile.Phase.allCases
        var lines: [String] = []
        for r in results where r.phaseSeconds.count == phases.count {
            let run = r.runSeconds.reduce(0, +) / Double(r.runSeconds.count)
            func line(_ label: String, _ seconds: Double) -> String {
                label.padding(toLength: 42, withPad: " ", startingAt: 0)
                    + String(format: "%9.1f ms  %5.1f%%", seconds * 1000, 100 * seconds / run)
            }
            lines.append("time per run, batch \(r.batchSize) (mean of \(r.runSeconds.count) runs, \(String(format: "%.3f", run)) s):")
            for (i, phase) in phases.enumerated() { lines.append("  " + line(phase.label, r.phaseSeconds[i])) }
            func total(_ set: [BartProfile.Phase]) -> Double { set.reduce(0) { $0 + r.phaseSeconds[$1.rawValue] } }
            let encoderGEMM = total([.encoderProjections, .encoderFFN, .crossKeysValues])
            let encoderOther = total([.encoderEmbed, .encoderAttention, .encoderGELU, .encoderNormResidual])
            let decodeMatVec = total([.decoderSelfProjections, .decoderCrossProjections, .decoderFFN])
            let decodeAttention = total([.decoderSelfAttention, .decoderCrossAttention])
            let decodeOther = total([.decoderEmbed, .decoderGELU, .decoderNormResidual])
            let vocab = total([.outputProjection, .argmaxProcessors])
            let profiled = r.phaseSeconds.reduce(0, +)
            lines.append("  summary:")
            lines.append("    " + line("encoder GEMMs (+ cross K/V projection)", encoderGEMM))
            lines.append("    " + line("encoder attention, GELU, LN, embeddings", encoderOther))
            lines.append("    " + line("decoder per-token gemv/gemm (6 layers)", decodeMatVec))
            lines.append("    " + line("decoder self + cross attention", decodeAttention))
            lines.append("    " + line("decoder LN, GELU, residual, embeddings", decodeOther))
            lines.append("    " + line("50k-vocab output projection + argmax", vocab))
            lines.append("    " + line("unprofiled (generator bookkeeping)", max(0, run - profiled)))
            let steps = Double(options.newTokens)
            lines.append(String(format: "    per generated token: %.1f ms decoder layers + %.1f ms output projection",
                                1000 * (decodeMatVec + decodeAttention + decodeOther) / steps, 1000 * vocab / steps))
        }
        return lines.joined(separator: "\n")
    }

    /// Peak resident set size (VmHWM from /proc/self/status) in bytes.
    public static func peakRSSBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return peakRSSBytes(status: text)
    }

    /// VmHWM of a `/proc/PID/status` text, in bytes. The value follows a tab, padded with spaces only while
    /// it is shorter than 8 digits ("VmHWM:\t11221504 kB" from 10 GB up).
    public static func peakRSSBytes(status text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.dropFirst("VmHWM:".count).split(whereSeparator: { $0 == " " || $0 == "\t" })
            if let first = fields.first, let kb = Int(first) { return kb * 1024 }
        }
        return nil
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// `<s> t … t </s>` with deterministic pseudo-random ids in [4, vocab).
    static func inputTokens(length: Int, vocab: Int, salt: Int) -> [Int] {
        if length == 1 { return [0] }
        var x = UInt64(salt) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        var ids = [0]
        for _ in 0..<(length - 2) {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            ids.append(4 + Int((x >> 33) % UInt64(max(vocab - 4, 1))))
        }
        ids.append(2)
        return ids
    }
}
