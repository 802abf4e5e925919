import CInt8

/// A dense layer `y = x · Wᵀ + b` with the weight in PyTorch's `[out, in]` layout, held in float32, bf16 or
/// int8 (`Precision`).
public struct Linear: Sendable {
    /// `[outFeatures, inFeatures]`, row-major; empty when the weight is held in bf16 or int8.
    public let weight: [Float]
    /// `[outFeatures]`, or empty for no bias.
    public let bias: [Float]
    public let inFeatures: Int
    public let outFeatures: Int
    /// The int8 weight with its per-output-channel scales, when the layer runs in int8.
    public let int8: Int8Rows?
    /// The bf16 weight, when the layer runs in bf16.
    public let bf16: BF16Rows?

    /// Checks that the sizes agree with `[out, in]` (and `[out]` for a non-empty bias).
    public init(weight: [Float], bias: [Float], inFeatures: Int, outFeatures: Int) throws {
        guard weight.count == inFeatures * outFeatures, bias.isEmpty || bias.count == outFeatures else {
            throw KernelError.sizeMismatch(
                "linear weight \(weight.count) / bias \(bias.count) for [\(outFeatures), \(inFeatures)]")
        }
        self.weight = weight
        self.bias = bias
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        int8 = nil
        bf16 = nil
    }

    /// An int8 layer over already quantized weights (`[outFeatures × inFeatures]`); no float32 copy is kept.
    public init(int8 weight: Int8Rows, bias: [Float]) throws {
        try self.init(rows: .int8(weight), bias: bias)
    }

    /// A layer over a reduced-precision weight (`[outFeatures × inFeatures]`); no float32 copy is kept.
    public init(rows weight: ReducedRows, bias: [Float]) throws {
        guard bias.isEmpty || bias.count == weight.rows else {
            throw KernelError.sizeMismatch("\(weight.precision) linear bias \(bias.count) for [\(weight.rows), \(weight.cols)]")
        }
        self.weight = []
        self.bias = bias
        inFeatures = weight.cols
        outFeatures = weight.rows
        switch weight {
        case .int8(let rows): (int8, bf16) = (rows, nil)
        case .bf16(let rows): (int8, bf16) = (nil, rows)
        }
    }

    public var precision: Precision { int8 != nil ? .int8 : (bf16 != nil ? .bf16 : .fp32) }

    /// The reduced-precision weight, when there is one (a tied model's token table is this same object).
    public var rows: ReducedRows? {
        if let int8 { return .int8(int8) }
        return bf16.map { .bf16($0) }
    }

    /// This layer held in `precision` (rounding a float32 weight; a reduced one cannot go back or across).
    /// A model-level precision is read as an encoder layer's (`Precision.layer(inEncoder: true)`).
    public func converted(to precision: Precision) throws -> Linear {
        let target = precision.layer(inEncoder: true)
        if target == self.precision { return self }
        guard self.precision == .fp32 else {
            throw KernelError.sizeMismatch("a \(self.precision) layer has no float32 weight to convert to \(target)")
        }
        let rows = weight.withUnsafeBufferPointer {
            ReducedRows($0.baseAddress!, rows: outFeatures, cols: inFeatures, precision: target)
        }
        guard let rows else { return self }
        return try Linear(rows: rows, bias: bias)
    }

    /// Bytes the weight and bias take in memory.
    public var bytes: Int { (int8?.bytes ?? bf16?.bytes ?? weight.count * 4) + bias.count * 4 }

