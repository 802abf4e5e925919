import Dispatch

/// Scaled dot-product attention over heads laid out side by side in each row.
///
/// For head `h`, a row's slice `[h·headDim, (h+1)·headDim)` holds that head's vector. Scores are
/// `scale · q·kᵀ` (BART: `scale = headDim^-0.5`), masked keys get probability 0, then a softmax over keys
/// and a weighted sum of the values.
public enum Attention {
    /// Attention for a whole sequence at once (encoder self-attention, or any prefill).
    ///
    /// - Parameters:
    ///   - q: `[queryLength × ld]`; `k`, `v`: `[keyLength × ld]`.
    ///   - keyMask: `keyLength` bytes, nonzero = attend; `nil` = all keys visible.
    ///   - causal: query `i` sees keys `0...i` only.
    ///   - bias: added to the scores before the softmax (T5's relative position bias), `[heads][queryLength][keyLength]`;
    ///     nil = none.
    ///   - threads: with more than one, the heads are split into that many groups run at once, each with
    ///     single-threaded BLAS (the per-head products are small, and softmax is not BLAS work).
    ///   - scores: scratch of at least `scoresCapacity(...)` floats.
    ///   - out: `[queryLength × ldOut]`, written head by head.
    public static func full(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ld: Int,
        queryLength: Int, keyLength: Int, heads: Int, headDim: Int, scale: Float,
        keyMask: UnsafePointer<UInt8>?, causal: Bool, bias: UnsafePointer<Float>? = nil, threads: Int = 1,
        scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, ldOut: Int
    ) {
        let parts = min(threads, heads)
        let head = Head(
            q: q, k: k, v: v, ld: ld, queryLength: queryLength, keyLength: keyLength, headDim: headDim,
            scale: scale, keyMask: keyMask, causal: causal, bias: bias, out: out, ldOut: ldOut)
        if parts <= 1 {
            for h in 0..<heads { head.run(h, scores: scores) }
            return
        }
        let scoresAddress = UInt(bitPattern: scores)
        let perPart = queryLength * keyLength
        Parallel.withSingleThreadedBLAS {
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let partScores = UnsafeMutablePointer<Float>(bitPattern: scoresAddress)! + part * perPart
                for h in (heads * part / parts)..<(heads * (part + 1) / parts) {
                    head.run(h, scores: partScores)
                }
            }
        }
    }

    /// Floats of `scores` scratch that `full` needs for these sizes and thread count.
    public static func scoresCapacity(queryLength: Int, keyLength: Int, heads: Int, threads: Int) -> Int {
        max(1, min(threads, heads)) * queryLength * keyLength
    }

    /// One head of `full`: reads only its slices of `q`, `k`, `v` and writes only its slice of `out`.
    private struct Head: @unchecked Sendable {
        let q, k, v: UnsafePointer<Float>
        let ld, queryLength, keyLength, headDim: Int
        let scale: Float
        let keyMask: UnsafePointer<UInt8>?
        let causal: Bool
        let bias: UnsafePointer<Float>?
        let out: UnsafeMutablePointer<Float>
        let ldOut: Int

        func run(_ h: Int, scores: UnsafeMutablePointer<Float>) {
            let offset = h * headDim
            BLAS.gemmNT(
                m: queryLength, n: keyLength, k: headDim, alpha: scale,
                a: q + offset, lda: ld, b: k + offset, ldb: ld, c: scores, ldc: keyLength)
            for i in 0..<queryLength {
                let row = scores + i * keyLength
                if let bias {
                    let b = bias + (h * queryLength + i) * keyLength
                    for j in 0..<keyLength { row[j] += b[j] }
                }
                if let keyMask {
                    for j in 0..<keyLength where keyMask[j] == 0 { row[j] = -.infinity }
                }
                if causal && i + 1 < keyLength {
                    for j in (i + 1)..<keyLength { row[j] = -.infinity }
                }
                Softmax.apply(row, count: keyLength)
            }
            BLAS.gemmNN(
                m: queryLength, n: headDim, k: keyLength,
                a: scores, lda: keyLength, b: v + offset, ldb: ld, c: out + offset, ldc: ldOut)
        }
    }

    /// One query row against cached keys and values (a decode step).
    ///
    /// - Parameters:
    ///   - q: `heads · headDim` floats.
    ///   - keys, values: head `h`'s position `j` starts at `h · headStride + j · rowStride`; the first `length`
    ///     positions are used. The self-attention cache is `[heads][capacity][headDim]`
    ///     (`headStride = capacity · headDim`, `rowStride = headDim`); cross-attention keys are the projection
    ///     output `[position][heads · headDim]` (`headStride = headDim`, `rowStride = heads · headDim`).
    ///   - keyMask: `length` bytes, nonzero = attend; `nil` = all visible.
    ///   - bias: added to head `h`'s scores before the softmax, `length` floats at `bias + h · biasHeadStride`
    ///     (T5's relative position bias); nil = none.
    ///   - scores: scratch of at least `length` floats.
    ///   - out: `heads · headDim` floats.
    public static func cached(
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        headStride: Int, rowStride: Int, length: Int, heads: Int, headDim: Int, scale: Float,
        keyMask: UnsafePointer<UInt8>?, bias: UnsafePointer<Float>? = nil, biasHeadStride: Int = 0,
        scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
    ) {
        let small = length * headDim <= 4096 && headDim % 8 == 0
        for h in 0..<heads {
            let kh = keys + h * headStride
            let vh = values + h * headStride
            let qh = q + h * headDim
            let oh = out + h * headDim
            if small {
                // Short rows: SIMD loops beat the BLAS call overhead.
                for j in 0..<length {
                    let kr = kh + j * rowStride
                    var acc = Float8()
                    var d = 0
                    while d < headDim {
                        acc += qh.load8(d) * kr.load8(d)
                        d += 8
                    }
                    scores[j] = acc.sum() * scale
                }
            } else {
                BLAS.gemv(m: length, n: headDim, alpha: scale, a: kh, lda: rowStride, x: qh, y: scores)
            }
            if let bias {
                let b = bias + h * biasHeadStride
                for j in 0..<length { scores[j] += b[j] }
            }
            if let keyMask {
                for j in 0..<length where keyMask[j] == 0 { scores[j] = -.infinity }
            }
            Softmax.apply(scores, count: length)
            if small {
                var d = 0
                while d < headDim {
                    var acc = Float8()
                    for j in 0..<length { acc += Float8(repeating: scores[j]) * (vh + j * rowStride).load8(d) }
                    oh.store8(acc, d)
                    d += 8
                }
            } else {
                BLAS.gemvT(m: length, n: headDim, a: vh, lda: rowStride, x: scores, y: oh)
            }
        }
    }
}
