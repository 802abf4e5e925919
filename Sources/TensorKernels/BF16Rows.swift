import CBF16
import Foundation

/// A row-major `[rows × cols]` float matrix held in bfloat16 (each value rounded to nearest, ties to even:
/// 8 significant bits, float32's range). The weights of a bf16 linear layer (`[out, in]`) and, for a tied
/// model, the token table too (a row per token). Products round their activations to bf16 as well and sum
/// in float32 (`prism_bf16_linear`): AVX512-BF16's `vdpbf16ps` where the CPU has it. Immutable after
/// `init`, hence shareable.
public final class BF16Rows: RowMatrix, @unchecked Sendable {
    public let rows: Int
    public let cols: Int
    public let values: UnsafeMutablePointer<UInt16>

    /// Rounds a matrix delivered `chunkRows` rows at a time: `fill(range, buffer)` writes rows `range` into
    /// `buffer` (`range.count × cols` floats), so a large table never exists in float32 all at once.
    public init(rows: Int, cols: Int, chunkRows: Int = 1024,
                fill: (Range<Int>, UnsafeMutablePointer<Float>) throws -> Void) rethrows {
        self.rows = rows
        self.cols = cols
        values = .allocate(capacity: max(1, rows * cols))
        do {
            try ReducedRows.forEachBlock(rows: rows, cols: cols, chunkRows: chunkRows, fill: fill) { range, buffer in
                prism_bf16_round(buffer, range.count * cols, values + range.lowerBound * cols)
            }
        } catch {
            values.deallocate()
            throw error
        }
    }

    /// A matrix already in bf16 (a checkpoint's BF16 tensor: its bits, `[rows × cols]`).
    public init(bits: [UInt16], rows: Int, cols: Int) throws {
        guard bits.count == rows * cols else { throw KernelError.sizeMismatch("bf16 rows \(bits.count) for [\(rows), \(cols)]") }
        self.rows = rows
        self.cols = cols
        values = .allocate(capacity: max(1, rows * cols))
        bits.withUnsafeBufferPointer { values.update(from: $0.baseAddress!, count: bits.count) }
    }

    deinit { values.deallocate() }

    /// Bytes held.
    public var bytes: Int { rows * cols * 2 }

    /// `out[c] = w[row, c] · factor` for every column.
    @inline(__always)
    public func widenRow(_ row: Int, factor: Float = 1, into out: UnsafeMutablePointer<Float>) {
        let q = values + row * cols
        for c in 0..<cols { out[c] = Float(bitPattern: UInt32(q[c]) << 16) * factor }
    }

    /// The whole matrix in float32 (tests and references).
    public var widened: [Float] {
        [Float](unsafeUninitializedCapacity: rows * cols) { buffer, initialized in
            for r in 0..<rows { widenRow(r, into: buffer.baseAddress! + r * cols) }
            initialized = rows * cols
        }
    }

    /// Whether both hold the same shape and values (a checkpoint's stored copy of a tied table).
    public func hasSameValues(as other: BF16Rows) -> Bool {
        rows == other.rows && cols == other.cols && memcmp(values, other.values, rows * cols * 2) == 0
    }

    /// 1 when the products run on AVX512-BF16, 0 when on the portable loop (several times slower than
    /// float32's OpenBLAS: a worker then serves float32 instead).
    public static let kernel = Int(prism_bf16_kernel())

    /// Whether this CPU multiplies bf16 at speed (AVX512-BF16).
    public static var isAccelerated: Bool { kernel == 1 }

    /// `out[rows × self.rows] = x · Wᵀ + bias`, `x` (`rows × cols`) rounded to bf16 first. Up to
    /// `Int8Rows.fewRows` rows (decoder steps) split the output columns, in blocks of 4, between this thread
    /// and the spinning helper; more rows (the encoder) split the rows over `threads`.
    public func multiply(_ x: UnsafePointer<Float>, rows: Int, bias: UnsafePointer<Float>?,
                         into out: UnsafeMutablePointer<Float>, threads: Int) {
        if rows == 0 { return }
        let (n, k) = (self.rows, cols)
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: rows * k) { rounded in
            let xb = rounded.baseAddress!
            prism_bf16_round(x, rows * k, xb)
            // Raw addresses: each part writes only its own rows or columns of `out`.
            let addresses = (UInt(bitPattern: xb), UInt(bitPattern: bias), UInt(bitPattern: out))
            let kernel = Int32(Self.kernel)
            // The int8 kernel's boundary: these products are as memory-bound, with twice the bytes.
            let parallel = rows * n * k >= Int8Rows.parallelWork
            if rows <= Int8Rows.fewRows {
                let blocks = (n + 3) / 4
                Parallel.forEachRangeBackToBack(count: blocks, parts: parallel ? max(1, min(threads, blocks)) : 1) { range in
                    prism_bf16_linear(kernel, UnsafePointer(bitPattern: addresses.0), rows, k, self.values,
                                      UnsafePointer(bitPattern: addresses.1), range.lowerBound * 4,
                                      min(n, range.upperBound * 4), UnsafeMutablePointer(bitPattern: addresses.2), n)
                }
                return
            }
            Parallel.forEachRange(count: rows, parts: parallel ? threads : 1) { range in
                prism_bf16_linear(kernel, UnsafePointer<UInt16>(bitPattern: addresses.0)! + range.lowerBound * k, range.count, k,
                                  self.values, UnsafePointer(bitPattern: addresses.1), 0, n,
                                  UnsafeMutablePointer<Float>(bitPattern: addresses.2)! + range.lowerBound * n, n)
            }
        }
    }
}
