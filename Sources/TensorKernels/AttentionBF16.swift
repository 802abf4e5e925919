import CBF16
import Dispatch

extension Attention {
    /// `full`'s encoder case (no bias, no causal mask) with both products in bf16: each head's scaled
    /// queries, keys, probabilities and values are rounded to bf16 and multiplied by `prism_bf16_linear`
    /// (float32 sums); the scores' mask and softmax stay float32. For a model whose encoder layers are
    /// already int8 or bf16 on a CPU with AVX512-BF16: BART-base's encoder attention is ~20 % of an int8
    /// batch and ran at ~65 % of the float32 FMA peak, a rate bf16 doubles. The rounding (2⁻⁹ relative per
    /// operand) is below the int8 projections' that feed it.
    ///
    /// - Parameters: as `full`; `scores` needs `scoresCapacity(...)` floats.
    public static func fullBF16(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ld: Int,
        queryLength: Int, keyLength: Int, heads: Int, headDim: Int, scale: Float,
        keyMask: UnsafePointer<UInt8>?, threads: Int = 1,
        scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, ldOut: Int
    ) {
        let parts = max(1, min(threads, heads))
        let head = BF16Head(
            q: q, k: k, v: v, ld: ld, queryLength: queryLength, keyLength: keyLength, headDim: headDim,
            scale: scale, keyMask: keyMask, out: out, ldOut: ldOut)
        let scoresAddress = UInt(bitPattern: scores)
        let perPart = queryLength * keyLength
        Parallel.forEachPart(count: heads, parts: parts) { part, range in
            // One part's bf16 operands: queries, keys, values (transposed) and probabilities of one head (whose
            // space first holds the values as rows).
            let count = (queryLength + 2 * keyLength) * headDim + max(queryLength, headDim) * keyLength
            withUnsafeTemporaryAllocation(of: UInt16.self, capacity: count) { scratch in
                let partScores = UnsafeMutablePointer<Float>(bitPattern: scoresAddress)! + part * perPart
                for h in range { head.run(h, scores: partScores, scratch: scratch.baseAddress!) }
            }
        }
    }

    /// One head of `fullBF16`: reads only its slices of `q`, `k`, `v` and writes only its slice of `out`.
    private struct BF16Head: @unchecked Sendable {
        let q, k, v: UnsafePointer<Float>
        let ld, queryLength, keyLength, headDim: Int
        let scale: Float
        let keyMask: UnsafePointer<UInt8>?
        let out: UnsafeMutablePointer<Float>
        let ldOut: Int

        func run(_ h: Int, scores: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<UInt16>) {
            let offset = h * headDim, kernel = Int32(BF16Rows.kernel)
            let qb = scratch, kb = qb + queryLength * headDim, vt = kb + keyLength * headDim
            let pb = vt + keyLength * headDim
            withUnsafeTemporaryAllocation(of: Float.self, capacity: headDim) { row in
                let row = row.baseAddress!
                for i in 0..<queryLength {
                    let qi = q + i * ld + offset
                    for d in 0..<headDim { row[d] = qi[d] * scale }
                    prism_bf16_round(row, headDim, qb + i * headDim)
                }
            }
            for j in 0..<keyLength { prism_bf16_round(k + j * ld + offset, headDim, kb + j * headDim) }
            // The values transposed (`[headDim × keyLength]`), so that P · V is again rows against rows.
            for j in 0..<keyLength { prism_bf16_round(v + j * ld + offset, headDim, pb + j * headDim) }
            for j in 0..<keyLength {
                for d in 0..<headDim { vt[d * keyLength + j] = pb[j * headDim + d] }
            }
            prism_bf16_linear(kernel, qb, queryLength, headDim, kb, nil, 0, keyLength, scores, keyLength)
            for i in 0..<queryLength {
                let row = scores + i * keyLength
                if let keyMask {
                    for j in 0..<keyLength where keyMask[j] == 0 { row[j] = -.infinity }
                }
                Softmax.apply(row, count: keyLength)
                prism_bf16_round(row, keyLength, pb + i * keyLength)
            }
            prism_bf16_linear(kernel, pb, queryLength, keyLength, vt, nil, 0, headDim, out + offset, ldOut)
        }
    }
}
