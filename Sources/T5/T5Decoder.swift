import TensorKernels

/// Preallocated decoder memory: self-attention cache `[rows][heads][steps][d_kv]` per layer, cross-attention
/// keys/values `[items][encoderLength][inner]` per layer, the step's position bias and scratch.
final class T5DecoderState: T5Activations {
    let rowCapacity, itemCapacity, stepCapacity, encoderCapacity: Int
    let withReorder: Bool
    var selfKeys, selfValues, spareKeys, spareValues: [FloatBuffer]
    let crossKeys, crossValues: [FloatBuffer]
    let crossMask: UnsafeMutablePointer<UInt8>
    let rowItems: UnsafeMutablePointer<Int>
    let scores, bias, logits: FloatBuffer

    var rows = 0
    var rowsPerItem = 1
    var encoderLength = 0
    var position = 0

    init(rows: Int, items: Int, steps: Int, encoderLength: Int, reorder: Bool, config c: T5Config) {
        rowCapacity = rows
        itemCapacity = items
        stepCapacity = steps
        encoderCapacity = encoderLength
        withReorder = reorder
        let selfSize = rows * steps * c.innerDim, crossSize = items * encoderLength * c.innerDim
        let layers = c.numDecoderLayers
        selfKeys = (0..<layers).map { _ in FloatBuffer(count: selfSize) }
        selfValues = (0..<layers).map { _ in FloatBuffer(count: selfSize) }
        spareKeys = reorder ? (0..<layers).map { _ in FloatBuffer(count: selfSize) } : []
        spareValues = reorder ? (0..<layers).map { _ in FloatBuffer(count: selfSize) } : []
        crossKeys = (0..<layers).map { _ in FloatBuffer(count: crossSize) }
        crossValues = (0..<layers).map { _ in FloatBuffer(count: crossSize) }
        crossMask = .allocate(capacity: max(1, items * encoderLength))
        crossMask.initialize(repeating: 0, count: max(1, items * encoderLength))
        rowItems = .allocate(capacity: rows)
        rowItems.initialize(repeating: 0, count: rows)
        scores = FloatBuffer(count: c.numHeads * max(steps, encoderLength))
        bias = FloatBuffer(count: c.numHeads * steps)
        logits = FloatBuffer(count: rows * c.vocabSize)
        super.init(rows: rows, config: c)
    }

    deinit {
        crossMask.deallocate()
        rowItems.deallocate()
    }

    func fits(rows: Int, items: Int, steps: Int, encoderLength: Int, reorder: Bool) -> Bool {
        rows <= rowCapacity && items <= itemCapacity && steps <= stepCapacity && encoderLength <= encoderCapacity
            && (!reorder || withReorder)
    }
}

extension T5Model {
    /// Prepares incremental decoding: every layer's cross-attention keys and values once, an empty cache.
    public func beginDecoding(_ encoder: EncoderOutput, rowsPerItem: Int = 1, maxSteps: Int) throws {
        guard rowsPerItem >= 1, maxSteps >= 1 else { throw T5Error.invalidArgument("rowsPerItem and maxSteps must be ≥ 1") }
        guard encoder.dModel == config.dModel else { throw T5Error.invalidArgument("encoder output has d_model \(encoder.dModel)") }
        let rows = encoder.batch * rowsPerItem, reorder = rowsPerItem > 1
        let s: T5DecoderState
        if let state = decoderState, state.fits(rows: rows, items: encoder.batch, steps: maxSteps, encoderLength: encoder.length, reorder: reorder) {
            s = state
        } else {
            decoderState = nil
            s = T5DecoderState(rows: rows, items: encoder.batch, steps: maxSteps, encoderLength: encoder.length,
                               reorder: reorder, config: config)
            decoderState = s
        }
        s.rows = rows
        s.rowsPerItem = rowsPerItem
        for r in 0..<rows { s.rowItems[r] = r / rowsPerItem }
        s.encoderLength = encoder.length
        s.position = 0
        let inner = config.innerDim, d = config.dModel, length = encoder.length, capacity = s.encoderCapacity
        for item in 0..<encoder.batch {
            for j in 0..<capacity { s.crossMask[item * capacity + j] = j < length ? encoder.mask[item * length + j] : 0 }
        }
        encoder.hidden.withUnsafeBufferPointer { hidden in
            for (l, layer) in weights.decoderLayers.enumerated() {
                for item in 0..<encoder.batch {
                    let own = encoder.lengths[item]
                    let src = hidden.baseAddress! + item * length * d
                    let keys = s.crossKeys[l].pointer + item * capacity * inner
                    let values = s.crossValues[l].pointer + item * capacity * inner
                    layer.crossAttention.k.apply(src, rows: own, into: keys)
                    layer.crossAttention.v.apply(src, rows: own, into: values)
                    // Padded positions are masked; zeros rather than stale data.
                    (keys + own * inner).update(repeating: 0, count: (capacity - own) * inner)
                    (values + own * inner).update(repeating: 0, count: (capacity - own) * inner)
                }
            }
        }
    }

