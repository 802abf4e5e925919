import CPrefetch

/// `Y = X · Wᵀ (+ bias)` for a few rows of `X` — the decoder step of beam search (one row per beam) and of
/// small batches — with `W` in PyTorch's `[out, in]` layout.
///
/// OpenBLAS handles these shapes poorly: measured here, a 4-row `sgemm` against the 50k-vocabulary output
/// projection ran at 13 GFLOP/s (24 ms, slower than four separate `sgemv` calls), because it packs the
/// whole weight matrix for a handful of rows. This kernel reads every weight row once, straight from
/// memory, and multiplies it with all rows of `X` while it is in cache: blocks of 3 weight rows × 4 rows of
/// `X` keep 12 AVX accumulators (plus 3 weight and 1 input register: all 16 AVX2 registers), each
/// dot product summed horizontally once at the end. Measured on BART-base with 2 threads: a 4-beam step's
/// output projection 24 → 6.2 ms, its decoder layers 26 → 11 ms (a greedy step's are 7.1 ms).
/// Rows past a multiple of 4 are computed as copies of the last row and not stored.
public enum SkinnyGEMM {
    /// The most rows it takes: up to here it is no slower than OpenBLAS `sgemm` on BART-base shapes (at 16
    /// rows: equal on the decoder layers, 16.6 vs 20 ms on the 50k-vocabulary projection).
    public static let maxRows = 16

    /// Whether `multiply` takes these shapes (otherwise use `sgemm`).
    @inlinable
    public static func supports(rows: Int, inFeatures: Int) -> Bool {
        rows >= 1 && rows <= maxRows && inFeatures % 8 == 0 && inFeatures > 0
    }

    /// `y[r, j] = Σ_c x[r, c] · w[j, c] (+ bias[j])` for `r < rows`, `j < outFeatures`; `y` has row stride
    /// `outFeatures`. Needs `supports(rows:inFeatures:)`. With `threads > 1` and enough work, the output
    /// features are split into that many contiguous parts run at once.
    public static func multiply(
        _ x: UnsafePointer<Float>, rows: Int, weight w: UnsafePointer<Float>, inFeatures: Int, outFeatures: Int,
        bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>, threads: Int = 1
    ) {
        let blocks = (outFeatures + 2) / 3
        // A fork–join costs tens of microseconds on a busy VM, so small products stay on this thread.
        let work = rows * inFeatures * outFeatures
        let parts = work >= parallelWork ? max(1, min(threads, blocks)) : 1
        let kernel = Kernel(x: x, rows: rows, w: w, k: inFeatures, n: outFeatures, bias: bias, y: y)
        Parallel.forEachRange(count: blocks, parts: parts) { range in
            kernel.run(blocks: range)
        }
    }

    /// Multiply–adds from which `multiply` splits the work over threads: a 4-beam step's 768 × 768
    /// projection (~0.1 ms) already gains (BART-base, 4 beams: decoder projections 218 → 153 ms per run
    /// split at this size, against splitting only from 8 × 768 × 3072).
    @usableFromInline static let parallelWork = 4 * 768 * 768
}

/// One call's operands; `run` computes a range of 3-row weight blocks.
private struct Kernel: @unchecked Sendable {
    // Each part of a split call writes only its own columns of `y`; nothing else is written.
    let x: UnsafePointer<Float>
    let rows: Int
    let w: UnsafePointer<Float>
    let k, n: Int
    let bias: UnsafePointer<Float>?
    let y: UnsafeMutablePointer<Float>

    func run(blocks: Range<Int>) {
        for block in blocks {
            let j = block * 3
            if j + 3 <= n {
                var r = 0
                while r < rows {
                    block3x4(j: j, r: r)
                    r += 4
                }
            } else {
                for jj in j..<n { single(j: jj) }
            }
        }
    }

    /// Weight rows `j, j+1, j+2` against input rows `r ..< r+4` (rows past the end repeat the last one
    /// and are not stored).
    @inline(__always)
    private func block3x4(j: Int, r: Int) {
        let last = rows - 1
        let x0 = x + r * k
        let x1 = x + min(r + 1, last) * k
        let x2 = x + min(r + 2, last) * k
        let x3 = x + min(r + 3, last) * k
        let w0 = w + j * k
        let w1 = w0 + k
        let w2 = w1 + k
        var a00 = Float8(), a01 = Float8(), a02 = Float8()
        var a10 = Float8(), a11 = Float8(), a12 = Float8()
        var a20 = Float8(), a21 = Float8(), a22 = Float8()
        var a30 = Float8(), a31 = Float8(), a32 = Float8()
        var c = 0
        // The next block's rows are fetched while this one computes: the hardware prefetcher alone left
        // the 4-beam BART-base output projection at ~19 GB/s (8.2 ms per step; 6.2 ms with this). Past the
        // last block the hints point beyond the matrix: a prefetch never faults, and nothing is read there.
        let next = w2 + k
        while c < k {
            if c & 15 == 0 {
                prism_prefetch(next + c); prism_prefetch(next + k + c); prism_prefetch(next + 2 * k + c)
            }
            let b0 = w0.load8(c), b1 = w1.load8(c), b2 = w2.load8(c)
            var v = x0.load8(c)
            a00.addProduct(v, b0); a01.addProduct(v, b1); a02.addProduct(v, b2)
            v = x1.load8(c)
            a10.addProduct(v, b0); a11.addProduct(v, b1); a12.addProduct(v, b2)
            v = x2.load8(c)
            a20.addProduct(v, b0); a21.addProduct(v, b1); a22.addProduct(v, b2)
            v = x3.load8(c)
            a30.addProduct(v, b0); a31.addProduct(v, b1); a32.addProduct(v, b2)
            c += 8
        }
        let b0 = bias?[j] ?? 0, b1 = bias?[j + 1] ?? 0, b2 = bias?[j + 2] ?? 0
        store(r, j, a00.sum() + b0, a01.sum() + b1, a02.sum() + b2)
        if r + 1 <= last { store(r + 1, j, a10.sum() + b0, a11.sum() + b1, a12.sum() + b2) }
        if r + 2 <= last { store(r + 2, j, a20.sum() + b0, a21.sum() + b1, a22.sum() + b2) }
        if r + 3 <= last { store(r + 3, j, a30.sum() + b0, a31.sum() + b1, a32.sum() + b2) }
    }

    @inline(__always)
    private func store(_ r: Int, _ j: Int, _ v0: Float, _ v1: Float, _ v2: Float) {
        let out = y + r * n + j
        out[0] = v0
        out[1] = v1
        out[2] = v2
    }

    /// The last one or two weight rows when `n` is not a multiple of 3.
    private func single(j: Int) {
        let wj = w + j * k
        for r in 0..<rows {
            let xr = x + r * k
            var a = Float8()
            var c = 0
            while c < k {
                a.addProduct(xr.load8(c), wj.load8(c))
                c += 8
            }
            y[r * n + j] = a.sum() + (bias?[j] ?? 0)
        }
    }
}
