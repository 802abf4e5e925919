/// Root-mean-square layer norm without mean or bias, as T5's `T5LayerNorm`:
/// `y = x / sqrt(mean(x²) + eps) · γ` (the variance in float32, no mean subtracted).
public struct RMSNorm: Sendable {
    public let gamma: [Float]
    public let eps: Float

    public init(gamma: [Float], eps: Float = 1e-6) {
        self.gamma = gamma
        self.eps = eps
    }

    public var dim: Int { gamma.count }

    /// Normalizes `rows` rows of `dim` floats from `x` into `out` (which may be `x`).
    public func apply(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        let d = dim
        gamma.withUnsafeBufferPointer { g in
            let gp = g.baseAddress!
            for r in 0..<rows {
                let row = x + r * d
                let dst = out + r * d
                var acc = Float8()
                var i = 0
                while i + 8 <= d {
                    let v = row.load8(i)
                    acc += v * v
                    i += 8
                }
                var sq = acc.sum()
                while i < d {
                    sq += row[i] * row[i]
                    i += 1
                }
                let s = 1 / (sq / Float(d) + eps).squareRoot()
                let s8 = Float8(repeating: s)
                i = 0
                while i + 8 <= d {
                    dst.store8(row.load8(i) * s8 * gp.load8(i), i)
                    i += 8
                }
                while i < d {
                    dst[i] = row[i] * s * gp[i]
                    i += 1
                }
            }
        }
    }
}
