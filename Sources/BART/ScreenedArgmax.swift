import TensorKernels

/// Exact greedy argmax with a quarter of the output-projection memory traffic, for greedy decoding of up to
/// `screenedMaxRows` rows (one request, or a small batch).
///
/// The 50k × d_model output projection is ~45% of the bytes a batch-1 decode step reads. For greedy
/// decoding only the argmax matters, so the step computes the logits against an int8 copy of the
/// projection (`Int8Matrix`, one scale per row), which bounds each logit's distance to its float32 value by
/// `‖h‖₁ · slack[j]`. Every token whose interval can still reach the best lower bound is then recomputed
/// exactly in float32 (usually a handful), and the largest exact logit wins (the first on ties). The result
/// is the float32 argmax; full float32 logits remain available through `decodeStep(_:)` (used by
/// `logits`, sampling and beam search). On by default; `BartModel.screenedGreedyArgmax` turns it off.
extension BartModel {
    /// Builds the int8 screen of the output projection (once; ~vocab·d_model bytes).
    /// An int8 model has none: its output projection already reads int8 weights, and its argmax is that of
    /// its own (int8) logits, which `decodeStep` computes.
    public func prepareScreenedArgmax() {
        if logitScreen != nil { return }
        let head = weights.lmHead
        guard head.precision == .fp32 else { return }
        logitScreen = head.weight.withUnsafeBufferPointer {
            Int8Matrix($0.baseAddress!, rows: head.outFeatures, cols: head.inFeatures)
        }
    }

    /// The most rows a screened step takes: as many as `SkinnyGEMM` (at 16 BART-base rows the screen still
    /// halves the step's output projection, 16.6 → 10.3 ms; larger batches use `sgemm` on float32).
    public static let screenedMaxRows = 16

    /// Like `decodeStep(_:)`, but the returned logits (`[rows × vocab]`) are the int8-screened approximations:
    /// pass each row's (after any logits processors, which only ban or force tokens) to
    /// `screenedArgmax(_:row:)`. Falls back to exact logits for more than `screenedMaxRows` rows or when no
    /// screen was prepared.
    public func decodeStepScreened(_ tokens: UnsafeBufferPointer<Int>) throws -> UnsafeMutablePointer<Float> {
        guard let screen = logitScreen, tokens.count <= Self.screenedMaxRows else { return try decodeStep(tokens) }
        let s = try decoderLayers(tokens)
        timed(.outputProjection) {
            let d = config.dModel
            for r in 0..<s.rows {
                let h = s.hidden.pointer + r * d
                var norm: Float = 0
                for i in 0..<d { norm += abs(h[i]) }
                s.screenNorms[r] = norm
            }
            weights.lmHead.bias.withUnsafeBufferPointer { bias in
                let b = bias.isEmpty ? nil : bias.baseAddress
                if s.rows == 1 {
                    screen.multiply(s.hidden.pointer, bias: b, into: s.logits.pointer, threads: BLAS.threads)
                } else {
                    screen.multiply(rows: s.hidden.pointer, count: s.rows, bias: b, into: s.logits.pointer,
                                    threads: BLAS.threads)
                }
            }
        }
        return s.logits.pointer
    }

    /// The float32 argmax for row `row` of the last `decodeStepScreened` call, given that row's screened
    /// scores (tokens set to −∞ stay excluded; a single finite score is taken as forced).
    public func screenedArgmax(_ scores: UnsafePointer<Float>, row: Int = 0) -> Int {
        let vocab = config.vocabSize
        // Without a screen the scores are the exact logits (`decodeStepScreened` fell back to `decodeStep`).
        guard let screen = logitScreen else { return VectorMath.argmax(scores, count: vocab) }
        guard let s = decoderState, row >= 0, row < s.rows else { return 0 }
        let norm = s.screenNorms[row]
        let hidden = UnsafePointer(s.hidden.pointer + row * config.dModel)
        let slack = screen.slack
        var lower = -Float.infinity
        var finite = 0
        var only = 0
        for j in 0..<vocab where scores[j] > -.infinity {
            finite += 1
            only = j
            let low = scores[j] - norm * slack[j]
            if low > lower { lower = low }
        }
        if finite <= 1 { return only }
        let d = config.dModel
        let head = weights.lmHead
        var best = -1
        var bestValue = -Float.infinity
        head.weight.withUnsafeBufferPointer { w in
            head.bias.withUnsafeBufferPointer { bias in
                for j in 0..<vocab where scores[j] > -.infinity && scores[j] + norm * slack[j] >= lower {
                    var v = VectorMath.dot(w.baseAddress! + j * d, hidden, count: d)
                    if !bias.isEmpty { v += bias[j] }
                    if best < 0 || v > bestValue {
                        best = j
                        bestValue = v
                    }
                }
            }
        }
        return max(best, 0)
    }
}
