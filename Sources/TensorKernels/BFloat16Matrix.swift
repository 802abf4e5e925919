/// A read-only copy of a row-major `[rows × cols]` float matrix in bfloat16 (round to nearest even), with
/// a per-row bound on how far a dot product against it can drift from the float32 one.
///
/// Used to *screen* a matrix–vector product at half the memory traffic: for any `x`,
/// `|fp32(W·x)_j − screened(W·x)_j| ≤ ‖x‖₁ · slack[j]`, where `slack[j]` covers the bfloat16 rounding of row
/// `j` (its largest absolute rounding error) plus float32 accumulation error in both products
/// (`2·n·ε·max|w|`, taken generously as `1e-4·max|w|` for `n ≤ 768`, scaled for longer rows).
public final class BFloat16Matrix {
    public let rows: Int
    public let cols: Int
    /// `[rows × cols]` bfloat16 bit patterns.
    public let bits: UnsafeMutablePointer<UInt16>
    /// Per-row error slack (multiply by `‖x‖₁`).
    public let slack: UnsafeMutablePointer<Float>

    public init(_ matrix: UnsafePointer<Float>, rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
        bits = .allocate(capacity: max(1, rows * cols))
        slack = .allocate(capacity: max(1, rows))
        let accumulation = 1e-4 * Float(max(cols, 768)) / 768
        for r in 0..<rows {
            var maxError: Float = 0
            var maxAbs: Float = 0
            for c in 0..<cols {
                let w = matrix[r * cols + c]
                let b = w.bitPattern
                let rounded = UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
                bits[r * cols + c] = rounded
                let back = Float(bitPattern: UInt32(rounded) << 16)
                maxError = Swift.max(maxError, abs(w - back))
                maxAbs = Swift.max(maxAbs, abs(w))
            }
            // A little headroom over the exact maximum rounding error.
            slack[r] = maxError * 1.001 + accumulation * maxAbs
        }
    }

    deinit {
        bits.deallocate()
        slack.deallocate()
    }

    /// `y[j] = Σ_c W_bf16[j, c] · x[c] (+ bias[j])` for every row.
    public func multiply(_ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let n = cols
        let vectorEnd = n - n % 16
        for r in 0..<rows {
            let row = bits + r * n
            var a0 = Float8()
            var a1 = Float8()
            var c = 0
            while c < vectorEnd {
                let w = UnsafeRawPointer(row + c).loadUnaligned(as: SIMD16<UInt16>.self)
                let wide = SIMD16<UInt32>(truncatingIfNeeded: w) &<< 16
                let lo = unsafeBitCast(wide.lowHalf, to: Float8.self)
                let hi = unsafeBitCast(wide.highHalf, to: Float8.self)
                a0 += lo * x.load8(c)
                a1 += hi * x.load8(c + 8)
                c += 16
            }
            var s = (a0 + a1).sum()
            while c < n {
                s += Float(bitPattern: UInt32(row[c]) << 16) * x[c]
                c += 1
            }
            y[r] = s + (bias?[r] ?? 0)
        }
    }
}
