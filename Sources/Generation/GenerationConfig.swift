import Seq2Seq

/// How to generate: the subset of HF's `GenerationConfig` that Prism uses, with HF's meanings.
///
/// Lengths count the decoder start token, as HF's `max_length`/`min_length` do for encoder–decoder models.
public struct GenerationConfig: Sendable, Equatable {
    /// Maximum total decoder length including the start token (HF `max_length`).
    public var maxLength: Int
    /// When set, overrides `maxLength` with `maxNewTokens + 1` (HF `max_new_tokens`).
    public var maxNewTokens: Int?
    /// EOS is banned while the decoder length (with the start token) is below this (HF `min_length`).
    public var minLength: Int = 0
    /// EOS is banned until this many tokens were generated (HF `min_new_tokens`).
    public var minNewTokens: Int = 0
    /// 1 = greedy or sampling; > 1 = beam search.
    public var numBeams: Int = 1
    /// Beam hypotheses are scored `sum_logprobs / generated_length ^ lengthPenalty`.
    public var lengthPenalty: Double = 1.0
    public var earlyStopping: EarlyStopping = .heuristic
    /// Ban any n-gram of this size from occurring twice (0 = off).
    public var noRepeatNgramSize: Int = 0
    /// Sample instead of taking the argmax (greedy only; not combined with beams).
    public var doSample: Bool = false
    public var temperature: Float = 1.0
    /// Keep only the `topK` highest scores before sampling (0 = off).
    public var topK: Int = 0
    /// Nucleus sampling threshold (1 = off).
    public var topP: Float = 1.0
    /// Seed of request `i`'s sampler is `seed + i` unless the request carries its own seed.
    public var seed: UInt64 = 0
    public var forcedBOSTokenId: Int?
    public var forcedEOSTokenId: Int?
    /// `nil` = never stop on a token (only at `maxLength`).
    public var eosTokenId: Int?
    public var padTokenId: Int
    public var decoderStartTokenId: Int

    /// The model's defaults: special ids from its config, generation settings from
    /// `config.json`/`generation_config.json`.
    public init(model config: some Seq2SeqConfiguration) {
        self.init(tokens: config.decoderTokens, defaults: config.generationDefaults)
    }

    public init(tokens: DecoderTokens, defaults g: GenerationDefaults) {
        maxLength = g.maxLength
        minLength = g.minLength
        numBeams = g.numBeams
        lengthPenalty = g.lengthPenalty
        earlyStopping = g.earlyStopping
        noRepeatNgramSize = g.noRepeatNgramSize
        forcedBOSTokenId = tokens.forcedBOSTokenId
        forcedEOSTokenId = tokens.forcedEOSTokenId
        eosTokenId = tokens.eosTokenId
        padTokenId = tokens.padTokenId
        decoderStartTokenId = tokens.decoderStartTokenId
    }

    /// The effective maximum decoder length (start token included).
    public var effectiveMaxLength: Int { maxNewTokens.map { $0 + 1 } ?? maxLength }

    func validate(vocabSize: Int) throws {
        func bad(_ s: String) -> GenerationError { .invalidConfig(s) }
        if numBeams < 1 || numBeams > 32 { throw bad("numBeams must be in 1...32") }
        if doSample && numBeams > 1 { throw bad("sampling with beams is not supported") }
        if doSample && !(temperature > 0) { throw bad("temperature must be > 0") }
        if topK < 0 { throw bad("topK must be ≥ 0") }
        if !(topP > 0 && topP <= 1) { throw bad("topP must be in (0, 1]") }
        if noRepeatNgramSize < 0 { throw bad("noRepeatNgramSize must be ≥ 0") }
        if let m = maxNewTokens, m < 0 { throw bad("maxNewTokens must be ≥ 0") }
        if numBeams > 1 && eosTokenId == nil { throw bad("beam search needs an eos token id") }
        for case let id? in [forcedBOSTokenId, forcedEOSTokenId, eosTokenId, Optional(padTokenId), Optional(decoderStartTokenId)]
        where id < 0 || id >= vocabSize {
            throw GenerationError.tokenOutOfRange(id: id, vocabSize: vocabSize)
        }
    }
}

/// One request: encoder token ids and the Prism user it is for.
public struct GenerationRequest: Sendable, Equatable {
    public var inputIds: [Int]
    /// External user id; `nil` or unknown → cold start (zero user vector).
    public var userId: String?
    /// Overrides the sampler seed for this request.
    public var seed: UInt64?
    /// Marked entity spans decode under these tries (nil: unconstrained).
    public var constraints: EntityConstraints?

    public init(inputIds: [Int], userId: String? = nil, seed: UInt64? = nil, constraints: EntityConstraints? = nil) {
        self.inputIds = inputIds
        self.userId = userId
        self.seed = seed
        self.constraints = constraints
    }
}

/// One generated sequence.
public struct GenerationResult: Sendable, Equatable {
    /// Decoder ids as HF returns them: the decoder start token first, ending with EOS when one was generated
    /// (no padding).
    public var tokens: [Int]
    /// Beam search: the length-penalized log-probability score of the sequence (HF `sequences_scores`).
    public var score: Float?
    /// True when the request's user had no vector (unknown or missing user).
    public var coldStart: Bool

    /// The tokens after the decoder start token.
    public var generatedTokens: ArraySlice<Int> { tokens.dropFirst() }
}
