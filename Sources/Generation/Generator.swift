import Dispatch
import Seq2Seq
import TensorKernels

/// Generates with any `Seq2SeqModel` (BART, T5): greedy, seeded sampling or beam search, for one request or
/// a batch (encoder inputs right-padded and masked; unfinished rows decode in lockstep).
///
/// Matches `transformers`' `generate` for encoder–decoders: decoding starts from `decoder_start_token_id`, processors run
/// in HF's order (no-repeat n-gram, min length, min new tokens, forced BOS, forced EOS), finished rows are
/// padded, and beam search follows HF's finishing rules (see `BeamSearch`).
///
/// Like the model it wraps, a generator is **not thread-safe**: use it from the model's thread only.
public final class Seq2SeqGenerator<Model: Seq2SeqModel> {
    public let model: Model

    public init(model: Model) {
        self.model = model
    }

    /// Default settings for this model (its config and generation config).
    public var defaultConfig: GenerationConfig { GenerationConfig(model: model.config) }

    /// Generates one sequence per request; results are in request order.
    public func generate(_ requests: [GenerationRequest], config: GenerationConfig) throws -> [GenerationResult] {
        if requests.isEmpty { return [] }
        let encoder = try encode(requests, config: config)
        if config.effectiveMaxLength <= 1 { return encoder.coldStart.map { startOnly(config, coldStart: $0) } }
        if config.numBeams > 1 {
            var search = BeamSearch(model: model, config: config, batch: requests.count, constraints: requests.map(\.constraints))
            return try search.run(encoder).map { $0[0] }
        }
        let seeds = requests.enumerated().map { i, r in r.seed ?? (config.seed &+ UInt64(i)) }
        return try greedyOrSample(encoder, config: config, seeds: seeds, constraints: requests.map(\.constraints))
    }

    /// Beam search returning every hypothesis of each request, best first (`transformers`'
    /// `num_return_sequences = num_beams`): the finished ones, or the running beams when none finished.
    /// The first of each is what `generate` returns with the same config.
    public func generateBeams(_ requests: [GenerationRequest], config: GenerationConfig) throws -> [[GenerationResult]] {
        if requests.isEmpty { return [] }
        var config = config
        config.numBeams = max(2, config.numBeams)
        config.doSample = false
        let encoder = try encode(requests, config: config)
        if config.effectiveMaxLength <= 1 { return encoder.coldStart.map { [startOnly(config, coldStart: $0)] } }
        var search = BeamSearch(model: model, config: config, batch: requests.count, constraints: requests.map(\.constraints))
        return try search.run(encoder)
    }

    /// Validates the settings and encodes the batch.
    private func encode(_ requests: [GenerationRequest], config: GenerationConfig) throws -> EncoderOutput {
        try config.validate(vocabSize: model.vocabSize)
        let maxLength = config.effectiveMaxLength
        if let positions = model.maxDecoderLength, maxLength - 1 > positions {
            throw GenerationError.outputTooLong(length: maxLength - 1, maximum: positions)
        }
        return try model.encode(requests.map(\.inputIds), users: requests.map(\.userId))
    }

    /// The result of a zero-length generation: the decoder start token alone.
    private func startOnly(_ config: GenerationConfig, coldStart: Bool) -> GenerationResult {
        GenerationResult(tokens: [config.decoderStartTokenId], score: nil, coldStart: coldStart)
    }

    /// Generates for a single request.
    public func generate(_ request: GenerationRequest, config: GenerationConfig) throws -> GenerationResult {
        try generate([request], config: config)[0]
    }

    private func greedyOrSample(
        _ encoder: EncoderOutput, config: GenerationConfig, seeds: [UInt64], constraints: [EntityConstraints?]
    ) throws -> [GenerationResult] {
        let rows = encoder.batch
        let vocab = model.vocabSize
        let maxLength = config.effectiveMaxLength
        let processors = LogitsProcessors(config)
        let sampler = config.doSample ? Sampler(vocab: vocab, config: config) : nil
        var rngs = seeds.map { SeededGenerator(seed: $0) }
        try model.beginDecoding(encoder, rowsPerItem: 1, maxSteps: maxLength - 1)
        // Greedy rows pick their tokens through the int8-screened exact argmax (see `ScreenedArgmax`) while
        // there are at most `screenedMaxRows` of them (a large batch, until enough rows have finished).
        let screenedRows = sampler == nil ? model.screenedArgmaxRows : 0
        let timed = model.profilesPicking

        // All scratch for the loop is allocated here, once.
        var history = [Int](repeating: config.padTokenId, count: rows * maxLength)
        var lengths = [Int](repeating: 1, count: rows)
        // Decoder row i holds request active[i]; rows that finish are dropped (`retainRows`), so the batch
        // only pays for unfinished requests. Finished requests keep padding, as in HF.
        var active = Array(0..<rows)
        var keep = [Int](repeating: 0, count: rows)
        var feed = [Int](repeating: config.decoderStartTokenId, count: rows)
        for r in 0..<rows { history[r * maxLength] = config.decoderStartTokenId }
        var length = 1
        while length < maxLength && !active.isEmpty {
            let count = active.count
            let screened = count <= screenedRows
            if screened { model.prepareScreenedArgmax() }
            let logits = try feed.withUnsafeBufferPointer {
                let tokens = UnsafeBufferPointer(rebasing: $0[0..<count])
                return try screened ? model.decodeStepScreened(tokens) : model.decodeStep(tokens)
            }
            let pickStart = timed ? DispatchTime.now().uptimeNanoseconds : 0
            var kept = 0
            history.withUnsafeMutableBufferPointer { h in
                for i in 0..<count {
                    let r = active[i]
                    let scores = logits + i * vocab
                    processors.apply(scores, vocab: vocab, history: h.baseAddress! + r * maxLength, length: length,
                                     constraints: constraints[r])
                    let next: Int
                    if let sampler {
                        sampler.warp(scores)
                        next = sampler.draw(scores, using: &rngs[r])
                    } else {
                        next = screened ? model.screenedArgmax(scores, row: i) : argmax(scores, count: vocab)
                    }
                    h[r * maxLength + length] = next
                    lengths[r] = length + 1
                    feed[i] = next
                    if next != config.eosTokenId {
                        keep[kept] = i
                        kept += 1
                    }
                }
            }
            if timed { model.recordPicking(nanoseconds: DispatchTime.now().uptimeNanoseconds &- pickStart) }
            length += 1
            if kept < count && kept > 0 && length < maxLength {
                try keep.withUnsafeBufferPointer { try model.retainRows(UnsafeBufferPointer(rebasing: $0[0..<kept])) }
                for j in 0..<kept {
                    active[j] = active[keep[j]]
                    feed[j] = feed[keep[j]]
                }
            }
            active.removeLast(count - kept)
        }
        return (0..<rows).map { r in
            GenerationResult(
                tokens: Array(history[(r * maxLength)..<(r * maxLength + lengths[r])]), score: nil,
                coldStart: encoder.coldStart[r])
        }
    }
}