    /// Feeds one token per row; returns `[rows × vocab]` logits valid until the next call.
    public func decodeStep(_ tokens: UnsafeBufferPointer<Int>) throws -> UnsafeMutablePointer<Float> {
        guard let s = decoderState, tokens.count == s.rows else {
            throw T5Error.invalidArgument("decodeStep needs beginDecoding and one token per row")
        }
        guard s.position < s.stepCapacity else { throw T5Error.invalidArgument("more steps than beginDecoding's maxSteps") }
        for t in tokens where t < 0 || t >= config.vocabSize { throw T5Error.tokenOutOfRange(id: t, vocabSize: config.vocabSize) }
        let d = config.dModel, inner = config.innerDim, heads = config.numHeads, dKV = config.dKV
        let rows = s.rows, position = s.position
        let h = s.hidden.pointer
        weights.shared.withUnsafeBufferPointer { table in
            for r in 0..<rows { (h + r * d).update(from: table.baseAddress! + tokens[r] * d, count: d) }
        }
        weights.decoderPositions.fillStep(position: position, capacity: s.stepCapacity, into: s.bias.pointer)
        let rowStride = heads * s.stepCapacity * dKV
        for (l, layer) in weights.decoderLayers.enumerated() {
            layer.selfAttentionNorm.apply(h, rows: rows, into: s.normed.pointer)
            let sa = layer.selfAttention
            sa.q.apply(s.normed.pointer, rows: rows, into: s.q.pointer)
            sa.k.apply(s.normed.pointer, rows: rows, into: s.k.pointer)
            sa.v.apply(s.normed.pointer, rows: rows, into: s.v.pointer)
            let keys = s.selfKeys[l].pointer, values = s.selfValues[l].pointer
            for r in 0..<rows {
                for hh in 0..<heads {
                    let at = r * rowStride + (hh * s.stepCapacity + position) * dKV
                    (keys + at).update(from: s.k.pointer + r * inner + hh * dKV, count: dKV)
                    (values + at).update(from: s.v.pointer + r * inner + hh * dKV, count: dKV)
                }
                Attention.cached(
                    q: s.q.pointer + r * inner, keys: keys + r * rowStride, values: values + r * rowStride,
                    headStride: s.stepCapacity * dKV, rowStride: dKV, length: position + 1, heads: heads, headDim: dKV,
                    scale: 1, keyMask: nil, bias: s.bias.pointer, biasHeadStride: s.stepCapacity,
                    scores: s.scores.pointer, out: s.attention.pointer + r * inner)
            }
            sa.o.apply(s.attention.pointer, rows: rows, into: s.residual.pointer)
            VectorMath.add(h, s.residual.pointer, count: rows * d)

            layer.crossAttentionNorm.apply(h, rows: rows, into: s.normed.pointer)
            let ca = layer.crossAttention
            ca.q.apply(s.normed.pointer, rows: rows, into: s.q.pointer)
            let itemStride = s.encoderCapacity * inner
            for r in 0..<rows {
                let item = s.rowItems[r]
                Attention.interleaved(
                    q: s.q.pointer + r * inner, keys: s.crossKeys[l].pointer + item * itemStride,
                    values: s.crossValues[l].pointer + item * itemStride, length: s.encoderLength, heads: heads, headDim: dKV,
                    scale: 1, keyMask: s.crossMask + item * s.encoderCapacity, scores: s.scores.pointer,
                    out: s.attention.pointer + r * inner)
            }
            ca.o.apply(s.attention.pointer, rows: rows, into: s.residual.pointer)
            VectorMath.add(h, s.residual.pointer, count: rows * d)
            feedForward(layer.feedForward, norm: layer.feedForwardNorm, hidden: h, rows: rows, normed: s.normed.pointer,
                        ffn: s.ffn.pointer, gate: s.gate.pointer, residual: s.residual.pointer, threads: BLAS.threads)
        }
        weights.decoderFinalNorm.apply(h, rows: rows, into: s.normed.pointer)
        if config.scaleDecoderOutputs {
            // transformers rescales before the tied projection: sequence_output * d_model ** -0.5.
            VectorMath.scale(s.normed.pointer, by: 1 / Float(d).squareRoot(), count: rows * d)
        }
        weights.lmHead.apply(s.normed.pointer, rows: rows, into: s.logits.pointer)
        s.position += 1
        return s.logits.pointer
    }

