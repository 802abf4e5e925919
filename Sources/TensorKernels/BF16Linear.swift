/// A dense layer `y = x · Wᵀ` whose weight stays in bfloat16 (`[out, in]`, raw bits), half the memory of
/// float32: a checkpoint stored as BF16 (FLAN-T5) is kept as stored. The arithmetic is float32 — each
/// weight row or block is widened (exactly: bf16 is float32's upper half) just before use:
/// - up to `SkinnyGEMM.maxRows` rows (decoder steps): one pass over the weight, each row widened into a
///   small buffer and dotted with every input row (memory-bound, so reading half the bytes is the win);
/// - more rows (the encoder): blocks of `blockRows` weight rows widened, then `sgemm`.
public struct BF16Linear: Sendable {
    public let weight: [UInt16]
    public let inFeatures: Int
    public let outFeatures: Int
    static let blockRows = 64

    public init(weight: [UInt16], inFeatures: Int, outFeatures: Int) throws {
        guard weight.count == inFeatures * outFeatures else {
            throw KernelError.sizeMismatch("bf16 linear weight \(weight.count) for [\(outFeatures), \(inFeatures)]")
        }
        self.weight = weight
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    /// The weight widened to float32 (tests and references).
    public var widened: [Float] { weight.map { Float(bitPattern: UInt32($0) << 16) } }

    /// `out[rows × outFeatures] = x[rows × inFeatures] · Wᵀ`.
    public func apply(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        if rows == 0 { return }
        let n = inFeatures
        weight.withUnsafeBufferPointer { w in
            let bits = w.baseAddress!
            if rows <= SkinnyGEMM.maxRows {
                // Output rows split over the BLAS thread count (as sgemv would be), each part with its own
                // widened-row buffer; below 64 rows a part is not worth a thread.
                let addresses = (UInt(bitPattern: bits), UInt(bitPattern: x), UInt(bitPattern: out))
                let outFeatures = outFeatures
                Parallel.forEachRange(count: outFeatures, parts: min(BLAS.threads, outFeatures / 64)) { range in
                    let bits = UnsafePointer<UInt16>(bitPattern: addresses.0)!, x = UnsafePointer<Float>(bitPattern: addresses.1)!
                    let out = UnsafeMutablePointer<Float>(bitPattern: addresses.2)!
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { buffer in
                        let row = buffer.baseAddress!
                        for o in range {
                            Self.widen(bits + o * n, count: n, into: row)
                            for r in 0..<rows { out[r * outFeatures + o] = VectorMath.dot(x + r * n, row, count: n) }
                        }
                    }
                }
                return
            }
            let block = Self.blockRows
            withUnsafeTemporaryAllocation(of: Float.self, capacity: block * n) { buffer in
                let widened = buffer.baseAddress!
                var start = 0
                while start < outFeatures {
                    let count = min(block, outFeatures - start)
                    Self.widen(bits + start * n, count: count * n, into: widened)
                    BLAS.gemmNT(m: rows, n: count, k: n, a: x, lda: n, b: widened, ldb: n, beta: 0, c: out + start, ldc: outFeatures)
                    start += count
                }
            }
        }
    }

    /// `count` bf16 values widened to float32.
    @inline(__always)
    static func widen(_ bits: UnsafePointer<UInt16>, count: Int, into out: UnsafeMutablePointer<Float>) {
        var i = 0
        while i + 8 <= count {
            let raw = UnsafeRawPointer(bits + i).loadUnaligned(as: SIMD8<UInt16>.self)
            let wide = SIMD8<UInt32>(truncatingIfNeeded: raw) &<< 16
            UnsafeMutableRawPointer(out + i).storeBytes(of: unsafeBitCast(wide, to: Float8.self), as: Float8.self)
            i += 8
        }
        while i < count {
            out[i] = Float(bitPattern: UInt32(bits[i]) << 16)
            i += 1
        }
    }
}
