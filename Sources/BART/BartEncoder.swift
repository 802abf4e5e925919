import TensorKernels

extension BartModel {
    /// Runs the encoder on a batch of token sequences (right-padded with `pad_token_id` and masked),
    /// adding each sequence's user vector as documented on `BartModel`. `users[b]` may be nil or unknown:
    /// that sequence gets the zero vector and `coldStart[b] = true`.
    public func encode(_ inputs: [[Int]], users userIds: [String?]? = nil) throws -> EncoderOutput {
        if inputs.isEmpty { throw BartError.emptyInput }
        for input in inputs { try validate(input) }
        if let userIds, userIds.count != inputs.count {
            throw BartError.invalidArgument("\(userIds.count) users for \(inputs.count) inputs")
        }
        let userRows = (0..<inputs.count).map { b in users?.row(for: userIds?[b]) ?? 0 }
        return try encode(inputs, userRows: userRows)
    }

    /// Same as `encode(_:users:)` with user rows already resolved (0 = unknown user).
    public func encode(_ inputs: [[Int]], userRows: [Int]) throws -> EncoderOutput {
        if inputs.isEmpty { throw BartError.emptyInput }
        for input in inputs { try validate(input) }
        guard userRows.count == inputs.count else {
            throw BartError.invalidArgument("\(userRows.count) user rows for \(inputs.count) inputs")
        }
        let tableRows = users?.rows ?? 1
        for row in userRows where row < 0 || row >= tableRows {
            throw BartError.invalidArgument("user row \(row) outside 0..<\(tableRows)")
        }
        let batch = inputs.count
        let length = inputs.map(\.count).max() ?? 0
        let d = config.dModel
        let itemSize = length * d
        // Sequences are independent, so each is encoded on its own, at its own length: no work on padding
        // (a padded position is masked out of every real one's attention, so the real positions come out
        // as with padding), GEMMs still [length × d_model] by [d_model × n], and the scratch (activations,
        // FFN, scores) sized for one sequence instead of the whole batch. One at a time with every thread
        // on each product, or, with as many sequences as threads, one per thread (`encodeConcurrently`).
        let threads = BLAS.threads
        var mask = [UInt8](repeating: 0, count: batch * length)
        for (b, input) in inputs.enumerated() {
            for i in 0..<input.count { mask[b * length + i] = 1 }
        }
        let hidden = [Float](unsafeUninitializedCapacity: batch * itemSize) { buffer, initialized in
            let base = buffer.baseAddress!
            // Longest first: whole rounds of `threads` sequences run one per thread, the rest (fewer than
            // `threads`, the shortest) one at a time on every thread.
            let order = threads >= 2 ? inputs.indices.sorted { inputs[$0].count > inputs[$1].count } : Array(inputs.indices)
            let concurrent = threads >= 2 ? batch / threads * threads : 0
            if concurrent > 0 {
                encodeConcurrently(Array(order[..<concurrent]), inputs, userRows: userRows, workers: threads,
                                   length: length, into: base)
            }
            if concurrent < batch {
                let s = encoderScratch(rows: length, keyLength: length, threads: threads)
                for b in order[concurrent...] {
                    encodeSequence(inputs[b], userRow: userRows[b], paddedTo: length, threads: threads, scratch: s,
                                   into: base + b * itemSize)
                }
            }
            initialized = batch * itemSize
        }
        // A copying model reads the input ids again at every decoder step (`mixCopies`).
        var tokens: [Int] = []
        if weights.pointer != nil {
            tokens.reserveCapacity(batch * length)
            for input in inputs {
                tokens += input
                tokens += repeatElement(config.padTokenId, count: length - input.count)
            }
        }
        return EncoderOutput(
            batch: batch, length: length, lengths: inputs.map(\.count), hidden: hidden, mask: mask,
            coldStart: userRows.map { $0 == 0 }, dModel: d, tokens: tokens)
    }

    /// One sequence through the embeddings and every layer, its rows split over `threads`; its output rows
    /// land in `out` (`paddedTo × d_model`), the padded ones zeros: finite, and masked wherever they are read.
    private func encodeSequence(_ input: [Int], userRow: Int, paddedTo length: Int, threads: Int,
                                scratch s: EncoderScratch, into out: UnsafeMutablePointer<Float>) {
        let d = config.dModel
        let own = input.count
        timed(.encoderEmbed) { embedEncoderInput(input, userRow: userRow, length: own, scratch: s) }
        for layer in weights.encoderLayers {
            encoderLayer(layer, length: own, threads: threads, scratch: s)
        }
        out.initialize(from: s.hidden.pointer, count: own * d)
        (out + own * d).initialize(repeating: 0, count: (length - own) * d)
    }

