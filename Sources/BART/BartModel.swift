import TensorKernels

/// A BART encoder–decoder computing exactly what `transformers`' `BartForConditionalGeneration` computes
/// in eval mode, on CPU over OpenBLAS, plus Prism's per-user encoder embeddings.
///
/// Encoder input for token `x_i` at position `i` of a request from user row `u`:
///
///     h0_i = LayerNormEmbedding( Embed(x_i) · embed_scale + U[u] + Pos(i) )
///
/// where `embed_scale = sqrt(d_model)` if `scale_embedding` else 1, `Pos(i)` is row `i + 2` of the learned
/// positions (BART's offset of 2), and `U[u]` is the user's row of `user_embeddings` (the zero vector for an
/// unknown or missing user, row 0). The user vector is added after the token embedding and its scale, before
/// the positions and `layernorm_embedding`. The decoder input has no user term.
///
/// Layers are post-layer-norm (`x = LN(x + Attn(x))`, `x = LN(x + FC2(act(FC1(x))))`), attention scores
/// are `(q·kᵀ) · head_dim^-0.5` with masked keys excluded, and logits are `h · sharedᵀ + final_logits_bias`
/// (tied output projection unless the folder has its own `lm_head.weight`).
///
/// The model owns preallocated scratch memory and a decoder KV cache, so it is **not thread-safe**: one
/// instance belongs to one thread (the worker's dedicated inference thread). The decode loop allocates
/// nothing per generated token.
public final class BartModel {
    public let config: BartConfig
    public let weights: BartWeights
    /// Per-user vectors, when the folder has them.
    public let users: UserEmbeddings?

    let activation: Activation
    let heads: Int
    let headDim: Int
    let attentionScale: Float
    /// Whether the encoder's self-attention multiplies in bf16 (`Attention.fullBF16`): when its linear
    /// layers are already int8 or bf16 and the CPU has AVX512-BF16. A float32 model keeps float32 attention.
    public let encoderAttentionBF16: Bool
    var encoderScratch: EncoderScratch?
    /// One scratch per thread for batches encoded a sequence per thread.
    var encoderWorkerScratch: [EncoderScratch] = []
    var decoderState: DecoderState?
    /// When set, forward passes add their time per phase to it (see `BartProfile`).
    public var profile: BartProfile?
    /// int8 screen of the output projection for the exact greedy argmax (`ScreenedArgmax`).
    var logitScreen: Int8Matrix?
    /// Whether greedy steps of up to `screenedMaxRows` rows use the screened output projection. The tokens
    /// are the same either way; it reads a quarter of the output-projection bytes per step (its rows are
    /// split over the BLAS thread count) and costs vocab·d_model bytes of memory, built on first use. On by
    /// default.
    public var screenedGreedyArgmax = true

    /// Builds a model from parts; checks that the user table (if any) has `d_model` columns.
    ///
    /// `blasThreads` sets OpenBLAS's (process-wide) thread count; the default is 1 because Prism runs one
    /// model per inference thread. Pass `nil` to leave the current setting alone.
    public init(
        config: BartConfig, weights: BartWeights, users: UserEmbeddings? = nil, blasThreads: Int? = 1
    ) throws {
        try config.validate()
        if let blasThreads { BLAS.setThreads(blasThreads) }
        guard let activation = Activation(rawValue: config.activation) else {
            throw BartError.badConfig(path: "config", detail: "unsupported activation \(config.activation)")
        }
        if config.copying != (weights.pointer != nil) {
            throw BartError.badConfig(
                path: "config", detail: config.copying ? "prism_copy is set but the weights have no pointer"
                    : "the weights have a pointer but config.json has no prism_copy")
        }
        if let p = weights.pointer {
            let d = config.dModel
            guard p.query.inFeatures == d, p.query.outFeatures == d, p.key.inFeatures == d, p.key.outFeatures == d,
                  p.gate.inFeatures == d, p.gate.outFeatures == 3 else {
                throw BartError.badConfig(path: "config", detail: "pointer weights are not [d_model, d_model] and [3, d_model]")
            }
            guard p.twins.count == config.vocabSize, p.twins.allSatisfy({ $0 >= 0 && $0 < config.vocabSize }) else {
                throw BartError.badConfig(path: "config", detail: "copy_twins must map every token to a token")
            }
        }
        if weights.precision.usesInt8 { try Self.checkInt8() }
        if let users, users.dModel != config.dModel {
            throw BartError.badUsers(detail: "user vectors have \(users.dModel) columns, d_model is \(config.dModel)")
        }
        self.config = config
        self.weights = weights
        self.users = users
        self.activation = activation
        heads = config.encoderAttentionHeads
        headDim = config.dModel / config.encoderAttentionHeads
        attentionScale = 1 / Float(headDim).squareRoot()
        encoderAttentionBF16 = BF16Rows.isAccelerated && headDim % 2 == 0
            && (weights.encoderLayers.first?.fc1.precision ?? .fp32) != .fp32
    }

