/// SIMD building blocks for the element-wise kernels (exp, erf, sums), written so that release builds
/// keep everything in vector registers (8 lanes = one AVX register).
public typealias Float8 = SIMD8<Float>

@usableFromInline typealias Int8x = SIMD8<Int32>

extension UnsafePointer where Pointee == Float {
    @inline(__always) @usableFromInline
    func load8(_ i: Int) -> Float8 { UnsafeRawPointer(self + i).loadUnaligned(as: Float8.self) }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always) @usableFromInline
    func load8(_ i: Int) -> Float8 { UnsafeRawPointer(self + i).loadUnaligned(as: Float8.self) }

    @inline(__always) @usableFromInline
    func store8(_ v: Float8, _ i: Int) { UnsafeMutableRawPointer(self + i).storeBytes(of: v, as: Float8.self) }
}

public enum VectorMath {
    /// `e^x` lane by lane, within about 2 ulp over the float range: `x = n·ln2 + r`, a degree-6 polynomial
    /// for `e^r` on `|r| ≤ ln2/2` (Cody–Waite split of ln2), and `2^n` built in the exponent bits.
    /// Inputs below −87.3 (including −∞) give exactly 0; above 88.7 the result saturates near `Float.max`.
    @inline(__always) @inlinable
    public static func exp(_ x: Float8) -> Float8 {
        let hi: Float8 = Float8(repeating: 88.7)
        let lo: Float8 = Float8(repeating: -87.3)
        // Blends, not `clamped`: the standard library's pointwiseMin/Max stayed out-of-line calls per
        // vector here (2.6 % of a beam-search run under perf).
        var xc = x.replacing(with: lo, where: x .< lo)
        xc = xc.replacing(with: hi, where: xc .> hi)
        // Round x·log2(e) to the nearest integer with the 1.5·2^23 trick (valid for |n| < 2^22).
        let magic = Float8(repeating: 12_582_912)
        let shifted = xc * Float8(repeating: 1.442_695_04) + magic
        let n = shifted - magic
        var r = xc - n * Float8(repeating: 0.693_359_375)
        r = r - n * Float8(repeating: -2.121_944_4e-4)
        var p = Float8(repeating: 1.987_569_15e-4)
        p = p * r + Float8(repeating: 1.398_199_95e-3)
        p = p * r + Float8(repeating: 8.333_451_9e-3)
        p = p * r + Float8(repeating: 4.166_579_59e-2)
        p = p * r + Float8(repeating: 1.666_666_55e-1)
        p = p * r + Float8(repeating: 5.000_000_12e-1)
        let er = (p * r * r + r) + Float8(repeating: 1)
        let nBits = unsafeBitCast(shifted, to: Int8x.self) &- unsafeBitCast(magic, to: Int8x.self)
        let scale = unsafeBitCast((nBits &+ Int8x(repeating: 127)) &<< Int8x(repeating: 23), to: Float8.self)
        return (er * scale).replacing(with: 0, where: x .< lo)
    }

    /// `erf(x)` lane by lane with absolute error below 3e-7 (Abramowitz–Stegun 7.1.26, 1.5e-7, plus float rounding).
    @inline(__always) @inlinable
    public static func erf(_ x: Float8) -> Float8 {
        let a = unsafeBitCast(unsafeBitCast(x, to: Int8x.self) & Int8x(repeating: 0x7fff_ffff), to: Float8.self)
        let t = Float8(repeating: 1) / (Float8(repeating: 1) + Float8(repeating: 0.327_591_1) * a)
        var p = Float8(repeating: 1.061_405_429)
        p = p * t + Float8(repeating: -1.453_152_027)
        p = p * t + Float8(repeating: 1.421_413_741)
        p = p * t + Float8(repeating: -0.284_496_736)
        p = p * t + Float8(repeating: 0.254_829_592)
        let y = Float8(repeating: 1) - p * t * exp(-(a * a))
        return y.replacing(with: -y, where: x .< Float(0))
    }

    /// Sum of `count` floats (eight partial sums).
    @inlinable
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = Float8()
        var i = 0
        while i + 8 <= count {
            acc += x.load8(i)
            i += 8
        }
        var s = acc.sum()
        while i < count {
            s += x[i]
            i += 1
        }
        return s
    }

    /// `Σ x[i]·y[i]` (eight partial sums).
    @inlinable
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        var acc = Float8()
        var i = 0
        while i + 8 <= count {
            acc += x.load8(i) * y.load8(i)
            i += 8
        }
        var s = acc.sum()
        while i < count {
            s += x[i] * y[i]
            i += 1
        }
        return s
    }

    /// `x[i] += y[i]`.
    @inlinable
    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            x.store8(x.load8(i) + y.load8(i), i)
            i += 8
        }
        while i < count {
            x[i] += y[i]
            i += 1
        }
    }

    /// `x[i] *= y[i]` (T5's gated feed-forward).
    @inlinable
    public static func multiply(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            x.store8(x.load8(i) * y.load8(i), i)
            i += 8
        }
        while i < count {
            x[i] *= y[i]
            i += 1
        }
    }

    /// `x[i] *= s`.
    @inlinable
    public static func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
        for i in 0..<count { x[i] *= s }
    }

    /// Index of the largest of `count ≥ 1` floats; the first one on ties (as `torch.argmax`).
    @inlinable
    public static func argmax(_ x: UnsafePointer<Float>, count: Int) -> Int {
        // A vectorized max, then the first index holding it.
        let m = max(x, count: count)
        for i in 0..<count where x[i] == m { return i }
        return 0
    }

    /// Largest value of `count ≥ 1` floats.
    @inlinable
    public static func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var i = 0
        var m = -Float.infinity
        if count >= 8 {
            var acc = x.load8(0)
            i = 8
            while i + 8 <= count {
                let v = x.load8(i)
                acc = acc.replacing(with: v, where: v .> acc)
                i += 8
            }
            m = acc.max()
        }
        while i < count {
            if x[i] > m { m = x[i] }
            i += 1
        }
        return m
    }
}
