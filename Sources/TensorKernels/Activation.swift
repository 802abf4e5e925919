import CBF16
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

    /// Applies the activation to `count` floats in place. The smooth ones go 8 lanes at a time through
    /// `VectorMath`, the last `count mod 8` too (zero-padded), so that an element's result never depends
    /// on where it sits in the array (a padded batch rounds as each request alone).
    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .gelu:
            // 16 lanes on AVX-512 CPUs (`prism_gelu`, the same erf formula): BART-base int8 batch 16, encoder
            // GELU 88 ms of 1.78 s through the 8-lane loop below.
            if prism_gelu(x, count) != 0 { return }
            let invSqrt2 = Float8(repeating: 0.70710678118654752)
            Self.map8(x, count) { v in Float8(repeating: 0.5) * v * (Float8(repeating: 1) + VectorMath.erf(v * invSqrt2)) }
        case .geluNew:
            // 0.5·(1 + tanh(w)) is the logistic function of 2w: v / (1 + e^(−2w)) needs one vector exp and
            // no tanh (libm's tanhf, one element at a time, was most of a gated-GELU FFN's activation time).
            // Large negative w saturates the exp near Float.max, giving v / Float.max ≈ 0, never NaN.
            let c: Float = 0.7978845608028654
            Self.map8(x, count) { v in
                let w = Float8(repeating: -2 * c) * (v + Float8(repeating: 0.044715) * v * v * v)
                return v / (Float8(repeating: 1) + VectorMath.exp(w))
            }
        case .relu:
            for i in 0..<count where x[i] < 0 { x[i] = 0 }
        case .silu, .swish:
            Self.map8(x, count) { v in v / (Float8(repeating: 1) + VectorMath.exp(-v)) }
        case .tanh:
            for i in 0..<count { x[i] = tanhf(x[i]) }
        }
    }

    /// `x[i] = f(x[i])` 8 lanes at a time; the tail is zero-padded into one more vector.
    @inline(__always)
    static func map8(_ x: UnsafeMutablePointer<Float>, _ count: Int, _ f: (Float8) -> Float8) {
        var i = 0
        while i + 8 <= count {
            x.store8(f(x.load8(i)), i)
            i += 8
        }
        guard i < count else { return }
        var v = Float8()
        for k in 0..<(count - i) { v[k] = x[i + k] }
        let r = f(v)
        for k in 0..<(count - i) { x[i + k] = r[k] }
    }
}
