import Dispatch

/// Fork–join helpers for the kernels that OpenBLAS does not thread for us (softmax, GELU, attention
/// over heads, the int8 screen). Work is split into `parts` contiguous pieces run on GCD's worker
/// threads — never Swift's cooperative pool — and the call returns when every piece is done.
public enum Parallel {
    /// Runs `body` on the `parts` contiguous ranges that split `0..<count`, at once when `parts > 1`.
    /// Each piece must write only memory that belongs to its own range.
    @inlinable
    public static func forEachRange(count: Int, parts requested: Int, _ body: (Range<Int>) -> Void) {
        forEachPart(count: count, parts: requested) { _, range in body(range) }
    }

    /// Like `forEachRange`, but two parts run on this thread and `SpinningHelper`, which stays awake for a
    /// moment between back-to-back calls (more parts, or a helper held by another caller: GCD). For runs of
    /// short products with nothing else threaded in between — the int8 decoder step. Not for work
    /// interleaved with OpenBLAS calls: the spinning helper would take the core OpenBLAS's own thread needs
    /// (BART-base fp32, screen on the helper: decoder layers 11.8 → 12.9–15.3 ms per token).
    @inlinable
    public static func forEachRangeBackToBack(count: Int, parts requested: Int, _ body: (Range<Int>) -> Void) {
        let parts = max(1, min(requested, count))
        if parts == 2 {
            nonisolated(unsafe) let piece = body
            if SpinningHelper.shared.runTwo({ part in piece((count * part / 2)..<(count * (part + 1) / 2)) }) { return }
        }
        forEachRange(count: count, parts: parts, body)
    }

    /// Like `forEachRange`, also passing each piece its index in `0..<parts` (where `parts` is
    /// `min(requested, count)`, at least 1) — for pieces that each need their own scratch.
    @inlinable
    public static func forEachPart(count: Int, parts requested: Int, _ body: (Int, Range<Int>) -> Void) {
        let parts = max(1, min(requested, count))
        if parts == 1 {
            body(0, 0..<count)
            return
        }
        // The pieces touch disjoint memory and the call joins before returning (see above), which is
        // what makes sharing `body` across the pieces sound.
        nonisolated(unsafe) let piece = body
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            piece(part, (count * part / parts)..<(count * (part + 1) / parts))
        }
    }

    /// Runs `body` with OpenBLAS limited to one thread, then restores the previous count: for work that is
    /// itself split over threads and calls BLAS from each piece (OpenBLAS would otherwise queue both
    /// pieces' calls on its one pool). The setting is process-wide, like everything about OpenBLAS threads.
    @inlinable
    public static func withSingleThreadedBLAS<T>(_ body: () throws -> T) rethrows -> T {
        let previous = BLAS.threads
        if previous == 1 { return try body() }
        BLAS.setThreads(1)
        defer { BLAS.setThreads(previous) }
        return try body()
    }
}
