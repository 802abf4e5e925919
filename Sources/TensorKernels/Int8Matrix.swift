import Dispatch

/// A read-only int8 copy of a row-major `[rows × cols]` float matrix (`Int8Rows`: one symmetric scale per
/// row) with a per-row bound on how far a dot product against it can drift from the float32 one.
///
/// Used to *screen* a matrix–vector product at a quarter of the float32 memory traffic: for any `x`,
/// `|fp32(W·x)_j − screened(W·x)_j| ≤ ‖x‖₁ · slack[j]`, where `slack[j]` covers the quantization of row `j`
/// (its largest absolute error, at most `scale/2`) plus float32 accumulation error in both products
/// (`2·n·ε·max|w|`, taken generously as `1e-4·max|w|` for `n ≤ 768`, scaled for longer rows).
/// Immutable after `init`, hence safe to share across threads.
public final class Int8Matrix: @unchecked Sendable {
    /// The quantized rows and their scales.
    public let quantized: Int8Rows
    /// Per-row error slack (multiply by `‖x‖₁`).
    public let slack: UnsafeMutablePointer<Float>

    public var rows: Int { quantized.rows }
    public var cols: Int { quantized.cols }
    /// `[rows × cols]` quantized values.
    public var values: UnsafeMutablePointer<Int8> { quantized.values }
    /// Per-row scale.
    public var scales: UnsafeMutablePointer<Float> { quantized.scales }

    public init(_ matrix: UnsafePointer<Float>, rows: Int, cols: Int) {
        quantized = Int8Rows(matrix, rows: rows, cols: cols)
        slack = .allocate(capacity: max(1, rows))
        let accumulation = 1e-4 * Float(max(cols, 768)) / 768
        let (values, scales) = (quantized.values, quantized.scales)
        for r in 0..<rows {
            let row = matrix + r * cols
            let scale = scales[r]
            var maxError: Float = 0
            for c in 0..<cols { maxError = Swift.max(maxError, abs(row[c] - Float(values[r * cols + c]) * scale)) }
            // scale = max|w| / 127; a little headroom over the exact maximum quantization error.
            slack[r] = maxError * 1.001 + accumulation * scale * 127
        }
    }

    deinit {
        slack.deallocate()
    }

    /// `y[j] = scale[j] · Σ_c q[j, c] · x[c] (+ bias[j])` for every row; with `threads > 1` the rows are split
    /// into that many contiguous parts run at once (the product is memory-bound: more cores, more bandwidth).
    public func multiply(_ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                         threads: Int = 1) {
        let parts = max(1, min(threads, rows / 1024))
        // Raw addresses: each part writes its own rows of `y`, nothing else is written.
        let (xa, ba, ya) = (UInt(bitPattern: x), UInt(bitPattern: bias), UInt(bitPattern: y))
        Parallel.forEachRange(count: rows, parts: parts) { range in
            self.multiplyRows(range, UnsafePointer(bitPattern: xa)!, UnsafePointer(bitPattern: ba),
                              UnsafeMutablePointer(bitPattern: ya)!)
        }
    }

    private func multiplyRows(_ range: Range<Int>, _ x: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                              _ y: UnsafeMutablePointer<Float>) {
        let n = cols
        guard n % 16 == 0 else {
            for r in range {
                let row = values + r * n
                var s: Float = 0
                for c in 0..<n { s += Float(row[c]) * x[c] }
                y[r] = s * scales[r] + (bias?[r] ?? 0)
            }
            return
        }
        for r in range {
            let row = UnsafeRawPointer(values + r * n)
            var a0 = Float8(), a1 = Float8()
            var k = 0
            while k < n {
                let q0 = row.loadUnaligned(fromByteOffset: k, as: SIMD8<Int8>.self)
                let q1 = row.loadUnaligned(fromByteOffset: k + 8, as: SIMD8<Int8>.self)
                a0 += Float8(SIMD8<Int32>(truncatingIfNeeded: q0)) * x.load8(k)
                a1 += Float8(SIMD8<Int32>(truncatingIfNeeded: q1)) * x.load8(k + 8)
                k += 16
            }
            y[r] = (a0 + a1).sum() * scales[r] + (bias?[r] ?? 0)
        }
    }
}
