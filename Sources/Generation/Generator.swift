import BART
import TensorKernels

/// Generates explanations with a `BartModel`: greedy, seeded sampling or beam search, for one request or
/// a batch (encoder inputs right-padded and masked; every row decodes in lockstep).
///
/// Matches `transformers`' `generate` for BART: decoding starts from `decoder_start_token_id`, processors run
/// in HF's order (no-repeat n-gram, min length, min new tokens, forced BOS, forced EOS), finished rows are
/// padded, and beam search follows HF's finishing rules (see `BeamSearch`).
///
/// Like the model it wraps, a generator is **not thread-safe**: use it from the model's thread only.
public final class BartGenerator {
    public let model: BartModel

    public init(model: BartModel) {
        self.model = model
    }

    /// Default settings for this model (its config and generation config).
    public var defaultConfig: GenerationConfig { GenerationConfig(model: model.config) }

    /// Generates one sequence per request; results are in request order.
    public func generate(_ requests: [GenerationRequest], config: GenerationConfig) throws -> [GenerationResult] {
        if requests.isEmpty { return [] }
        try config.validate(vocabSize: model.config.vocabSize)
        let maxLength = config.effectiveMaxLength
        if maxLength - 1 > model.config.maxPositionEmbeddings {
            throw BartError.inputTooLong(length: maxLength - 1, maximum: model.config.maxPositionEmbeddings)
        }
        let encoder = try model.encode(requests.map(\.inputIds), users: requests.map(\.userId))
        if maxLength <= 1 {
            return encoder.coldStart.map {
                GenerationResult(tokens: [config.decoderStartTokenId], score: nil, coldStart: $0)
            }
        }
        if config.numBeams > 1 {
            var search = BeamSearch(model: model, config: config, batch: requests.count)
            return try search.run(encoder)
        }
        let seeds = requests.enumerated().map { i, r in r.seed ?? (config.seed &+ UInt64(i)) }
        return try greedyOrSample(encoder, config: config, seeds: seeds)
    }

    /// Generates for a single request.
    public func generate(_ request: GenerationRequest, config: GenerationConfig) throws -> GenerationResult {
        try generate([request], config: config)[0]
    }

    private func greedyOrSample(
        _ encoder: EncoderOutput, config: GenerationConfig, seeds: [UInt64]
    ) throws -> [GenerationResult] {
        let rows = encoder.batch
        let vocab = model.config.vocabSize
        let maxLength = config.effectiveMaxLength
        let processors = LogitsProcessors(config)
        let sampler = config.doSample ? Sampler(vocab: vocab, config: config) : nil
        var rngs = seeds.map { SeededGenerator(seed: $0) }
        try model.beginDecoding(encoder, rowsPerItem: 1, maxSteps: maxLength - 1)
        // One greedy row: exact argmax from an int8-screened output projection (see `ScreenedArgmax`).
        let screened = sampler == nil && rows == 1 && model.screenedGreedyArgmax
        if screened { model.prepareScreenedArgmax() }

        // All scratch for the loop is allocated here, once.
        var history = [Int](repeating: config.padTokenId, count: rows * maxLength)
        var lengths = [Int](repeating: 1, count: rows)
        var unfinished = [Bool](repeating: true, count: rows)
        var feed = [Int](repeating: config.decoderStartTokenId, count: rows)
        for r in 0..<rows { history[r * maxLength] = config.decoderStartTokenId }
        var length = 1
        var open = rows
        while length < maxLength && open > 0 {
            let logits = try feed.withUnsafeBufferPointer {
                try screened ? model.decodeStepScreened($0) : model.decodeStep($0)
            }
            let pickStart = model.profile == nil ? 0 : BartProfile.now()
            history.withUnsafeMutableBufferPointer { h in
                for r in 0..<rows {
                    var next = config.padTokenId
                    if unfinished[r] {
                        let scores = logits + r * vocab
                        processors.apply(scores, vocab: vocab, history: h.baseAddress! + r * maxLength, length: length)
                        if let sampler {
                            sampler.warp(scores)
                            next = sampler.draw(scores, using: &rngs[r])
                        } else {
                            next = screened ? model.screenedArgmax(scores) : argmax(scores, count: vocab)
                        }
                        lengths[r] = length + 1
                        if next == config.eosTokenId {
                            unfinished[r] = false
                            open -= 1
                        }
                    }
                    h[r * maxLength + length] = next
                    feed[r] = next
                }
            }
            model.profile?.add(.argmaxProcessors, BartProfile.now() &- pickStart)
            length += 1
        }
        return (0..<rows).map { r in
            GenerationResult(
                tokens: Array(history[(r * maxLength)..<(r * maxLength + lengths[r])]), score: nil,
                coldStart: encoder.coldStart[r])
        }
    }
}
