/// Encoder hidden states for a right-padded batch.
public struct EncoderOutput: Sendable {
    /// Number of sequences.
    public let batch: Int
    /// Padded length (the longest sequence).
    public let length: Int
    /// Unpadded length of each sequence.
    public let lengths: [Int]
    /// `[batch, length, d_model]`; rows past a sequence's length are the (unused) padded positions.
    public let hidden: [Float]
    /// `[batch, length]`, 1 = real token, 0 = padding.
    public let mask: [UInt8]
    /// Per sequence: true when no user vector was found (unknown or missing user; zeros were added).
    public let coldStart: [Bool]
    public let dModel: Int
    /// `[batch, length]` input ids (padded positions hold the pad id), for models that copy from their
    /// input; empty when the model does not keep them.
    public let tokens: [Int]

    public init(batch: Int, length: Int, lengths: [Int], hidden: [Float], mask: [UInt8], coldStart: [Bool], dModel: Int,
                tokens: [Int] = []) {
        self.batch = batch
        self.length = length
        self.lengths = lengths
        self.hidden = hidden
        self.mask = mask
        self.coldStart = coldStart
        self.dModel = dModel
        self.tokens = tokens
    }

    /// The hidden state of sequence `b` at position `i`.
    public func state(_ b: Int, _ i: Int) -> ArraySlice<Float> {
        let start = (b * length + i) * dModel
        return hidden[start..<(start + dModel)]
    }
}
