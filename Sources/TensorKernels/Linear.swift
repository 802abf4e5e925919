/// A dense layer `y = x · Wᵀ + b` with the weight in PyTorch's `[out, in]` layout.
public struct Linear: Sendable {
    /// `[outFeatures, inFeatures]`, row-major.
    public let weight: [Float]
    /// `[outFeatures]`, or empty for no bias.
    public let bias: [Float]
    public let inFeatures: Int
    public let outFeatures: Int

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
    }

    /// `out[rows × outFeatures] = x[rows × inFeatures] · Wᵀ + b`.
    ///
    /// One row uses `sgemv`; up to `SkinnyGEMM.maxRows` rows use `SkinnyGEMM` (on as many threads as
    /// OpenBLAS has); more rows use `sgemm`. `x` and `out` must not overlap.
    public func apply(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        if rows == 0 { return }
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

/// Errors from building kernels with inconsistent sizes.
public enum KernelError: Error, Equatable, CustomStringConvertible {
    case sizeMismatch(String)

    public var description: String {
        switch self {
        case let .sizeMismatch(detail): return "kernel size mismatch: \(detail)"
        }
    }
}
