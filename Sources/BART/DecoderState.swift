import TensorKernels

/// Preallocated decoder memory: self-attention KV cache, cross-attention keys/values and step scratch.
///
/// Layouts (row = one decoded sequence, item = one encoder sequence):
/// - self keys/values per layer: `[rowCapacity][heads][stepCapacity][headDim]`
/// - cross keys/values per layer: `[itemCapacity][encoderCapacity][heads · headDim]` (the projection output;
///   float32, or binary16 for an int8 model: `CrossKeysValues`)
/// Reused across requests while large enough; grown (outside the decode loop) otherwise.
final class DecoderState {
    let rowCapacity: Int
    let itemCapacity: Int
    let stepCapacity: Int
    let encoderCapacity: Int
    let withReorder: Bool

    var selfKeys: [FloatBuffer]
    var selfValues: [FloatBuffer]
    var spareKeys: [FloatBuffer]
    var spareValues: [FloatBuffer]
    let cross: CrossKeysValues
    let crossMask: UnsafeMutablePointer<UInt8>
    /// The encoder sequence each row attends to (`r / rowsPerItem` until `retainRows` drops rows).
    let rowItems: UnsafeMutablePointer<Int>

    let hidden, residual, q, k, v, attention, ffn, logits: FloatBuffer
    /// Attention scores: one `scoresPerPart` slice per thread that may split a step's rows.
    let scores: FloatBuffer
    let scoresPerPart: Int
    /// Threads the scores were sized for.
    let threadCapacity: Int

    // The current session.
    var rows = 0
    var rowsPerItem = 1
    var encoderLength = 0
    var position = 0
    /// Threads for the kernels Prism splits itself (BLAS's count when the session began).
    var threads = 1
    /// Per row, ‖hidden‖₁ of the last screened step (see `ScreenedArgmax`).
    let screenNorms: UnsafeMutablePointer<Float>
    /// A copying model's pointer (empty otherwise): input ids, their twins and pointer keys per item,
    /// `[itemCapacity][encoderCapacity]` (twice) and `[itemCapacity][encoderCapacity][d_model]`; per row, the
    /// query `[rowCapacity][d_model]`, gates `[rowCapacity][3]` and attention `[rowCapacity][encoderCapacity]`
    /// of the current step.
    let crossTokens, crossTwins: UnsafeMutablePointer<Int>
    let pointerKeys, pointerQuery, pointerGates, pointerAttention: FloatBuffer

    init(
        rowCapacity: Int, itemCapacity: Int, stepCapacity: Int, encoderCapacity: Int, withReorder: Bool,
        threads: Int, halfCrossAttention: Bool, config c: BartConfig
    ) {
        self.rowCapacity = rowCapacity
        self.itemCapacity = itemCapacity
        self.stepCapacity = stepCapacity
        self.encoderCapacity = encoderCapacity
        self.withReorder = withReorder
        let d = c.dModel
        let layers = c.decoderLayers
        let selfSize = rowCapacity * stepCapacity * d
        let crossSize = itemCapacity * encoderCapacity * d
        selfKeys = (0..<layers).map { _ in FloatBuffer(count: selfSize) }
        selfValues = (0..<layers).map { _ in FloatBuffer(count: selfSize) }
        spareKeys = withReorder ? (0..<layers).map { _ in FloatBuffer(count: selfSize) } : []
        spareValues = withReorder ? (0..<layers).map { _ in FloatBuffer(count: selfSize) } : []
        cross = CrossKeysValues(layers: layers, count: crossSize, half: halfCrossAttention, scratchCount: encoderCapacity * d,
                                threads: threads)
        crossMask = .allocate(capacity: itemCapacity * encoderCapacity)
        crossMask.initialize(repeating: 0, count: itemCapacity * encoderCapacity)
        rowItems = .allocate(capacity: rowCapacity)
        rowItems.initialize(repeating: 0, count: rowCapacity)
        screenNorms = .allocate(capacity: rowCapacity)
        screenNorms.initialize(repeating: 0, count: rowCapacity)
        let copyItems = c.copying ? itemCapacity * encoderCapacity : 0
        crossTokens = .allocate(capacity: max(copyItems, 1))
        crossTokens.initialize(repeating: 0, count: max(copyItems, 1))
        crossTwins = .allocate(capacity: max(copyItems, 1))
        crossTwins.initialize(repeating: 0, count: max(copyItems, 1))
        pointerKeys = FloatBuffer(count: copyItems * d)
        pointerQuery = FloatBuffer(count: c.copying ? rowCapacity * d : 0)
        pointerGates = FloatBuffer(count: c.copying ? rowCapacity * 3 : 0)
        pointerAttention = FloatBuffer(count: c.copying ? rowCapacity * encoderCapacity : 0)
        hidden = FloatBuffer(count: rowCapacity * d)
        residual = FloatBuffer(count: rowCapacity * d)
        q = FloatBuffer(count: rowCapacity * d)
        k = FloatBuffer(count: rowCapacity * d)
        v = FloatBuffer(count: rowCapacity * d)
        attention = FloatBuffer(count: rowCapacity * d)
        ffn = FloatBuffer(count: rowCapacity * c.decoderFFNDim)
        threadCapacity = max(1, threads)
        scoresPerPart = max(c.encoderAttentionHeads, c.decoderAttentionHeads) * max(stepCapacity, encoderCapacity)
        scores = FloatBuffer(count: threadCapacity * scoresPerPart)
        logits = FloatBuffer(count: rowCapacity * c.vocabSize)
    }

    deinit {
        crossMask.deallocate()
        rowItems.deallocate()
        screenNorms.deallocate()
        crossTokens.deallocate()
        crossTwins.deallocate()
    }

    func fits(rows: Int, items: Int, steps: Int, encoderLength: Int, reorder: Bool, threads: Int) -> Bool {
        rows <= rowCapacity && items <= itemCapacity && steps <= stepCapacity
            && encoderLength <= encoderCapacity && (!reorder || withReorder) && threads <= threadCapacity
    }
}
