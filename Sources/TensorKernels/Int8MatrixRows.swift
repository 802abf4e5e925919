import CPrefetch

extension Int8Matrix {
    /// `y[r, j] = scale[j] · Σ_c q[j, c] · x[r, c] (+ bias[j])` for `count` rows of `x` (`[count × cols]`) into
    /// `y` (`[count × rows]`): the multi-row screen (a batch's greedy step), reading the int8 matrix once.
    /// Blocks of 2 matrix rows × 4 rows of `x` keep 8 AVX accumulators; rows of `x` past a multiple of 4
    /// repeat the last one and are not stored. With `threads > 1` the matrix rows are split into that many
    /// contiguous parts run at once.
    public func multiply(rows x: UnsafePointer<Float>, count: Int, bias: UnsafePointer<Float>?,
                         into y: UnsafeMutablePointer<Float>, threads: Int = 1) {
        guard count > 0 else { return }
        guard cols % 8 == 0 else {
            for r in 0..<count { multiply(x + r * cols, bias: bias, into: y + r * rows, threads: threads) }
            return
        }
        let pairs = (rows + 1) / 2
        let parts = max(1, min(threads, pairs / 512))
        let block = RowsBlock(matrix: self, x: x, count: count, bias: bias, y: y)
        Parallel.forEachRange(count: pairs, parts: parts) { range in block.run(pairs: range) }
    }
}

/// One call of `Int8Matrix.multiply(rows:…)`; each part writes only its own columns of `y`.
private struct RowsBlock: @unchecked Sendable {
    let matrix: Int8Matrix
    let x: UnsafePointer<Float>
    let count: Int
    let bias: UnsafePointer<Float>?
    let y: UnsafeMutablePointer<Float>

    func run(pairs: Range<Int>) {
        let n = matrix.cols
        let rows = matrix.rows
        for pair in pairs {
            let j = pair * 2
            let second = j + 1 < rows ? j + 1 : j  // an odd last row pairs with itself, stored once
            var r = 0
            while r < count {
                block(j, second, r, n)
                r += 4
            }
        }
    }

    @inline(__always)
    private func block(_ j0: Int, _ j1: Int, _ r: Int, _ n: Int) {
        let last = count - 1
        let x0 = x + r * n
        let x1 = x + min(r + 1, last) * n
        let x2 = x + min(r + 2, last) * n
        let x3 = x + min(r + 3, last) * n
        let q0 = UnsafeRawPointer(matrix.values + j0 * n)
        let q1 = UnsafeRawPointer(matrix.values + j1 * n)
        // The next pair's bytes are fetched while this one computes (see `SkinnyGEMM`); past the end the
        // hints point beyond the matrix, which a prefetch tolerates.
        let next = q1 + n
        var a00 = Float8(), a01 = Float8(), a10 = Float8(), a11 = Float8()
        var a20 = Float8(), a21 = Float8(), a30 = Float8(), a31 = Float8()
        var c = 0
        while c < n {
            if c & 63 == 0 {
                prism_prefetch(next + c)
                prism_prefetch(next + n + c)
            }
            let w0 = Float8(SIMD8<Int32>(truncatingIfNeeded: q0.loadUnaligned(fromByteOffset: c, as: SIMD8<Int8>.self)))
            let w1 = Float8(SIMD8<Int32>(truncatingIfNeeded: q1.loadUnaligned(fromByteOffset: c, as: SIMD8<Int8>.self)))
            var v = x0.load8(c)
            a00.addProduct(v, w0); a01.addProduct(v, w1)
            v = x1.load8(c)
            a10.addProduct(v, w0); a11.addProduct(v, w1)
            v = x2.load8(c)
            a20.addProduct(v, w0); a21.addProduct(v, w1)
            v = x3.load8(c)
            a30.addProduct(v, w0); a31.addProduct(v, w1)
            c += 8
        }
        let s0 = matrix.scales[j0], s1 = matrix.scales[j1]
        let b0 = bias?[j0] ?? 0, b1 = bias?[j1] ?? 0
        let ld = matrix.rows
        func store(_ row: Int, _ v0: Float, _ v1: Float) {
            y[row * ld + j0] = v0 * s0 + b0
            if j1 != j0 { y[row * ld + j1] = v1 * s1 + b1 }
        }
        store(r, a00.sum(), a01.sum())
        if r + 1 <= last { store(r + 1, a10.sum(), a11.sum()) }
        if r + 2 <= last { store(r + 2, a20.sum(), a21.sum()) }
        if r + 3 <= last { store(r + 3, a30.sum(), a31.sum()) }
    }
}
