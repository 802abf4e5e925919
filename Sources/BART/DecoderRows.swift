import TensorKernels

/// Moving decoder rows between steps: beam reordering, and dropping rows that finished.
extension BartModel {
    /// Beam reordering: afterwards row `r` holds the self-attention cache that row `source[r]` held.
    /// Rows must stay within their encoder item (`source[r] / rowsPerItem == r / rowsPerItem`).
    /// Allocates nothing (copies into the spare cache, then swaps).
    public func reorderRows(_ source: UnsafeBufferPointer<Int>) throws {
        guard let s = decoderState, source.count == s.rows else {
            throw BartError.invalidArgument("reorderRows needs one source row per row")
        }
        for r in 0..<s.rows where source[r] / s.rowsPerItem != r / s.rowsPerItem || source[r] < 0 {
            throw BartError.invalidArgument("row \(r) cannot take row \(source[r]) of another item")
        }
        var identity = true
        for r in 0..<s.rows where source[r] != r { identity = false }
        if identity { return }
        guard s.withReorder else { throw BartError.invalidArgument("decoding was begun without reordering") }
        let headStride = s.stepCapacity * headDim, used = s.position * headDim
        func copyRows(_ from: FloatBuffer, _ to: FloatBuffer) {
            for r in 0..<s.rows {
                CacheRows.copy(from: from.pointer, row: source[r], to: to.pointer, row: r, heads: heads, headStride: headStride, used: used)
            }
        }
        for l in 0..<config.decoderLayers {
            copyRows(s.selfKeys[l], s.spareKeys[l])
            copyRows(s.selfValues[l], s.spareValues[l])
            swap(&s.selfKeys[l], &s.spareKeys[l])
            swap(&s.selfValues[l], &s.spareValues[l])
        }
    }

    /// Keeps only rows `keep` (ascending indices) of a session with one row per item (greedy or sampling):
    /// afterwards row `i` holds the self-attention cache of former row `keep[i]` and attends to its encoder
    /// sequence, and `decodeStep` takes `keep.count` tokens. Rows that finished (EOS) stop costing decode
    /// work; a kept row computes what it would have (up to the float rounding of the matrix kernel picked
    /// for the new row count: gemv for one row, `SkinnyGEMM` up to 16, sgemm beyond). Allocates nothing.
    public func retainRows(_ keep: UnsafeBufferPointer<Int>) throws {
        guard let s = decoderState else { throw BartError.invalidArgument("retainRows needs beginDecoding") }
        guard s.rowsPerItem == 1 else {
            throw BartError.invalidArgument("retainRows is for one row per item (beam search reorders instead)")
        }
        guard !keep.isEmpty else { throw BartError.invalidArgument("retainRows needs at least one row") }
        for i in 0..<keep.count where keep[i] < 0 || keep[i] >= s.rows || (i > 0 && keep[i] <= keep[i - 1]) {
            throw BartError.invalidArgument("retainRows takes ascending rows below \(s.rows), got \(keep[i]) at \(i)")
        }
        let headStride = s.stepCapacity * headDim, used = s.position * headDim
        // keep[i] ≥ i and ascending: copying forward never overwrites a row still to be read.
        func move(_ cache: FloatBuffer, from source: Int, to row: Int) {
            CacheRows.copy(from: cache.pointer, row: source, to: cache.pointer, row: row, heads: heads, headStride: headStride, used: used)
        }
        for i in 0..<keep.count where keep[i] != i {
            for l in 0..<config.decoderLayers {
                move(s.selfKeys[l], from: keep[i], to: i)
                move(s.selfValues[l], from: keep[i], to: i)
            }
            s.rowItems[i] = s.rowItems[keep[i]]
        }
        s.rows = keep.count
    }
}
