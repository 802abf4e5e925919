import TensorKernels

extension BartModel {
    /// Prepares incremental decoding against `encoder`: computes every layer's cross-attention keys and
    /// values once, and resets the self-attention cache.
    ///
    /// - Parameters:
    ///   - rowsPerItem: decoded rows per encoder sequence (the beam count; 1 for greedy/sampling). Row `r`
    ///     attends to encoder sequence `r / rowsPerItem` (until `retainRows` drops finished rows).
    ///   - maxSteps: the most tokens that will be fed (≤ `max_position_embeddings`).
    public func beginDecoding(_ encoder: EncoderOutput, rowsPerItem: Int = 1, maxSteps: Int) throws {
        guard rowsPerItem >= 1, maxSteps >= 1 else {
            throw BartError.invalidArgument("rowsPerItem and maxSteps must be ≥ 1")
        }
        guard maxSteps <= config.maxPositionEmbeddings else {
            throw BartError.inputTooLong(length: maxSteps, maximum: config.maxPositionEmbeddings)
        }
        guard encoder.dModel == config.dModel else {
            throw BartError.invalidArgument("encoder output has d_model \(encoder.dModel)")
        }
        let rows = encoder.batch * rowsPerItem
        let reorder = rowsPerItem > 1
        let state: DecoderState
        let threads = BLAS.threads
        if let s = decoderState,
           s.fits(rows: rows, items: encoder.batch, steps: maxSteps, encoderLength: encoder.length, reorder: reorder,
                  threads: threads) {
            state = s
        } else {
            decoderState = nil
            state = DecoderState(
                rowCapacity: rows, itemCapacity: encoder.batch, stepCapacity: maxSteps,
                encoderCapacity: encoder.length, withReorder: reorder, threads: threads,
                halfCrossAttention: weights.precision.tables != .fp32, config: config)
            decoderState = state
        }
        state.rows = rows
        state.rowsPerItem = rowsPerItem
        for r in 0..<rows { state.rowItems[r] = r / rowsPerItem }
        state.encoderLength = encoder.length
        state.position = 0
        state.threads = threads
        if config.copying {
            guard encoder.tokens.count == encoder.batch * encoder.length else {
                throw BartError.invalidArgument("a copying model needs the encoder's input ids (EncoderOutput.tokens)")
            }
            for t in encoder.tokens where t < 0 || t >= config.vocabSize {
                throw BartError.tokenOutOfRange(id: t, vocabSize: config.vocabSize)
            }
            // Each input id and its twin, looked up once per request rather than at every step.
            let twins = weights.pointer?.twins ?? []
            for item in 0..<encoder.batch {
                for j in 0..<encoder.length {
                    let id = encoder.tokens[item * encoder.length + j]
                    state.crossTokens[item * state.encoderCapacity + j] = id
                    state.crossTwins[item * state.encoderCapacity + j] = twins.isEmpty ? id : twins[id]
                }
            }
        }
        computeCrossKeysValues(encoder, state: state)
        if let pointer = weights.pointer { computePointerKeys(pointer, encoder, state: state) }
    }

    /// Number of tokens fed since `beginDecoding`.
    public var decodedLength: Int { decoderState?.position ?? 0 }

    /// Rows being decoded since `beginDecoding`.
    public var decodingRows: Int { decoderState?.rows ?? 0 }

    private func computeCrossKeysValues(_ encoder: EncoderOutput, state s: DecoderState) {
        let length = encoder.length
        let capacity = s.encoderCapacity
        for item in 0..<encoder.batch {
            for j in 0..<length { s.crossMask[item * capacity + j] = encoder.mask[item * length + j] }
        }
        // The projections land directly in the cache as [item][position][heads · headDim]: the decode-step
        // attention reads each head with a row stride of d_model, so nothing is transposed.
        timed(.crossKeysValues) {
            encoder.hidden.withUnsafeBufferPointer { hidden in
                projectCrossKeysValues(hidden: hidden.baseAddress!, encoder: encoder, state: s)
            }
        }
    }

    /// Feeds one token per row (all rows at the same position) and returns the next-token logits,
    /// `[rows × vocab_size]`, in scratch memory valid until the next call. Allocates nothing.
    ///
    /// Call `beginDecoding` first; `tokens.count` must equal the number of rows, and the ids must be in
    /// the vocabulary (the caller feeds ids it got from the model or validated).
    public func decodeStep(_ tokens: UnsafeBufferPointer<Int>) throws -> UnsafeMutablePointer<Float> {
        let s = try decoderLayers(tokens)
        timed(.outputProjection) { weights.lmHead.apply(s.hidden.pointer, rows: s.rows, into: s.logits.pointer) }
        if let pointer = weights.pointer { mixCopies(pointer, state: s) }
        return s.logits.pointer
    }

    /// Embeds `tokens` at the current position and runs every decoder layer: afterwards `hidden` holds the
    /// final decoder states of this step and the position has advanced.
    func decoderLayers(_ tokens: UnsafeBufferPointer<Int>) throws -> DecoderState {
        guard let s = decoderState, tokens.count == s.rows else {
            throw BartError.invalidArgument("decodeStep needs beginDecoding and one token per row")
        }
        guard s.position < s.stepCapacity else {
            throw BartError.inputTooLong(length: s.position + 1, maximum: s.stepCapacity)
        }
        for t in tokens where t < 0 || t >= config.vocabSize {
            throw BartError.tokenOutOfRange(id: t, vocabSize: config.vocabSize)
        }
        let d = config.dModel
        let rows = s.rows
        let position = s.position
        let scale = config.embedScale
        let profileStart = profile == nil ? 0 : BartProfile.now()
        weights.decoderPositions.withUnsafeBufferPointer { positions in
            let p = positions.baseAddress! + (position + BartConfig.positionOffset) * d
            for r in 0..<rows {
                let out = s.hidden.pointer + r * d
                weights.decoderToken(tokens[r], d: d, scale: scale, into: out)
                for j in 0..<d { out[j] += p[j] }
            }
        }
        weights.decoderEmbeddingNorm.apply(s.hidden.pointer, rows: rows)
        profile?.add(.decoderEmbed, BartProfile.now() &- profileStart)
        for (l, layer) in weights.decoderLayers.enumerated() {
            decoderLayer(layer, index: l, state: s)
        }
        s.position += 1
        return s
    }

