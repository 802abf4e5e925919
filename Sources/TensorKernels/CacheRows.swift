/// Moving one decoded row's self-attention cache: layout `[rows][heads][steps][headDim]`, where a head's
/// slice is `headStride = steps · headDim` floats and a row's is `heads · headStride`. Only the first
/// `used` floats of each head (the positions decoded so far) are copied. Beam reordering and dropping
/// finished rows (BART and T5 alike) are made of these copies.
public enum CacheRows {
    @inlinable
    public static func copy(from source: UnsafePointer<Float>, row sourceRow: Int, to destination: UnsafeMutablePointer<Float>,
                            row destinationRow: Int, heads: Int, headStride: Int, used: Int) {
        let rowStride = heads * headStride
        for h in 0..<heads {
            (destination + destinationRow * rowStride + h * headStride)
                .update(from: source + sourceRow * rowStride + h * headStride, count: used)
        }
    }
}
