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
                for r in 0..<rows {
                    let row = x + r * d
                    var sum: Double = 0
                    for i in 0..<d { sum += Double(row[i]) }
                    let mean = sum / Double(d)
                    var sq: Double = 0
                    for i in 0..<d {
                        let c = Double(row[i]) - mean
                        sq += c * c
                    }
                    let inv = 1 / (sq / Double(d) + Double(eps)).squareRoot()
                    let m = Float(mean)
                    let s = Float(inv)
                    for i in 0..<d { row[i] = (row[i] - m) * s * g[i] + b[i] }
                }
            }
        }
    }
}
