import TensorKernels

/// Projections of one multi-head attention block (`q_proj`, `k_proj`, `v_proj`, `out_proj`).
public struct BartAttentionWeights: Sendable {
    public var q: Linear
    public var k: Linear
    public var v: Linear
    public var out: Linear

    public init(q: Linear, k: Linear, v: Linear, out: Linear) {
        self.q = q
        self.k = k
        self.v = v
        self.out = out
    }
}

/// One post-layer-norm encoder layer.
public struct BartEncoderLayerWeights: Sendable {
    public var selfAttention: BartAttentionWeights
    public var selfAttentionNorm: LayerNorm
    public var fc1: Linear
    public var fc2: Linear
    public var finalNorm: LayerNorm

    public init(
        selfAttention: BartAttentionWeights, selfAttentionNorm: LayerNorm,
        fc1: Linear, fc2: Linear, finalNorm: LayerNorm
    ) {
        self.selfAttention = selfAttention
        self.selfAttentionNorm = selfAttentionNorm
        self.fc1 = fc1
        self.fc2 = fc2
        self.finalNorm = finalNorm
    }
}

/// One post-layer-norm decoder layer (causal self-attention, cross-attention, feed-forward).
public struct BartDecoderLayerWeights: Sendable {
    public var selfAttention: BartAttentionWeights
    public var selfAttentionNorm: LayerNorm
    public var crossAttention: BartAttentionWeights
    public var crossAttentionNorm: LayerNorm
    public var fc1: Linear
    public var fc2: Linear
    public var finalNorm: LayerNorm

    public init(
        selfAttention: BartAttentionWeights, selfAttentionNorm: LayerNorm,
        crossAttention: BartAttentionWeights, crossAttentionNorm: LayerNorm,
        fc1: Linear, fc2: Linear, finalNorm: LayerNorm
    ) {
        self.selfAttention = selfAttention
        self.selfAttentionNorm = selfAttentionNorm
        self.crossAttention = crossAttention
        self.crossAttentionNorm = crossAttentionNorm
        self.fc1 = fc1
        self.fc2 = fc2
        self.finalNorm = finalNorm
    }
}

/// All parameters of a `BartForConditionalGeneration`, as contiguous `[Float]` in PyTorch layout.
public struct BartWeights: Sendable {
    /// `model.shared.weight`, `[vocab, d_model]`.
    public var shared: [Float]
    /// `model.encoder.embed_tokens.weight`: the same array as `shared` unless the checkpoint stores
    /// different untied encoder embeddings (transformers unties them with `tie_word_embeddings=false`).
    public var encoderTokens: [Float]
    /// `model.decoder.embed_tokens.weight`: `shared` unless stored and different.
    public var decoderTokens: [Float]
    /// `model.encoder.embed_positions.weight`, `[max_position_embeddings + 2, d_model]`.
    public var encoderPositions: [Float]
    /// `model.decoder.embed_positions.weight`, `[max_position_embeddings + 2, d_model]`.
    public var decoderPositions: [Float]
    public var encoderEmbeddingNorm: LayerNorm
    public var decoderEmbeddingNorm: LayerNorm
    public var encoderLayers: [BartEncoderLayerWeights]
    public var decoderLayers: [BartDecoderLayerWeights]
    /// `lm_head.weight` `[vocab, d_model]`; equal to `shared` when the embeddings are tied.
    public var lmHead: Linear
    /// A copying model's pointer (`BartConfig.copying`), else nil. It stays float32 at every precision
    /// (2·d_model² + 3·d_model weights: too few to matter, and it decides what is copied).
    public var pointer: BartPointerWeights?
    /// The encoder's token table in int8 (one scale per token) or bf16 when the tables are held so
    /// (`Precision.tables`); `shared`, `encoderTokens` and `decoderTokens` are then empty. For tied
    /// embeddings it is the output projection's own weight (one copy for all three).
    public var encoderTokenRows: ReducedRows?
    /// The decoder's token table below float32, as `encoderTokenRows`.
    public var decoderTokenRows: ReducedRows?

    /// The model-level precision, from the output projection's (the tables') and the encoder's layers'.
    public var precision: Precision {
        let encoder = encoderLayers.first?.fc1.precision ?? lmHead.precision
        switch (encoder, lmHead.precision) {
        case (.int8, .fp32): return .int8Encoder
        case (.int8, .bf16): return .int8BF16
        case (_, let tables): return tables
        }
    }

    public init(
        shared: [Float], encoderTokens: [Float]? = nil, decoderTokens: [Float]? = nil,
        encoderPositions: [Float], decoderPositions: [Float],
        encoderEmbeddingNorm: LayerNorm, decoderEmbeddingNorm: LayerNorm,
        encoderLayers: [BartEncoderLayerWeights], decoderLayers: [BartDecoderLayerWeights], lmHead: Linear,
        pointer: BartPointerWeights? = nil
    ) {
        self.shared = shared
        self.encoderTokens = encoderTokens ?? shared
        self.decoderTokens = decoderTokens ?? shared
        self.encoderPositions = encoderPositions
        self.decoderPositions = decoderPositions
        self.encoderEmbeddingNorm = encoderEmbeddingNorm
        self.decoderEmbeddingNorm = decoderEmbeddingNorm
        self.encoderLayers = encoderLayers
        self.decoderLayers = decoderLayers
        self.lmHead = lmHead
        self.pointer = pointer
    }

    /// Writes `scale ·` row `token` of the encoder's token table into `out` (`d` floats).
    @inline(__always)
    func encoderToken(_ token: Int, d: Int, scale: Float, into out: UnsafeMutablePointer<Float>) {
        Self.tokenRow(token, d: d, scale: scale, rows: encoderTokenRows, table: encoderTokens, into: out)
    }

    /// Writes `scale ·` row `token` of the decoder's token table into `out` (`d` floats).
    @inline(__always)
    func decoderToken(_ token: Int, d: Int, scale: Float, into out: UnsafeMutablePointer<Float>) {
        Self.tokenRow(token, d: d, scale: scale, rows: decoderTokenRows, table: decoderTokens, into: out)
    }

    @inline(__always)
    private static func tokenRow(_ token: Int, d: Int, scale: Float, rows: ReducedRows?, table: [Float],
                                 into out: UnsafeMutablePointer<Float>) {
        if let rows {
            rows.row(token, factor: scale, into: out)
            return
        }
        table.withUnsafeBufferPointer { t in
            let e = t.baseAddress! + token * d
            for j in 0..<d { out[j] = e[j] * scale }
        }
    }
}

/// The pointer of a copying model (COPYING.md): its own single-head attention over the encoder output and
/// the gate between generating and copying, all reading the final decoder state.
public struct BartPointerWeights: Sendable {
    /// `copy_query` `[d_model, d_model]` + bias.
    public var query: Linear
    /// `copy_key` `[d_model, d_model]` + bias, applied to the encoder output.
    public var key: Linear
    /// `copy_gate` `[3, d_model]` + bias: the shares of generating, copying and copying a twin.
    public var gate: Linear
    /// `copy_twins` `[vocab]`: each token's spelling without its leading space (itself when none).
    public var twins: [Int]

    public init(query: Linear, key: Linear, gate: Linear, twins: [Int]) {
        self.query = query
        self.key = key
        self.gate = gate
        self.twins = twins
    }
}
