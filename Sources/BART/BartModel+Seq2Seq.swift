@_exported import Seq2Seq

/// BART as a `Seq2SeqModel` (the generation loop's view of it).
extension BartModel: Seq2SeqModel {
    public var vocabSize: Int { config.vocabSize }
    public var maxDecoderLength: Int? { config.maxPositionEmbeddings }
    /// A copying model's scores are a mixture, not the output projection's logits: it has no screened path.
    /// A model whose output projection is not float32 has no screen (its head already reads reduced
    /// weights): its greedy steps take the plain argmax of its own logits.
    public var screenedArgmaxRows: Int {
        screenedGreedyArgmax && !config.copying && weights.lmHead.precision == .fp32 ? Self.screenedMaxRows : 0
    }
    public var profilesPicking: Bool { profile != nil }
    public func recordPicking(nanoseconds: UInt64) { profile?.add(.argmaxProcessors, nanoseconds) }
}

extension BartConfig: Seq2SeqConfiguration {
    public var decoderTokens: DecoderTokens {
        DecoderTokens(padTokenId: padTokenId, eosTokenId: eosTokenId, decoderStartTokenId: decoderStartTokenId,
                      forcedBOSTokenId: forcedBOSTokenId, forcedEOSTokenId: forcedEOSTokenId)
    }
    public var generationDefaults: GenerationDefaults { generation }
}
