/// ‖a − b‖ / ‖b‖ over two equally long vectors: how far a reduced-precision result is from float32's.
public func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    var diff: Float = 0, norm: Float = 0
    for (x, y) in zip(a, b) { diff += (x - y) * (x - y); norm += y * y }
    return (diff / max(norm, .leastNormalMagnitude)).squareRoot()
}
