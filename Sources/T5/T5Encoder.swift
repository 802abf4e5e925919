import TensorKernels

/// The activations of one layer pass for up to `rows` rows: the encoder's scratch and the decoder's
/// step buffers both start from these.
class T5Activations {
    let hidden, normed, q, k, v, attention, residual, ffn, gate: FloatBuffer

    init(rows: Int, config c: T5Config) {
        hidden = FloatBuffer(count: rows * c.dModel)
        normed = FloatBuffer(count: rows * c.dModel)
        q = FloatBuffer(count: rows * c.innerDim)
        k = FloatBuffer(count: rows * c.innerDim)
        v = FloatBuffer(count: rows * c.innerDim)
        attention = FloatBuffer(count: rows * c.innerDim)
        residual = FloatBuffer(count: rows * c.dModel)
        ffn = FloatBuffer(count: rows * c.dFF)
        gate = FloatBuffer(count: c.gatedFFN ? rows * c.dFF : 1)
    }
}

/// Scratch for one encoder sequence (grown when a longer one arrives).
final class T5EncoderScratch: T5Activations {
    let rows: Int
    let scores, bias: FloatBuffer

    init(rows: Int, config c: T5Config, scoresCount: Int) {
        self.rows = rows
        scores = FloatBuffer(count: scoresCount)
        bias = FloatBuffer(count: c.numHeads * rows * rows)
        super.init(rows: rows, config: c)
    }
}

extension T5Model {
    /// Encodes a batch (right-padded in the output and masked). T5 has no user table: `users` is ignored
    /// and every sequence is a cold start.
    public func encode(_ inputs: [[Int]], users: [String?]? = nil) throws -> EncoderOutput {
        if inputs.isEmpty { throw T5Error.emptyInput }
        for input in inputs { try validate(input) }
        let batch = inputs.count
        let length = inputs.map(\.count).max() ?? 0
        let d = config.dModel
        let threads = BLAS.threads
        let s = scratch(rows: length, threads: threads)
        var mask = [UInt8](repeating: 0, count: batch * length)
        // Each sequence at its own length (its real positions come out as in a padded, masked batch).
        let hidden = [Float](unsafeUninitializedCapacity: batch * length * d) { buffer, initialized in
            for b in 0..<batch {
                let own = inputs[b].count
                encodeOne(inputs[b], scratch: s, threads: threads)
                let out = buffer.baseAddress! + b * length * d
                out.initialize(from: s.normed.pointer, count: own * d)
                (out + own * d).initialize(repeating: 0, count: (length - own) * d)
                for i in 0..<own { mask[b * length + i] = 1 }
            }
            initialized = batch * length * d
        }
        return EncoderOutput(batch: batch, length: length, lengths: inputs.map(\.count), hidden: hidden, mask: mask,
                             coldStart: [Bool](repeating: true, count: batch), dModel: d)
    }

    private func scratch(rows: Int, threads: Int) -> T5EncoderScratch {
        let scoresCount = Attention.scoresCapacity(queryLength: rows, keyLength: rows, heads: config.numHeads, threads: threads)
        if let s = encoderScratch, s.rows >= rows, s.scores.count >= scoresCount { return s }
        let s = T5EncoderScratch(rows: rows, config: config, scoresCount: scoresCount)
        encoderScratch = s
        return s
    }

    /// One sequence through the encoder; the final-normed states end in `scratch.normed`.
    private func encodeOne(_ input: [Int], scratch s: T5EncoderScratch, threads: Int) {
        let d = config.dModel, inner = config.innerDim, length = input.count
        let h = s.hidden.pointer
        weights.shared.withUnsafeBufferPointer { table in
            for (i, token) in input.enumerated() { (h + i * d).update(from: table.baseAddress! + token * d, count: d) }
        }
        weights.encoderPositions.fill(queryLength: length, keyLength: length, into: s.bias.pointer)
        for layer in weights.encoderLayers {
            layer.selfAttentionNorm.apply(h, rows: length, into: s.normed.pointer)
            let a = layer.selfAttention
            a.q.apply(s.normed.pointer, rows: length, into: s.q.pointer)
            a.k.apply(s.normed.pointer, rows: length, into: s.k.pointer)
            a.v.apply(s.normed.pointer, rows: length, into: s.v.pointer)
            Attention.full(
                q: s.q.pointer, k: s.k.pointer, v: s.v.pointer, ld: inner, queryLength: length, keyLength: length,
                heads: config.numHeads, headDim: config.dKV, scale: 1, keyMask: nil, causal: false, bias: s.bias.pointer,
                threads: threads, scores: s.scores.pointer, out: s.attention.pointer, ldOut: inner)
            a.o.apply(s.attention.pointer, rows: length, into: s.residual.pointer)
            VectorMath.add(h, s.residual.pointer, count: length * d)
            feedForward(layer.feedForward, norm: layer.feedForwardNorm, hidden: h, rows: length, normed: s.normed.pointer,
                        ffn: s.ffn.pointer, gate: s.gate.pointer, residual: s.residual.pointer, threads: threads)
        }
        weights.encoderFinalNorm.apply(h, rows: length, into: s.normed.pointer)
    }
}