    /// Loads a Hugging Face model folder: `config.json` (+ optional `generation_config.json`),
    /// `model.safetensors` (or sharded with `model.safetensors.index.json`), and optionally
    /// `user_embeddings.safetensors` + `users.json`.
    ///
    /// `precision` `.int8` quantizes the linear layers and token tables while loading (no float32 copy is
    /// kept), `.int8Encoder` the encoder's linear layers only; both need a CPU with VNNI
    /// (`Int8Rows.isSupported`) and throw `precisionUnavailable` otherwise.
    public static func load(folder: String, blasThreads: Int? = 1, precision: Precision = .fp32) throws -> BartModel {
        let config = try BartConfig.load(folder: folder)
        if precision.usesInt8 { try checkInt8() }
        let weights = try BartWeights.load(folder: folder, config: config, precision: precision)
        let users = try UserEmbeddings.load(folder: folder, dModel: config.dModel)
        return try BartModel(config: config, weights: weights, users: users, blasThreads: blasThreads)
    }

    /// Throws unless this CPU runs int8 products (VNNI), naming what oneDNN found instead.
    static func checkInt8() throws {
        guard Int8Rows.isSupported else {
            throw BartError.precisionUnavailable(
                "int8 needs AVX-512 VNNI or AVX-VNNI; oneDNN finds \(Int8Rows.instructionSet) on this CPU (use --precision fp32)")
        }
    }

    /// Frees the encoder scratch and decoder caches (they are kept at their largest size between requests;
    /// call this after an unusually large batch). The next request allocates them again.
    public func releaseScratch() {
        encoderScratch = nil
        encoderWorkerScratch = []
        decoderState = nil
        logitScreen = nil
    }

    /// Checks a token sequence against the vocabulary and the position table.
    func validate(_ tokens: [Int]) throws {
        if tokens.isEmpty { throw BartError.emptyInput }
        if tokens.count > config.maxPositionEmbeddings {
            throw BartError.inputTooLong(length: tokens.count, maximum: config.maxPositionEmbeddings)
        }
        for t in tokens where t < 0 || t >= config.vocabSize {
            throw BartError.tokenOutOfRange(id: t, vocabSize: config.vocabSize)
        }
    }
}

/// Scratch buffers reused across encoder calls (grown when a larger batch arrives).
final class EncoderScratch {
    let rows: Int
    let keyLength: Int
    let hidden, q, k, v, attention, residual, ffn, scores: FloatBuffer

    init(rows: Int, keyLength: Int, dModel: Int, ffnDim: Int, scoresCount: Int) {
        self.rows = rows
        self.keyLength = keyLength
        hidden = FloatBuffer(count: rows * dModel)
        q = FloatBuffer(count: rows * dModel)
        k = FloatBuffer(count: rows * dModel)
        v = FloatBuffer(count: rows * dModel)
        attention = FloatBuffer(count: rows * dModel)
        residual = FloatBuffer(count: rows * dModel)
        ffn = FloatBuffer(count: rows * ffnDim)
        scores = FloatBuffer(count: scoresCount)
    }
}
