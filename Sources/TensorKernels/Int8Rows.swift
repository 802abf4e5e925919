import CInt8
import Foundation

/// A row-major `[rows × cols]` float matrix held in int8 with one symmetric scale per row:
/// `w[r, c] ≈ q[r, c] · scale[r]`, `scale[r] = max|w[r, :]| / 127`, `q = round(w / scale)` (half to even).
/// The weights of an int8 linear layer (`[out, in]`, a scale per output channel) and, for a tied model,
/// the token embedding table as well (a row per token). Immutable after `init`, hence shareable.
public final class Int8Rows: RowMatrix, @unchecked Sendable {
    public let rows: Int
    public let cols: Int
    public let values: UnsafeMutablePointer<Int8>
    public let scales: UnsafeMutablePointer<Float>
    /// `Σ_c q[r, c]` per row: the products' correction for the activations' zero points.
    public let sums: UnsafeMutablePointer<Int32>

    /// Quantizes a matrix delivered `chunkRows` rows at a time: `fill(range, buffer)` writes rows `range`
    /// into `buffer` (`range.count × cols` floats). A large table (a 50k-token embedding) thus never exists
    /// in float32 all at once.
    public init(rows: Int, cols: Int, chunkRows: Int = 1024,
                fill: (Range<Int>, UnsafeMutablePointer<Float>) throws -> Void) rethrows {
        self.rows = rows
        self.cols = cols
        values = .allocate(capacity: max(1, rows * cols))
        scales = .allocate(capacity: max(1, rows))
        sums = .allocate(capacity: max(1, rows))
        do {
            try ReducedRows.forEachBlock(rows: rows, cols: cols, chunkRows: chunkRows, fill: fill) { range, buffer in
                prism_int8_quantize_rows(buffer, range.count, cols, cols, values + range.lowerBound * cols, scales + range.lowerBound)
            }
        } catch {
            values.deallocate()
            scales.deallocate()
            sums.deallocate()
            throw error
        }
        prism_int8_row_sums(values, rows, cols, sums)
    }

    deinit {
        values.deallocate()
        scales.deallocate()
        sums.deallocate()
    }

    /// Bytes held (values, scales and sums).
    public var bytes: Int { rows * cols + rows * 8 }

    /// `out[c] = q[row, c] · scale[row] · factor` for every column.
    @inline(__always)
    public func dequantizeRow(_ row: Int, factor: Float = 1, into out: UnsafeMutablePointer<Float>) {
        let q = values + row * cols
        let s = scales[row] * factor
        for c in 0..<cols { out[c] = Float(q[c]) * s }
    }

    /// The whole matrix in float32 (tests and references).
    public var dequantized: [Float] {
        [Float](unsafeUninitializedCapacity: rows * cols) { buffer, initialized in
            for r in 0..<rows { dequantizeRow(r, into: buffer.baseAddress! + r * cols) }
            initialized = rows * cols
        }
    }

    /// Whether this CPU runs int8 products at full rate without saturating: oneDNN must find AVX-512 VNNI
    /// or AVX-VNNI (without them its u8 × s8 pairs can overflow 16-bit intermediates).
    public static var isSupported: Bool { prism_int8_has_vnni() != 0 }

    /// oneDNN's name for the instruction set it dispatches to, e.g. "avx512_core_vnni".
    public static var instructionSet: String {
        switch prism_int8_cpu_isa() {
        case 0x1: return "sse41"
        case 0x3: return "avx"
        case 0x7: return "avx2"
        case 0x27: return "avx512_core"
        case 0x67: return "avx512_core_vnni"
        case 0xe7: return "avx512_core_bf16"
        case 0x3e7: return "avx512_core_amx"
        case 0x407: return "avx2_vnni"
        case let other: return "isa 0x" + String(other, radix: 16)
        }
    }
}

extension Int8Rows {
    /// Whether both hold the same shape, values and scales (a checkpoint's stored copy of a tied table).
    public func hasSameValues(as other: Int8Rows) -> Bool {
        guard rows == other.rows, cols == other.cols else { return false }
        return memcmp(values, other.values, rows * cols) == 0 && memcmp(scales, other.scales, rows * 4) == 0
    }
}

extension Int8Rows {
    /// Up to this many rows (decoder steps: a request, its beams, a small batch) go through Prism's own
    /// VNNI kernel (`prism_int8_small_linear`) instead of oneDNN's GEMM, whose per-call set-up and OpenMP
    /// fork–join cost more than these products (a BART-base decoder step makes ~50 of them per token).
    public static let fewRows = 16

    /// 2 AVX-512 VNNI, 1 AVX-VNNI, 0 none (then every product goes to oneDNN).
    public static let fewRowKernel = Int(prism_int8_small_kernel())

    /// Multiply–adds from which a few-row product is split over threads. The products are memory-bound and
    /// one core streams only ~9–12 GB/s here, so even a 768 × 768 one-row product (~50 µs from memory)
    /// gains from a second thread, provided waking it costs nothing (`Parallel.forEachRangeBackToBack`):
    /// BART-base decoder layers per token, 2 threads: 7.1–7.4 ms on GCD, 5.6–5.9 on one thread,
    /// 4.3–4.5 with the spinning helper.
    static let parallelWork = 768 * 768

    /// Kernels `multiplyFewRows` can run on this CPU (2, 1), best first.
    public static var fewRowKernels: [Int] {
        let best = fewRowKernel
        return best == 2 ? (prism_int8_has_avx_vnni() != 0 ? [2, 1] : [2]) : (best == 1 ? [1] : [])
    }

    /// `out[rows × self.rows] = x · Wᵀ + bias` for a few rows of `x` (`x` quantized per row, asymmetrically,
    /// into `scratch`, `rows × cols` bytes, `rowScales` and `rowZeros`), output columns split in blocks of 4
    /// over up to `threads` parts. `kernel`: one of `fewRowKernels`.
    public func multiplyFewRows(_ x: UnsafePointer<Float>, rows: Int, bias: UnsafePointer<Float>?,
                                into out: UnsafeMutablePointer<Float>, threads: Int, kernel: Int,
                                scratch: UnsafeMutablePointer<UInt8>, rowScales: UnsafeMutablePointer<Float>,
                                rowZeros: UnsafeMutablePointer<Int32>) {
        prism_int8_quantize_activations(x, rows, cols, scratch, rowScales, rowZeros)
        let blocks = (self.rows + 3) / 4
        let parts = rows * self.rows * cols >= Self.parallelWork ? max(1, min(threads, blocks)) : 1
        // Raw addresses: each part writes only its own columns of `out`.
        let addresses = (UInt(bitPattern: scratch), UInt(bitPattern: rowScales), UInt(bitPattern: bias), UInt(bitPattern: out),
                         UInt(bitPattern: rowZeros))
        let (n, k) = (self.rows, cols)
        Parallel.forEachRangeBackToBack(count: blocks, parts: parts) { range in
            let first = range.lowerBound * 4, last = min(n, range.upperBound * 4)
            _ = prism_int8_small_linear(
                Int32(kernel), UnsafePointer(bitPattern: addresses.0), UnsafePointer(bitPattern: addresses.1),
                UnsafePointer(bitPattern: addresses.4), rows, k,
                self.values, self.scales, self.sums, UnsafePointer(bitPattern: addresses.2), n, first, last,
                UnsafeMutablePointer(bitPattern: addresses.3))
        }
    }
}
