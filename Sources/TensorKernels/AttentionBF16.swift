import CBF16
import Dispatch

extension Attention {
    /// `full`'s encoder case (no bias, no causal mask) with both products in bf16: each head's scaled
    /// queries, keys and values are rounded to bf16, keys and values packed in pairs, and both products run
    /// on `prism_bf16_gemm_packed` (float32 sums); the mask and softmax are float32 (`prism_bf16_softmax`,
    /// which also writes the probabilities rounded to bf16 for P · V). For a model whose encoder layers are
    /// already int8 or bf16 on a CPU with AVX512-BF16: BART-base's encoder attention is ~20 % of an int8
    /// batch and ran at ~65 % of the float32 FMA peak, a rate bf16 doubles. The rounding (2⁻⁹ relative per
    /// operand) is below the int8 projections' that feed it.
    ///
    /// - Parameters: as `full` (`headDim` even); `scores` needs `scoresCapacity(...)` floats.
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
        let rowStride = keyLength + keyLength % 2, pairs = rowStride / 2
        Parallel.forEachPart(count: heads, parts: parts) { part, range in
            // One part's operands for one head at a time: bf16 queries, keys and values as rows and the
            // probabilities (rows of even length), then keys and values packed in pairs.
            let halves = (queryLength + 2 * keyLength) * headDim + queryLength * rowStride
            withUnsafeTemporaryAllocation(of: UInt16.self, capacity: halves) { rows in
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: (headDim / 2) * keyLength + pairs * headDim) { packed in
                    let partScores = UnsafeMutablePointer<Float>(bitPattern: scoresAddress)! + part * perPart
                    for h in range { head.run(h, scores: partScores, rows: rows.baseAddress!, packed: packed.baseAddress!) }
                }
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

        func run(_ h: Int, scores: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<UInt16>,
                 packed: UnsafeMutablePointer<UInt32>) {
            let offset = h * headDim, kernel = Int32(BF16Rows.kernel)
            let rowStride = keyLength + keyLength % 2, pairs = rowStride / 2, headPairs = headDim / 2
            let qb = rows, kb = qb + queryLength * headDim, vb = kb + keyLength * headDim, pb = vb + keyLength * headDim
            let kp = packed, vp = kp + headPairs * keyLength
            withUnsafeTemporaryAllocation(of: Float.self, capacity: headDim) { row in
                let row = row.baseAddress!
                for i in 0..<queryLength {
                    let qi = q + i * ld + offset
                    for d in 0..<headDim { row[d] = qi[d] * scale }
                    prism_bf16_round(row, headDim, qb + i * headDim)
                }
            }
            for j in 0..<keyLength {
                prism_bf16_round(k + j * ld + offset, headDim, kb + j * headDim)
                prism_bf16_round(v + j * ld + offset, headDim, vb + j * headDim)
            }
            // Kᵀ in pairs: word [p, j] = (k[j, 2p], k[j, 2p + 1]), i.e. the key rows' words transposed.
            kb.withMemoryRebound(to: UInt32.self, capacity: keyLength * headPairs) { words in
                for j in 0..<keyLength {
                    for p in 0..<headPairs { kp[p * keyLength + j] = words[j * headPairs + p] }
                }
            }
            // V in pairs of positions: word [p, d] = (v[2p, d], v[2p + 1, d]); an odd length's last pair ends in 0.
            for p in 0..<keyLength / 2 {
                let first = vb + 2 * p * headDim, second = first + headDim
                for d in 0..<headDim { vp[p * headDim + d] = UInt32(first[d]) | UInt32(second[d]) << 16 }
            }
            if keyLength % 2 == 1 {
                let p = keyLength / 2, last = vb + 2 * p * headDim
                for d in 0..<headDim { vp[p * headDim + d] = UInt32(last[d]) }
            }
            prism_bf16_gemm_packed(kernel, qb, queryLength, headDim, kp, headPairs, keyLength, scores, keyLength)
            for i in 0..<queryLength {
                let row = scores + i * keyLength
                if let keyMask {
                    for j in 0..<keyLength where keyMask[j] == 0 { row[j] = -.infinity }
                }
                prism_bf16_softmax(row, keyLength, pb + i * rowStride)
                if rowStride > keyLength { pb[i * rowStride + keyLength] = 0 }
            }
            prism_bf16_gemm_packed(kernel, pb, queryLength, rowStride, vp, pairs, headDim, out + offset, ldOut)
        }
    }
}
