import CHalf

/// A fixed-size block of IEEE binary16 values (stored as their bit patterns), zero-initialized: float32 data
/// kept at half the bytes where it is written once and read many times (the int8 decoder's cross-attention
/// keys and values). Not thread-safe, like `FloatBuffer`.
public final class HalfBuffer {
    public let count: Int
    public let pointer: UnsafeMutablePointer<UInt16>

    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))  // 0x0000 is +0.0
    }

    deinit { pointer.deallocate() }

    public var bytes: Int { count * 2 }
}

/// Conversions between float32 and binary16.
public enum Half {
    /// `out[i] = x[i]` rounded to the nearest binary16 (ties to even), clamped to ±65504 (infinities too);
    /// NaN stays NaN.
    public static func store(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<UInt16>) {
        prism_half_from_float(x, count, out)
    }

    /// `out[i] = x[i]` exactly.
    public static func load(_ x: UnsafePointer<UInt16>, count: Int, into out: UnsafeMutablePointer<Float>) {
        prism_half_to_float(x, count, out)
    }
}

extension Attention {
    /// `interleaved` over keys and values held in binary16, `[length][heads · headDim]`: the same
    /// computation on the stored values (scores and output accumulate in float32), reading half the bytes —
    /// the decoder's cross-attention is memory-bound (BART-base: 14.7 MB of float32 keys and values per
    /// generated token and row).
    ///
    /// - Parameters:
    ///   - scores: scratch of at least `heads · length` floats.
    ///   - out: `heads · headDim` floats.
    public static func interleavedHalf(
        q: UnsafePointer<Float>, keys: UnsafePointer<UInt16>, values: UnsafePointer<UInt16>,
        length: Int, heads: Int, headDim: Int, scale: Float, keyMask: UnsafePointer<UInt8>?,
        scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
    ) {
        guard length > 0 else {
            out.update(repeating: 0, count: heads * headDim)
            return
        }
        prism_half_scores(q, keys, length, heads, headDim, scale, scores)
        for h in 0..<heads {
            let s = scores + h * length
            if let keyMask {
                for j in 0..<length where keyMask[j] == 0 { s[j] = -.infinity }
            }
            Softmax.apply(s, count: length)
        }
        prism_half_weighted_sum(scores, values, length, heads, headDim, out)
    }
}