    /// Array convenience for `decodeStep(_:)`.
    public func decodeStep(_ tokens: [Int]) throws -> UnsafeMutablePointer<Float> {
        try tokens.withUnsafeBufferPointer { try decodeStep($0) }
    }

    private func decoderLayer(_ layer: BartDecoderLayerWeights, index l: Int, state s: DecoderState) {
        let d = config.dModel
        let rows = s.rows
        let h = s.hidden.pointer
        let position = s.position
        let selfRowStride = heads * s.stepCapacity * headDim

        // Causal self-attention over the cache (this step's key/value appended at `position`).
        let sa = layer.selfAttention
        timed(.decoderSelfProjections) {
            sa.q.apply(h, rows: rows, into: s.q.pointer)
            sa.k.apply(h, rows: rows, into: s.k.pointer)
            sa.v.apply(h, rows: rows, into: s.v.pointer)
        }
        timed(.decoderSelfAttention) {
            let keys = s.selfKeys[l].pointer
            let values = s.selfValues[l].pointer
            for r in 0..<rows {
                for hh in 0..<heads {
                    let offset = r * selfRowStride + (hh * s.stepCapacity + position) * headDim
                    (keys + offset).update(from: s.k.pointer + r * d + hh * headDim, count: headDim)
                    (values + offset).update(from: s.v.pointer + r * d + hh * headDim, count: headDim)
                }
                Attention.cached(
                    q: s.q.pointer + r * d, keys: keys + r * selfRowStride, values: values + r * selfRowStride,
                    headStride: s.stepCapacity * headDim, rowStride: headDim, length: position + 1,
                    heads: heads, headDim: headDim, scale: attentionScale, keyMask: nil,
                    scores: s.scores.pointer, out: s.attention.pointer + r * d)
            }
        }
        timed(.decoderSelfProjections) { sa.out.apply(s.attention.pointer, rows: rows, into: s.residual.pointer) }
        addAndNorm(h, s.residual.pointer, layer.selfAttentionNorm, rows: rows, phase: .decoderNormResidual)

        // Cross-attention over the encoder sequence of each row's item.
        let ca = layer.crossAttention
        timed(.decoderCrossProjections) { ca.q.apply(h, rows: rows, into: s.q.pointer) }
        timed(.decoderCrossAttention) {
            let itemStride = s.encoderCapacity * d
            // Rows are independent: with several (beams, a batch) they are split over the threads, each
            // part with its own scores scratch. Fewer than 4 rows stay on this thread: a single row's ~200 µs
            // does not pay for waking another (see `Attention.interleaved`).
            Parallel.forEachPart(count: rows, parts: min(s.threads, rows / 2)) { part, range in
                let scores = s.scores.pointer + part * s.scoresPerPart
                for r in range {
                    let item = s.rowItems[r]
                    let mask = s.crossMask + item * s.encoderCapacity
                    switch s.cross {
                    case .float(let keys, let values):
                        Attention.interleaved(
                            q: s.q.pointer + r * d, keys: keys[l].pointer + item * itemStride,
                            values: values[l].pointer + item * itemStride, length: s.encoderLength, heads: heads,
                            headDim: headDim, scale: attentionScale, keyMask: mask, scores: scores,
                            out: s.attention.pointer + r * d)
                    case .half(let keys, let values, _):
                        Attention.interleavedHalf(
                            q: s.q.pointer + r * d, keys: keys[l].pointer + item * itemStride,
                            values: values[l].pointer + item * itemStride, length: s.encoderLength, heads: heads,
                            headDim: headDim, scale: attentionScale, keyMask: mask, scores: scores,
                            out: s.attention.pointer + r * d)
                    }
                }
            }
        }
        timed(.decoderCrossProjections) { ca.out.apply(s.attention.pointer, rows: rows, into: s.residual.pointer) }
        addAndNorm(h, s.residual.pointer, layer.crossAttentionNorm, rows: rows, phase: .decoderNormResidual)
        feedForward(h, fc1: layer.fc1, fc2: layer.fc2, norm: layer.finalNorm, rows: rows, ffn: s.ffn.pointer,
                    residual: s.residual.pointer, threads: s.threads,
                    phases: (.decoderFFN, .decoderGELU, .decoderNormResidual))
    }

    /// Logits for every position of `decoderPrefix` given one input: `[prefix.count][vocab]`, as the HF
    /// forward pass with `decoder_input_ids = decoderPrefix` returns them (computed step by step).
    public func logits(input: [Int], decoderPrefix: [Int], user: String? = nil) throws -> [[Float]] {
        try validate(decoderPrefix)
        let encoder = try encode([input], users: [user])
        try beginDecoding(encoder, maxSteps: decoderPrefix.count)
        var out: [[Float]] = []
        for token in decoderPrefix {
            let logits = try decodeStep([token])
            out.append(Array(UnsafeBufferPointer(start: logits, count: config.vocabSize)))
        }
        return out
    }
}
