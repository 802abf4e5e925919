/// Layer normalization over the last dimension: `y = (x − mean) / sqrt(var + eps) · γ + β`
/// with the biased variance, as `torch.nn.LayerNorm` (BART uses eps = 1e-5).
public struct LayerNorm: Sendable {
    public let gamma: [Float]
    public let beta: [Float]
    public let eps: Float

    public init(gamma: [Float], beta: [Float], eps: Float = 1e-5) throws {
        guard gamma.count == beta.count else {
            throw KernelError.sizeMismatch("layer norm weight \(gamma.count) vs bias \(beta.count)")
        }
        self.gamma = gamma
        self.beta = beta
        self.eps = eps
    }

    public var dim: Int { gamma.count }

    /// Normalizes `rows` rows of `dim` floats in place.
    public func apply(_ x: UnsafeMutablePointer<Float>, rows: Int) {
        let d = dim
        gamma.withUnsafeBufferPointer { g in
            beta.withUnsafeBufferPointer { b in
                let gp = g.baseAddress!
                let bp = b.baseAddress!
                let invD = 1 / Float(d)
                for r in 0..<rows {
                    let row = x + r * d
                    let mean = VectorMath.sum(UnsafePointer(row), count: d) * invD
                    let m8 = Float8(repeating: mean)
                    var acc = Float8()
                    var i = 0
                    while i + 8 <= d {
                        let c = row.load8(i) - m8
                        acc += c * c
                        i += 8
                    }
                    var sq = acc.sum()
                    while i < d {
                        let c = row[i] - mean
                        sq += c * c
                        i += 1
                    }
                    let s = 1 / (sq * invD + eps).squareRoot()
                    let s8 = Float8(repeating: s)
                    i = 0
                    while i + 8 <= d {
                        row.store8((row.load8(i) - m8) * s8 * gp.load8(i) + bp.load8(i), i)
                        i += 8
                    }
                    while i < d {
                        row[i] = (row[i] - mean) * s * gp[i] + bp[i]
                        i += 1
                    }
                }
            }
        }
    }
}
