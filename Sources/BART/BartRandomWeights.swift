import TensorKernels

extension BartWeights {
    /// Random weights for `config` (benchmarks and tests; nothing is downloaded): uniform values with
    /// standard deviation `std` for matrices and embeddings, zero biases, unit layer-norm scales.
    /// Deterministic for a given `seed`. Embeddings are tied (`lm_head` shares `shared`).
    ///
    /// At `.int8` or `.bf16` the same values are drawn and rounded as they are made (a matrix, or a block of the
    /// token table, at a time), as `load(folder:config:precision:)` does: the same model as at `.fp32`,
    /// without its float32 copy.
    public static func random(config c: BartConfig, seed: UInt64 = 0, std: Float = 0.02,
                              precision: Precision = .fp32) throws -> BartWeights {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        let halfWidth = std * Float(3).squareRoot()
        func draw(_ count: Int, into buffer: UnsafeMutablePointer<Float>) {
            for i in 0..<count {
                // xorshift64*, top 24 bits → [-1, 1)
                state ^= state >> 12
                state ^= state << 25
                state ^= state >> 27
                let bits = (state &* 0x2545_F491_4F6C_DD1D) >> 40
                buffer[i] = (Float(bits) * (2.0 / 16_777_216.0) - 1) * halfWidth
            }
        }
        func fill(_ count: Int) -> [Float] {
            [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                draw(count, into: buffer.baseAddress!)
                initialized = count
            }
        }
        let d = c.dModel
        func linear(_ outDim: Int, _ inDim: Int, at layerPrecision: Precision) throws -> Linear {
            try Linear(weight: fill(outDim * inDim), bias: [Float](repeating: 0, count: outDim), inFeatures: inDim, outFeatures: outDim)
                .converted(to: layerPrecision)
        }
        func norm() throws -> LayerNorm {
            try LayerNorm(gamma: [Float](repeating: 1, count: d), beta: [Float](repeating: 0, count: d), eps: c.layerNormEps)
        }
        func attention(at p: Precision) throws -> BartAttentionWeights {
            BartAttentionWeights(q: try linear(d, d, at: p), k: try linear(d, d, at: p), v: try linear(d, d, at: p), out: try linear(d, d, at: p))
        }
        let encoderPrecision = precision.layer(inEncoder: true), decoderPrecision = precision.layer(inEncoder: false)
        let positions = (c.maxPositionEmbeddings + BartConfig.positionOffset) * d
        let shared = precision.tables != .fp32 ? [] : fill(c.vocabSize * d)
        let sharedRows = ReducedRows(rows: c.vocabSize, cols: d, precision: precision.tables) { range, buffer in
            draw(range.count * d, into: buffer)
        }
        let headBias = [Float](repeating: 0, count: c.vocabSize)
        var weights = BartWeights(
            shared: shared, encoderPositions: fill(positions), decoderPositions: fill(positions),
            encoderEmbeddingNorm: try norm(), decoderEmbeddingNorm: try norm(),
            encoderLayers: try (0..<c.encoderLayers).map { _ in
                BartEncoderLayerWeights(
                    selfAttention: try attention(at: encoderPrecision), selfAttentionNorm: try norm(),
                    fc1: try linear(c.encoderFFNDim, d, at: encoderPrecision), fc2: try linear(d, c.encoderFFNDim, at: encoderPrecision),
                    finalNorm: try norm())
            },
            decoderLayers: try (0..<c.decoderLayers).map { _ in
                BartDecoderLayerWeights(
                    selfAttention: try attention(at: decoderPrecision), selfAttentionNorm: try norm(),
                    crossAttention: try attention(at: decoderPrecision), crossAttentionNorm: try norm(),
                    fc1: try linear(c.decoderFFNDim, d, at: decoderPrecision), fc2: try linear(d, c.decoderFFNDim, at: decoderPrecision),
                    finalNorm: try norm())
            },
            lmHead: try sharedRows.map { try Linear(rows: $0, bias: headBias) }
                ?? Linear(weight: shared, bias: headBias, inFeatures: d, outFeatures: c.vocabSize),
            pointer: c.copying
                ? BartPointerWeights(
                    query: try linear(d, d, at: .fp32), key: try linear(d, d, at: .fp32), gate: try linear(3, d, at: .fp32),
                    twins: Array(0..<c.vocabSize))
                : nil)
        weights.encoderTokenRows = sharedRows
        weights.decoderTokenRows = sharedRows
        return weights
    }
}

extension BartConfig {
    /// facebook/bart-base's architecture (vocab 50265, d_model 768, 6+6 layers, 12 heads, FFN 3072,
    /// 1024 positions, gelu, no embedding scaling).
    public static var bartBase: BartConfig {
        BartConfig(
            vocabSize: 50265, dModel: 768, encoderLayers: 6, decoderLayers: 6,
            encoderAttentionHeads: 12, decoderAttentionHeads: 12, encoderFFNDim: 3072, decoderFFNDim: 3072,
            maxPositionEmbeddings: 1024)
    }
}