    /// Sequences `items` (longest first) encoded one per thread at a time: each thread runs whole sequences
    /// on its own scratch with one-thread GEMMs, attention and GELU, instead of every thread sharing each
    /// product — no fork–join per product, and 400-row GEMMs instead of 200-row halves. BART-base, 400
    /// tokens, batch 16, 2 threads, same binary alternating: int8 encoder 1.53–1.65 s against 1.75–1.97 s
    /// shared (whole run 2.43–2.59 against 2.78–2.92 s); float32 unchanged (6.84 against 6.83 s, GEMM-bound
    /// either way). Each sequence goes to the least loaded thread (a sequence costs about its length). The
    /// results are those of the one-at-a-time path: a row's products depend neither on the other rows nor
    /// on the thread count.
    private func encodeConcurrently(_ items: [Int], _ inputs: [[Int]], userRows: [Int], workers: Int, length: Int,
                                    into out: UnsafeMutablePointer<Float>) {
        var assigned = [[Int]](repeating: [], count: workers)
        var load = [Int](repeating: 0, count: workers)
        for b in items {
            var w = 0
            for candidate in 1..<workers where load[candidate] < load[w] { w = candidate }
            assigned[w].append(b)
            load[w] += inputs[b].count
        }
        let scratch = workerScratch(count: workers, rows: length)
        let itemSize = length * config.dModel
        let address = UInt(bitPattern: out)
        let before = profile?.snapshot()
        Parallel.withSingleThreadedBLAS {
            Parallel.forEachPart(count: workers, parts: workers) { worker, _ in
                for b in assigned[worker] {
                    let target = UnsafeMutablePointer<Float>(bitPattern: address)! + b * itemSize
                    encodeSequence(inputs[b], userRow: userRows[b], paddedTo: length, threads: 1,
                                   scratch: scratch[worker], into: target)
                }
            }
        }
        // Each worker added its own wall time: the phases ran `workers` at once.
        if let before { profile?.scaleGrowth(since: before, by: 1 / Double(workers)) }
    }

    /// One scratch per concurrent worker, for sequences of up to `rows` positions (one thread each).
    private func workerScratch(count: Int, rows: Int) -> [EncoderScratch] {
        let scoresCount = Attention.scoresCapacity(queryLength: rows, keyLength: rows, heads: heads, threads: 1)
        if encoderWorkerScratch.count >= count,
           encoderWorkerScratch.allSatisfy({ $0.rows >= rows && $0.scores.count >= scoresCount }) {
            return encoderWorkerScratch
        }
        encoderWorkerScratch = (0..<count).map { _ in
            EncoderScratch(rows: rows, keyLength: rows, dModel: config.dModel, ffnDim: config.encoderFFNDim,
                           scoresCount: scoresCount)
        }
        return encoderWorkerScratch
    }

    private func encoderScratch(rows: Int, keyLength: Int, threads: Int) -> EncoderScratch {
        let scoresCount = Attention.scoresCapacity(
            queryLength: rows, keyLength: keyLength, heads: heads, threads: threads)
        if let s = encoderScratch, s.rows >= rows, s.keyLength >= keyLength, s.scores.count >= scoresCount {
            return s
        }
        let s = EncoderScratch(
            rows: rows, keyLength: keyLength, dModel: config.dModel, ffnDim: config.encoderFFNDim,
            scoresCount: scoresCount)
        encoderScratch = s
        return s
    }

