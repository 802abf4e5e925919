#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element-wise activations named as in `transformers`' `ACT2FN`.
public enum Activation: String, Sendable, CaseIterable {
    /// Exact GELU: `0.5 · x · (1 + erf(x / √2))` (HF's "gelu").
    case gelu
    /// Tanh approximation: `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))` (HF's "gelu_new").
    case geluNew = "gelu_new"
    case relu
    case silu
    case swish
    case tanh

    /// Applies the activation to `count` floats in place, split over `threads` pieces when the array is
    /// large (the encoder's `[400 × 3072]` GELU is ~25 ms on one core).
    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int, threads: Int) {
        let parts = min(threads, count / Activation.minimumPerThread)
        if parts <= 1 {
            apply(x, count: count)
            return
        }
        let address = UInt(bitPattern: x)
        Parallel.forEachRange(count: count / 8, parts: parts) { range in
            let base = UnsafeMutablePointer<Float>(bitPattern: address)! + range.lowerBound * 8
            // The last piece also takes the tail past the last multiple of 8.
            let end = range.upperBound == count / 8 ? count : range.upperBound * 8
            self.apply(base, count: end - range.lowerBound * 8)
        }
    }

    /// Below this many floats per thread, splitting costs more than it saves.
    static let minimumPerThread = 32_768

    /// Applies the activation to `count` floats in place.
    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .gelu:
            let invSqrt2: Float = 0.70710678118654752
            var i = 0
            while i + 8 <= count {
                let v = x.load8(i)
                let e = VectorMath.erf(v * Float8(repeating: invSqrt2))
                x.store8(Float8(repeating: 0.5) * v * (Float8(repeating: 1) + e), i)
                i += 8
            }
            while i < count {
                let v = x[i]
                x[i] = 0.5 * v * (1 + erff(v * invSqrt2))
                i += 1
            }
        case .geluNew:
            let c: Float = 0.7978845608028654
            for i in 0..<count {
                let v = x[i]
                x[i] = 0.5 * v * (1 + tanhf(c * (v + 0.044715 * v * v * v)))
            }
        case .relu:
            for i in 0..<count where x[i] < 0 { x[i] = 0 }
        case .silu, .swish:
            for i in 0..<count {
                let v = x[i]
                x[i] = v / (1 + expf(-v))
            }
        case .tanh:
            for i in 0..<count { x[i] = tanhf(x[i]) }
        }
    }
}
