@_exported import Seq2Seq
import TensorKernels

/// A T5 encoder–decoder computing what `transformers`' `T5ForConditionalGeneration` computes in eval mode,
/// on CPU over OpenBLAS: T5 v1.0 and v1.1 / FLAN-T5.
///
/// Pre-layer-norm blocks with RMS norms (no mean, no bias): `h += Attn(RMS(h))`, `h += FFN(RMS(h))`, a final
/// RMS norm per stack. Attention scores are `q·kᵀ + bias` with **no** `1/√d` scaling, where the bias is the
/// bucketed relative position bias of the stack's first layer (bidirectional in the encoder, causal in the
/// decoder; none in cross-attention). Token embeddings are not scaled. With tied embeddings (v1.0) the
/// decoder output is scaled by `d_model^-0.5` before the shared output projection; v1.1 has its own
/// `lm_head`. Decoding starts from `decoder_start_token_id` (the pad token).
///
/// Owns its scratch and caches, so it is **not thread-safe**: one instance per thread. The decode loop
/// allocates nothing per token.
public final class T5Model {
    public let config: T5Config
    public let weights: T5Weights
    let activation: Activation
    var encoderScratch: T5EncoderScratch?
    var decoderState: T5DecoderState?

    /// `blasThreads` sets OpenBLAS's (process-wide) thread count; nil leaves it alone.
    public init(config: T5Config, weights: T5Weights, blasThreads: Int? = 1) throws {
        try config.validate()
        guard let activation = Activation(rawValue: config.activation) else {
            throw T5Error.badConfig(path: "config", detail: "unsupported activation \(config.activation)")
        }
        if let blasThreads { BLAS.setThreads(blasThreads) }
        self.config = config
        self.weights = weights
        self.activation = activation
    }

    /// Loads a Hugging Face folder: `config.json` (+ `generation_config.json`), `model.safetensors` or an
    /// index with shards.
    /// BF16 projections stay BF16 in memory unless `widenBF16`. `precision` `.int8` quantizes the projections
    /// and the head while loading (`T5Weights.load`); it needs a CPU with VNNI and throws
    /// `precisionUnavailable` otherwise.
    public static func load(folder: String, blasThreads: Int? = 1, widenBF16: Bool = false,
                            precision: Precision = .fp32) throws -> T5Model {
        if precision.usesInt8 && !Int8Rows.isSupported {
            throw T5Error.precisionUnavailable(
                "int8 needs AVX-512 VNNI or AVX-VNNI; oneDNN finds \(Int8Rows.instructionSet) on this CPU (use --precision fp32)")
        }
        let config = try T5Config.load(folder: folder)
        let weights = try T5Weights.load(folder: folder, config: config, widenBF16: widenBF16, precision: precision)
        return try T5Model(config: config, weights: weights, blasThreads: blasThreads)
    }

    /// Frees the scratch and caches (kept at their largest size between requests).
    public func releaseScratch() {
        encoderScratch = nil
        decoderState = nil
    }

    func validate(_ tokens: [Int]) throws {
        if tokens.isEmpty { throw T5Error.emptyInput }
        for t in tokens where t < 0 || t >= config.vocabSize { throw T5Error.tokenOutOfRange(id: t, vocabSize: config.vocabSize) }
    }

    /// `h += FFN(RMS(h))` with `normed`, `ffn`, `gate` and `residual` as scratch.
    func feedForward(_ block: T5FeedForwardWeights, norm: RMSNorm, hidden h: UnsafeMutablePointer<Float>, rows: Int,
                     normed: UnsafeMutablePointer<Float>, ffn: UnsafeMutablePointer<Float>, gate: UnsafeMutablePointer<Float>,
                     residual: UnsafeMutablePointer<Float>, threads: Int) {
        norm.apply(h, rows: rows, into: normed)
        block.wi.apply(normed, rows: rows, into: ffn)
        activation.apply(ffn, count: rows * config.dFF, threads: threads)
        if let g = block.gate {
            g.apply(normed, rows: rows, into: gate)
            VectorMath.multiply(ffn, gate, count: rows * config.dFF)
        }
        block.wo.apply(ffn, rows: rows, into: residual)
        VectorMath.add(h, residual, count: rows * config.dModel)
    }
}

extension T5Model: Seq2SeqModel {
    public var vocabSize: Int { config.vocabSize }
    public var maxDecoderLength: Int? { nil }
}
