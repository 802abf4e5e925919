import Dispatch

/// A read-only copy of a row-major `[rows × cols]` float matrix in bfloat16 (round to nearest even), with
/// a per-row bound on how far a dot product against it can drift from the float32 one.
///
/// Used to *screen* a matrix–vector product at half the memory traffic: for any `x`,
/// `|fp32(W·x)_j − screened(W·x)_j| ≤ ‖x‖₁ · slack[j]`, where `slack[j]` covers the bfloat16 rounding of row
/// `j` (its largest absolute rounding error) plus float32 accumulation error in both products
/// (`2·n·ε·max|w|`, taken generously as `1e-4·max|w|` for `n ≤ 768`, scaled for longer rows).
/// Immutable after `init` (the buffers are written once, then only read), hence safe to share across threads.
public final class BFloat16Matrix: @unchecked Sendable {
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

    /// `y[j] = Σ_c W_bf16[j, c] · x[c] (+ bias[j])` for every row; with `threads > 1` the rows are split
    /// into that many contiguous parts run at once (the product is memory-bound: more cores, more bandwidth).
    public func multiply(_ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                         threads: Int = 1) {
        let parts = max(1, min(threads, rows / 1024))
        if parts == 1 {
            multiplyRows(0..<rows, x, bias, y)
            return
        }
        // Raw addresses: each part writes its own rows of `y`, nothing else is written.
        let (xa, ba, ya) = (UInt(bitPattern: x), UInt(bitPattern: bias), UInt(bitPattern: y))
        let total = rows
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let range = (total * part / parts)..<(total * (part + 1) / parts)
            self.multiplyRows(range, UnsafePointer(bitPattern: xa)!, UnsafePointer(bitPattern: ba),
                              UnsafeMutablePointer(bitPattern: ya)!)
        }
    }

    private func multiplyRows(_ range: Range<Int>, _ x: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                              _ y: UnsafeMutablePointer<Float>) {
        let n = cols
        guard n % 16 == 0 else {
            for r in range {
                let row = bits + r * n
                var s: Float = 0
                for c in 0..<n { s += Float(bitPattern: UInt32(row[c]) << 16) * x[c] }
                y[r] = s + (bias?[r] ?? 0)
            }
            return
        }
        // Two bfloat16 values share a little-endian 32-bit word: element 2k is `word << 16` and element
        // 2k+1 is `word & 0xFFFF0000`, both already float32 bit patterns. So the row is read as words
        // and multiplied against `x` split into its even and odd elements: plain 32-bit lane operations,
        // no widening conversions.
        let half = n / 2
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { buffer in
            let xe = buffer.baseAddress!
            let xo = xe + half
            for i in 0..<half {
                xe[i] = x[2 * i]
                xo[i] = x[2 * i + 1]
            }
            let high = SIMD8<UInt32>(repeating: 0xFFFF_0000)
            for r in range {
                let words = UnsafeRawPointer(bits + r * n)
                var a0 = Float8(), a1 = Float8(), a2 = Float8(), a3 = Float8()
                var k = 0
                while k + 16 <= half {
                    let w0 = words.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<UInt32>.self)
                    let w1 = words.loadUnaligned(fromByteOffset: (k + 8) * 4, as: SIMD8<UInt32>.self)
                    a0 += unsafeBitCast(w0 &<< 16, to: Float8.self) * xe.load8(k)
                    a1 += unsafeBitCast(w0 & high, to: Float8.self) * xo.load8(k)
                    a2 += unsafeBitCast(w1 &<< 16, to: Float8.self) * xe.load8(k + 8)
                    a3 += unsafeBitCast(w1 & high, to: Float8.self) * xo.load8(k + 8)
                    k += 16
                }
                if k < half {  // half is a multiple of 8
                    let w0 = words.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<UInt32>.self)
                    a0 += unsafeBitCast(w0 &<< 16, to: Float8.self) * xe.load8(k)
                    a1 += unsafeBitCast(w0 & high, to: Float8.self) * xo.load8(k)
                }
                y[r] = ((a0 + a1) + (a2 + a3)).sum() + (bias?[r] ?? 0)
            }
        }
    }
}