    /// `h0 = LayerNormEmbedding(Embed(x) · embed_scale + U[u] + Pos(i))` for every position of one
    /// sequence (right-padded to `length`), into the scratch's first `length` rows.
    private func embedEncoderInput(_ input: [Int], userRow: Int, length: Int, scratch s: EncoderScratch) {
        let d = config.dModel
        let scale = config.embedScale
        let offset = BartConfig.positionOffset
        let userTable = users?.table ?? []
        weights.encoderPositions.withUnsafeBufferPointer { positionsBuffer in
            userTable.withUnsafeBufferPointer { usersBuffer in
                let positions = positionsBuffer.baseAddress!
                // Row 0 (unknown user) is the zero vector: nothing to add.
                let user: UnsafePointer<Float>? = userRow > 0 ? usersBuffer.baseAddress! + userRow * d : nil
                for i in 0..<length {
                    let token = i < input.count ? input[i] : config.padTokenId
                    let out = s.hidden.pointer + i * d
                    let p = positions + (i + offset) * d
                    weights.encoderToken(token, d: d, scale: scale, into: out)
                    if let user {
                        for j in 0..<d { out[j] = (out[j] + user[j]) + p[j] }
                    } else {
                        for j in 0..<d { out[j] += p[j] }
                    }
                }
            }
        }
        weights.encoderEmbeddingNorm.apply(s.hidden.pointer, rows: length)
    }

    private func encoderLayer(_ layer: BartEncoderLayerWeights, length: Int, threads: Int, scratch s: EncoderScratch) {
        let d = config.dModel
        let rows = length
        let h = s.hidden.pointer
        let attention = layer.selfAttention
        timed(.encoderProjections) {
            attention.q.apply(h, rows: rows, into: s.q.pointer)
            attention.k.apply(h, rows: rows, into: s.k.pointer)
            attention.v.apply(h, rows: rows, into: s.v.pointer)
        }
        timed(.encoderAttention) {
            // Each sequence is encoded at its own length: every key is a real position.
            if encoderAttentionBF16 {
                Attention.fullBF16(
                    q: s.q.pointer, k: s.k.pointer, v: s.v.pointer, ld: d,
                    queryLength: length, keyLength: length, heads: heads, headDim: headDim, scale: attentionScale,
                    keyMask: nil, threads: threads, scores: s.scores.pointer, out: s.attention.pointer, ldOut: d)
            } else {
                Attention.full(
                    q: s.q.pointer, k: s.k.pointer, v: s.v.pointer, ld: d,
                    queryLength: length, keyLength: length, heads: heads, headDim: headDim, scale: attentionScale,
                    keyMask: nil, causal: false, threads: threads,
                    scores: s.scores.pointer, out: s.attention.pointer, ldOut: d)
            }
        }
        timed(.encoderProjections) { attention.out.apply(s.attention.pointer, rows: rows, into: s.residual.pointer) }
        addAndNorm(h, s.residual.pointer, layer.selfAttentionNorm, rows: rows, phase: .encoderNormResidual)
        feedForward(h, fc1: layer.fc1, fc2: layer.fc2, norm: layer.finalNorm, rows: rows, ffn: s.ffn.pointer,
                    residual: s.residual.pointer, threads: threads,
                    phases: (.encoderFFN, .encoderGELU, .encoderNormResidual))
    }
}

extension BartModel {
    /// Post-layer-norm residual step of every BART sub-block: `h = norm(h + residual)`.
    @inline(__always)
    func addAndNorm(_ h: UnsafeMutablePointer<Float>, _ residual: UnsafePointer<Float>, _ norm: LayerNorm, rows: Int,
                    phase: BartProfile.Phase) {
        timed(phase) {
            addInPlace(h, residual, count: rows * config.dModel)
            norm.apply(h, rows: rows)
        }
    }

    /// The feed-forward sub-block shared by encoder and decoder layers:
    /// `h = norm(h + fc2(act(fc1(h))))`, with `ffn` and `residual` as scratch.
    @inline(__always)
    func feedForward(_ h: UnsafeMutablePointer<Float>, fc1: Linear, fc2: Linear, norm: LayerNorm, rows: Int,
                     ffn: UnsafeMutablePointer<Float>, residual: UnsafeMutablePointer<Float>, threads: Int,
                     phases: (ffn: BartProfile.Phase, activation: BartProfile.Phase, norm: BartProfile.Phase)) {
        timed(phases.ffn) { fc1.apply(h, rows: rows, into: ffn) }
        timed(phases.activation) { activation.apply(ffn, count: rows * fc1.outFeatures, threads: threads) }
        timed(phases.ffn) { fc2.apply(ffn, rows: rows, into: residual) }
        addAndNorm(h, residual, norm, rows: rows, phase: phases.norm)
    }
}

/// `x[i] += y[i]` for `count` floats.
@inline(__always)
func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
    VectorMath.add(x, y, count: count)
}
