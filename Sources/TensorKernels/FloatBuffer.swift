/// A fixed-size, zero-initialized block of `Float`s owned by one thread: scratch memory for kernels.
///
/// Allocated once and reused, so hot loops never allocate. Not thread-safe: a buffer belongs to the
/// model (and thread) that created it.
public final class FloatBuffer {
    /// Number of elements.
    public let count: Int
    /// The storage; valid for the lifetime of the buffer.
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` floats, all zero.
    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// A copy of the first `n` elements (for tests and results, not hot loops).
    public func array(_ n: Int? = nil) -> [Float] {
        Array(UnsafeBufferPointer(start: pointer, count: n ?? count))
    }
}