    public func decodeStep(_ tokens: [Int]) throws -> UnsafeMutablePointer<Float> {
        try tokens.withUnsafeBufferPointer { try decodeStep($0) }
    }

    /// Logits for every position of `decoderPrefix` (`[prefix.count][vocab]`), as the forward pass with
    /// `decoder_input_ids = decoderPrefix` returns them (computed step by step).
    public func logits(input: [Int], decoderPrefix: [Int]) throws -> [[Float]] {
        try validate(decoderPrefix)
        let encoder = try encode([input])
        try beginDecoding(encoder, maxSteps: decoderPrefix.count)
        return try decoderPrefix.map { token in
            Array(UnsafeBufferPointer(start: try decodeStep([token]), count: config.vocabSize))
        }
    }

    /// Beam reordering: afterwards row `r` holds the cache row `source[r]` held (within its item).
    public func reorderRows(_ source: UnsafeBufferPointer<Int>) throws {
        guard let s = decoderState, source.count == s.rows else { throw T5Error.invalidArgument("reorderRows needs one source per row") }
        for r in 0..<s.rows where source[r] < 0 || source[r] / s.rowsPerItem != r / s.rowsPerItem {
            throw T5Error.invalidArgument("row \(r) cannot take row \(source[r]) of another item")
        }
        if (0..<s.rows).allSatisfy({ source[$0] == $0 }) { return }
        guard s.withReorder else { throw T5Error.invalidArgument("decoding was begun without reordering") }
        let heads = config.numHeads, headStride = s.stepCapacity * config.dKV, used = s.position * config.dKV
        for l in 0..<config.numDecoderLayers {
            for r in 0..<s.rows {
                CacheRows.copy(from: s.selfKeys[l].pointer, row: source[r], to: s.spareKeys[l].pointer, row: r, heads: heads,
                               headStride: headStride, used: used)
                CacheRows.copy(from: s.selfValues[l].pointer, row: source[r], to: s.spareValues[l].pointer, row: r, heads: heads,
                               headStride: headStride, used: used)
            }
            swap(&s.selfKeys[l], &s.spareKeys[l])
            swap(&s.selfValues[l], &s.spareValues[l])
        }
    }

    /// Keeps rows `keep` (ascending) of a one-row-per-item session; finished rows stop costing work.
    public func retainRows(_ keep: UnsafeBufferPointer<Int>) throws {
        guard let s = decoderState, s.rowsPerItem == 1, !keep.isEmpty else {
            throw T5Error.invalidArgument("retainRows needs a one-row-per-item session and at least one row")
        }
        for i in 0..<keep.count where keep[i] < 0 || keep[i] >= s.rows || (i > 0 && keep[i] <= keep[i - 1]) {
            throw T5Error.invalidArgument("retainRows takes ascending rows below \(s.rows)")
        }
        let heads = config.numHeads, headStride = s.stepCapacity * config.dKV, used = s.position * config.dKV
        // keep[i] ≥ i and ascending: copying forward never overwrites a row still to be read.
        for i in 0..<keep.count where keep[i] != i {
            for l in 0..<config.numDecoderLayers {
                CacheRows.copy(from: s.selfKeys[l].pointer, row: keep[i], to: s.selfKeys[l].pointer, row: i, heads: heads,
                               headStride: headStride, used: used)
                CacheRows.copy(from: s.selfValues[l].pointer, row: keep[i], to: s.selfValues[l].pointer, row: i, heads: heads,
                               headStride: headStride, used: used)
            }
            s.rowItems[i] = s.rowItems[keep[i]]
        }
        s.rows = keep.count
    }
}
