#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Numerically stable softmax and log-softmax over contiguous rows.
public enum Softmax {
    /// In-place softmax of `count` floats. Entries equal to `-infinity` get probability 0; if every
    /// entry is `-infinity` the result is uniform (as PyTorch gives for a row masked with `finfo.min`).
    ///
    /// Every entry goes through the same vector `exp`, the tail too (padded with `-infinity`, whose
    /// exponential is exactly 0): a row followed by masked entries thus gives its entries exactly as the
    /// row alone does — a padded batch's cross-attention equals each request's alone, bit for bit (a scalar
    /// `expf` tail rounded differently, and an int8 model could turn that into a different token).
    @inlinable
    public static func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        if count == 0 { return }
        let maxValue = VectorMath.max(UnsafePointer(x), count: count)
        if maxValue == -Float.infinity {
            let u = 1 / Float(count)
            for i in 0..<count { x[i] = u }
            return
        }
        let m = Float8(repeating: maxValue)
        var acc = Float8()
        var i = 0
        while i + 8 <= count {
            let e = VectorMath.exp(x.load8(i) - m)
            x.store8(e, i)
            acc += e
            i += 8
        }
        if i < count {
            var tail = Float8(repeating: -.infinity)
            for lane in 0..<(count - i) { tail[lane] = x[i + lane] }
            let e = VectorMath.exp(tail - m)
            for lane in 0..<(count - i) { x[i + lane] = e[lane] }
            acc += e
        }
        let sum = acc.sum()
        let inv = Float8(repeating: 1 / sum)
        i = 0
        while i + 8 <= count {
            x.store8(x.load8(i) * inv, i)
            i += 8
        }
        while i < count {
            x[i] *= inv[0]
            i += 1
        }
    }

    /// In-place log-softmax of `count` floats: `x − max − log Σ exp(x − max)`.
    @inlinable
    public static func applyLog(_ x: UnsafeMutablePointer<Float>, count: Int) {
        if count == 0 { return }
        let maxValue = VectorMath.max(UnsafePointer(x), count: count)
        if maxValue == -Float.infinity { return }
        // Σ exp(x − max) eight lanes at a time (VectorMath.exp, ~2 ulp; −∞ gives 0), the float partial sums
        // moved into a Double every 256 values so that a 50k vocabulary adds no visible rounding. Scalar
        // `expf` here was ~1.6 ms per 4-beam BART-base step.
        let m = Float8(repeating: maxValue)
        var sum: Double = 0
        var i = 0
        while i + 8 <= count {
            var acc = Float8()
            let stop = Swift.min(count - 7, i + 256)
            while i < stop {
                acc += VectorMath.exp(x.load8(i) - m)
                i += 8
            }
            sum += Double(acc.sum())
        }
        while i < count {
            sum += Double(expf(x[i] - maxValue))
            i += 1
        }
        let shift = Float8(repeating: maxValue + Float(log(sum)))
        i = 0
        while i + 8 <= count {
            x.store8(x.load8(i) - shift, i)
            i += 8
        }
        while i < count {
            x[i] -= shift[0]
            i += 1
        }
    }
}
