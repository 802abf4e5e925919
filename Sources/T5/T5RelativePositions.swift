#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// T5's bucketed relative position bias: every (query, key) pair gets a learned per-head scalar, chosen by
/// the bucket of `key − query`. Half the buckets are exact small distances; the rest grow logarithmically
/// up to `maxDistance`, beyond which all distances share the last bucket. The encoder's buckets are
/// bidirectional (half of them for keys after the query), the decoder's causal (only keys before it).
/// The table is computed in the first layer of each stack and shared by all its layers.
public struct T5RelativePositions: Sendable {
    /// `[numBuckets, numHeads]`, HF's `relative_attention_bias.weight`.
    public let table: [Float]
    public let numBuckets: Int
    public let maxDistance: Int
    public let heads: Int
    public let bidirectional: Bool

    public init(table: [Float], numBuckets: Int, maxDistance: Int, heads: Int, bidirectional: Bool) {
        self.table = table
        self.numBuckets = numBuckets
        self.maxDistance = maxDistance
        self.heads = heads
        self.bidirectional = bidirectional
    }

    /// The bucket of `relative = key − query`, as transformers' `_relative_position_bucket` computes it
    /// (the logarithmic part in float32, truncated toward zero, like its tensor arithmetic).
    public static func bucket(_ relative: Int, bidirectional: Bool, numBuckets: Int, maxDistance: Int) -> Int {
        var buckets = numBuckets
        var result = 0
        var distance: Int
        if bidirectional {
            buckets /= 2
            if relative > 0 { result += buckets }
            distance = abs(relative)
        } else {
            distance = -min(relative, 0)
        }
        let maxExact = buckets / 2
        if distance < maxExact { return result + distance }
        let ratio = logf(Float(distance) / Float(maxExact)) / Float(log(Double(maxDistance) / Double(maxExact)))
        let large = maxExact + Int(ratio * Float(buckets - maxExact))
        return result + min(large, buckets - 1)
    }

    /// The bias of head `h` for one (query, key) pair.
    @inline(__always)
    func value(head h: Int, relative: Int) -> Float {
        table[Self.bucket(relative, bidirectional: bidirectional, numBuckets: numBuckets, maxDistance: maxDistance) * heads + h]
    }

    /// `[heads][queryLength][keyLength]` into `out` (the encoder: queries and keys at 0..<length).
    public func fill(queryLength: Int, keyLength: Int, into out: UnsafeMutablePointer<Float>) {
        // One bucket per distinct relative position, then a row copy per (head, query).
        let span = queryLength + keyLength - 1
        var byRelative = [Float](repeating: 0, count: heads * span)
        for index in 0..<span {
            let relative = index - (queryLength - 1)
            for h in 0..<heads { byRelative[h * span + index] = value(head: h, relative: relative) }
        }
        byRelative.withUnsafeBufferPointer { rel in
            for h in 0..<heads {
                for i in 0..<queryLength {
                    // relative = j − i  ⇒  index = j − i + queryLength − 1
                    let start = rel.baseAddress! + h * span + (queryLength - 1 - i)
                    (out + (h * queryLength + i) * keyLength).update(from: start, count: keyLength)
                }
            }
        }
    }

    /// The decoder's bias for the query at `position` against keys `0...position`: `[heads][capacity]`,
    /// the first `position + 1` of each head's row written.
    public func fillStep(position: Int, capacity: Int, into out: UnsafeMutablePointer<Float>) {
        for h in 0..<heads {
            for j in 0...position { out[h * capacity + j] = value(head: h, relative: j - position) }
        }
    }
}