    /// `out[rows × outFeatures] = x[rows × inFeatures] · Wᵀ + b`.
    ///
    /// One row uses `sgemv`; up to `SkinnyGEMM.maxRows` rows use `SkinnyGEMM` (on as many threads as
    /// OpenBLAS has); more rows use `sgemm`. `x` and `out` must not overlap.
    public func apply(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        if rows == 0 { return }
        if let int8 {
            applyInt8(int8, x, rows: rows, into: out)
            return
        }
        if let bf16 {
            bias.withUnsafeBufferPointer { b in
                bf16.multiply(x, rows: rows, bias: b.isEmpty ? nil : b.baseAddress, into: out, threads: BLAS.threads)
            }
            return
        }
        if rows > 1 && SkinnyGEMM.supports(rows: rows, inFeatures: inFeatures) {
            weight.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    SkinnyGEMM.multiply(
                        x, rows: rows, weight: w.baseAddress!, inFeatures: inFeatures, outFeatures: outFeatures,
                        bias: b.isEmpty ? nil : b.baseAddress, into: out, threads: BLAS.threads)
                }
            }
            return
        }
        let hasBias = !bias.isEmpty
        if hasBias {
            bias.withUnsafeBufferPointer { b in
                for r in 0..<rows { (out + r * outFeatures).update(from: b.baseAddress!, count: outFeatures) }
            }
        }
        weight.withUnsafeBufferPointer { w in
            if rows == 1 {
                BLAS.gemv(
                    m: outFeatures, n: inFeatures, a: w.baseAddress!, lda: inFeatures,
                    x: x, beta: hasBias ? 1 : 0, y: out)
            } else {
                BLAS.gemmNT(
                    m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                    b: w.baseAddress!, ldb: inFeatures, beta: hasBias ? 1 : 0, c: out, ldc: outFeatures)
            }
        }
    }
}

extension Linear {
    /// The int8 product: `x` quantized per row (asymmetric u8; scratch on the stack or, for encoder-sized
    /// inputs, the heap), Prism's VNNI kernel for a few rows or oneDNN's u8s8s32 GEMM for more, then
    /// `(acc − zero · Σw) · rowScale · channelScale + b` into `out`.
    private func applyInt8(_ w: Int8Rows, _ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        let threads = BLAS.threads
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: rows * inFeatures) { quantized in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: rows) { rowScales in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: rows) { rowZeros in
                    bias.withUnsafeBufferPointer { b in
                        let bias = b.isEmpty ? nil : b.baseAddress
                        if rows <= Int8Rows.fewRows, Int8Rows.fewRowKernel != 0 {
                            w.multiplyFewRows(x, rows: rows, bias: bias, into: out, threads: threads, kernel: Int8Rows.fewRowKernel,
                                              scratch: quantized.baseAddress!, rowScales: rowScales.baseAddress!,
                                              rowZeros: rowZeros.baseAddress!)
                            return
                        }
                        // The rows are split over this library's own threads, each running a one-thread oneDNN GEMM
                        // on its share, rather than handed to oneDNN's OpenMP team: OpenMP workers spin for a
                        // while after each GEMM, taking the core the attention, GELU and OpenBLAS threads between
                        // the GEMMs need (measured below, in `BARTBench`'s numbers).
                        let addresses = (UInt(bitPattern: x), UInt(bitPattern: bias), UInt(bitPattern: out),
                                         UInt(bitPattern: quantized.baseAddress!), UInt(bitPattern: rowScales.baseAddress!),
                                         UInt(bitPattern: rowZeros.baseAddress!))
                        let (k, n) = (inFeatures, outFeatures)
                        Parallel.forEachRange(count: rows, parts: rows >= 2 * Int8Rows.fewRows ? threads : 1) { range in
                            let r = range.lowerBound
                            let status = prism_int8_linear(
                                UnsafePointer<Float>(bitPattern: addresses.0)! + r * k, range.count, k, w.values, w.scales, w.sums,
                                UnsafePointer(bitPattern: addresses.1), n, UnsafeMutablePointer<Float>(bitPattern: addresses.2)! + r * n,
                                UnsafeMutablePointer<UInt8>(bitPattern: addresses.3)! + r * k,
                                UnsafeMutablePointer<Float>(bitPattern: addresses.4)! + r,
                                UnsafeMutablePointer<Int32>(bitPattern: addresses.5)! + r, 1)
                            // oneDNN fails only on invalid sizes or leading dimensions, which `init` rules out.
                            precondition(status == 0, "dnnl_gemm_u8s8s32 failed with status \(status)")
                        }
                    }
                }
            }
        }
    }
}

/// Errors from building kernels with inconsistent sizes.
public enum KernelError: Error, Equatable, CustomStringConvertible {
    case sizeMismatch(String)

    public var description: String {
        switch self {
        case let .sizeMismatch(detail): return "kernel size mismatch: \(detail)"
        }
    }
}
