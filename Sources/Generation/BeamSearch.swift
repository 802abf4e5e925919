#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Seq2Seq
import TensorKernels

/// Beam search with the semantics of `transformers`' `_beam_search` (v5), per batch item:
///
/// - running beams start as `[start]` with scores `[0, -1e9, ...]`; finished slots start at `-1e9`;
/// - each step: `log_softmax`, processors, add the running score, keep the top `2·numBeams` candidates
///   over all beams (ties: lower flat index first);
/// - a candidate "hits" when its token is EOS or the length reaches `maxLength`;
/// - next running beams: the top `numBeams` candidates after adding `-1e9` to hits;
/// - finished slots: candidates among the first `numBeams` that hit, scored
///   `sum_logprobs / generated_length ^ length_penalty`, merged with the existing slots (top `numBeams`);
///   blocked once the item is done (all slots finished with `early_stopping=true`, or the heuristic says no
///   running beam can improve);
/// - the heuristic compares the best running score over `(cur_len − 1)` (or `max_length − 1` for
///   `"never"` with a positive penalty) raised to the penalty, against the worst finished score;
/// - the loop ends when no item can improve, or all slots are finished with `early_stopping=true`, or
///   every candidate hit a stopping condition.
///
/// Scores are kept in `Float` like PyTorch's float32 tensors, so the `-1e9` sentinels round the same way.
struct BeamSearch<Model: Seq2SeqModel> {
    let model: Model
    let config: GenerationConfig
    let batch: Int
    let beams: Int
    let candidates: Int
    let vocab: Int
    let maxLength: Int
    let processors: LogitsProcessors
    /// Per batch item (nil: unconstrained).
    let constraints: [EntityConstraints?]

    // Running beams: [batch·beams][maxLength] (+ spare for reordering), scores [batch·beams].
    var running: [Int]
    var spareRunning: [Int]
    var runningScores: [Float]
    // Finished slots: [batch·beams][maxLength], scores, flags, lengths (+ spares for merging).
    var finished: [Int]
    var spareFinished: [Int]
    var finishedScores: [Float]
    var finishedFlags: [Bool]
    var finishedLengths: [Int]
    var spareScores: [Float]
    var spareFlags: [Bool]
    var spareLengths: [Int]
    var unsatisfied: [Bool]
    // Per-step candidate scratch for one item.
    var candidateScores: [Float]
    var candidateRows: [Int]
    var candidateTokens: [Int]
    var candidateHits: [Bool]
    var candidateFinal: [Float]
    var feed: [Int]
    var sources: [Int]

    init(model: Model, config: GenerationConfig, batch: Int, constraints: [EntityConstraints?] = []) {
        self.constraints = constraints.count == batch ? constraints : [EntityConstraints?](repeating: nil, count: batch)
        self.model = model
        self.config = config
        self.batch = batch
        beams = config.numBeams
        candidates = 2 * config.numBeams
        vocab = model.vocabSize
        maxLength = config.effectiveMaxLength
        processors = LogitsProcessors(config)
        let rows = batch * beams
        running = [Int](repeating: config.padTokenId, count: rows * maxLength)
        spareRunning = running
        runningScores = [Float](repeating: 0, count: rows)
        finished = running
        spareFinished = running
        finishedScores = [Float](repeating: -1e9, count: rows)
        finishedFlags = [Bool](repeating: false, count: rows)
        finishedLengths = [Int](repeating: 0, count: rows)
        spareScores = finishedScores
        spareFlags = finishedFlags
        spareLengths = finishedLengths
        unsatisfied = [Bool](repeating: true, count: batch)
        candidateScores = [Float](repeating: 0, count: candidates)
        candidateRows = [Int](repeating: 0, count: candidates)
        candidateTokens = [Int](repeating: 0, count: candidates)
        candidateHits = [Bool](repeating: false, count: candidates)
        candidateFinal = [Float](repeating: 0, count: candidates)
        feed = [Int](repeating: config.decoderStartTokenId, count: rows)
        sources = [Int](repeating: 0, count: rows)
        for r in 0..<rows {
            running[r * maxLength] = config.decoderStartTokenId
            runningScores[r] = r % beams == 0 ? 0 : -1e9
        }
    }

    /// Per item, its hypotheses best first (the first is what `generate` returns).
    mutating func run(_ encoder: EncoderOutput) throws -> [[GenerationResult]] {
        try model.beginDecoding(encoder, rowsPerItem: beams, maxSteps: maxLength - 1)
        let rows = batch * beams
        let penalty = config.lengthPenalty
        var length = 1
        var proceed = true
        while proceed {
            let logits = try feed.withUnsafeBufferPointer { try model.decodeStep($0) }
            running.withUnsafeBufferPointer { history in
                for r in 0..<rows {
                    let scores = logits + r * vocab
                    Softmax.applyLog(scores, count: vocab)
                    processors.apply(scores, vocab: vocab, history: history.baseAddress! + r * maxLength, length: length,
                                     constraints: constraints[r / beams])
                }
            }
            var allHit = true
            let lengthScale = Float(pow(Double(length), penalty))
            for b in 0..<batch {
                selectCandidates(item: b, logits: logits, length: length)
                for k in 0..<candidates {
                    let hit = candidateTokens[k] == config.eosTokenId || length + 1 >= maxLength
                    candidateHits[k] = hit
                    if !hit { allHit = false }
                }
                advanceRunning(item: b, length: length)
                updateFinished(item: b, length: length, lengthScale: lengthScale)
            }
            try sources.withUnsafeBufferPointer { try model.reorderRows($0) }
            swap(&running, &spareRunning)
            length += 1
            for r in 0..<rows { feed[r] = running[r * maxLength + length - 1] }
            updateHeuristic(length: length)
            let allFinished = !finishedFlags.contains(false)
            proceed = unsatisfied.contains(true) && !(allFinished && config.earlyStopping == .stopEarly) && !allHit
        }
        return (0..<batch).map { b in hypotheses(item: b, length: length, coldStart: encoder.coldStart[b]) }
    }

    /// Item `b`'s finished hypotheses, best first (HF `num_return_sequences = num_beams`); the running
    /// beams, best first, when none finished.
    private func hypotheses(item b: Int, length: Int, coldStart: Bool) -> [GenerationResult] {
        let first = b * beams
        let done = (first..<(first + beams)).filter { finishedFlags[$0] }
        if !done.isEmpty {
            return done.map { slot in
                let base = slot * maxLength
                return GenerationResult(tokens: Array(finished[base..<(base + finishedLengths[slot])]), score: finishedScores[slot],
                                        coldStart: coldStart)
            }
        }
        return (first..<(first + beams)).map { row in
            GenerationResult(tokens: Array(running[(row * maxLength)..<(row * maxLength + length)]), score: runningScores[row],
                             coldStart: coldStart)
        }
    }

    /// Top `2·beams` of `logprob + running score` over all beams of item `b`, sorted descending; ties keep
    /// the lower flat index (beam-major, then token) first.
    private mutating func selectCandidates(item b: Int, logits: UnsafeMutablePointer<Float>, length: Int) {
        var count = 0
        let k = candidates
        for j in 0..<beams {
            let row = b * beams + j
            let base = runningScores[row]
            let scores = logits + row * vocab
            for t in 0..<vocab {
                let s = scores[t] + base
                if count == k && !(s > candidateScores[k - 1]) { continue }
                var p = min(count, k - 1)
                while p > 0 && candidateScores[p - 1] < s {
                    if p < k {
                        candidateScores[p] = candidateScores[p - 1]
                        candidateRows[p] = candidateRows[p - 1]
                        candidateTokens[p] = candidateTokens[p - 1]
                    }
                    p -= 1
                }
                candidateScores[p] = s
                candidateRows[p] = row
                candidateTokens[p] = t
                if count < k { count += 1 }
            }
        }
    }

    /// The next running beams of item `b`: the best `beams` candidates after pushing hits down by 1e9.
    private mutating func advanceRunning(item b: Int, length: Int) {
        for k in 0..<candidates {
            candidateFinal[k] = candidateScores[k] + (candidateHits[k] ? -1e9 : 0)
        }
        var taken: UInt64 = 0
        for i in 0..<beams {
            // The i-th best untaken candidate; the first index wins ties.
            var best = -1
            for k in 0..<candidates where taken & (1 << UInt64(k)) == 0 {
                if best < 0 || candidateFinal[k] > candidateFinal[best] { best = k }
            }
            taken |= 1 << UInt64(best)
            let row = b * beams + i
            let src = candidateRows[best]
            for p in 0..<length { spareRunning[row * maxLength + p] = running[src * maxLength + p] }
            spareRunning[row * maxLength + length] = candidateTokens[best]
            for p in (length + 1)..<maxLength { spareRunning[row * maxLength + p] = config.padTokenId }
            runningScores[row] = candidateFinal[best]
            sources[row] = src
        }
    }

    /// Merges candidates that just finished into item `b`'s finished slots.
    private mutating func updateFinished(item b: Int, length: Int, lengthScale: Float) {
        let first = b * beams
        var full = true
        for s in first..<(first + beams) where !finishedFlags[s] { full = false }
        for k in 0..<candidates {
            var s = candidateScores[k] / lengthScale
            if full && config.earlyStopping == .stopEarly { s += -1e9 }
            if !unsatisfied[b] { s += -1e9 }
            if !(candidateHits[k] && k < beams) { s += -1e9 }
            candidateFinal[k] = s
        }
        // Merge: existing slots (indices 0..<beams) then candidates (beams..<3·beams); top `beams`, stable.
        var usedSlots: UInt64 = 0
        var usedCandidates: UInt64 = 0
        for i in 0..<beams {
            var bestIndex = -1
            var bestScore = -Float.infinity
            for j in 0..<beams where usedSlots & (1 << UInt64(j)) == 0 {
                let v = finishedScores[first + j]
                if bestIndex < 0 || v > bestScore {
                    bestIndex = j
                    bestScore = v
                }
            }
            for k in 0..<candidates where usedCandidates & (1 << UInt64(k)) == 0 {
                let v = candidateFinal[k]
                if bestIndex < 0 || v > bestScore {
                    bestIndex = beams + k
                    bestScore = v
                }
            }
            let slot = first + i
            let dst = slot * maxLength
            if bestIndex < beams {
                usedSlots |= 1 << UInt64(bestIndex)
                let from = first + bestIndex
                for p in 0..<maxLength { spareFinished[dst + p] = finished[from * maxLength + p] }
                spareScores[slot] = finishedScores[from]
                spareFlags[slot] = finishedFlags[from]
                spareLengths[slot] = finishedLengths[from]
            } else {
                let k = bestIndex - beams
                usedCandidates |= 1 << UInt64(k)
                let src = candidateRows[k]
                for p in 0..<length { spareFinished[dst + p] = running[src * maxLength + p] }
                spareFinished[dst + length] = candidateTokens[k]
                for p in (length + 1)..<maxLength { spareFinished[dst + p] = config.padTokenId }
                spareScores[slot] = candidateFinal[k]
                spareFlags[slot] = candidateHits[k] && k < beams
                spareLengths[slot] = length + 1
            }
        }
        for i in first..<(first + beams) {
            for p in 0..<maxLength { finished[i * maxLength + p] = spareFinished[i * maxLength + p] }
            finishedScores[i] = spareScores[i]
            finishedFlags[i] = spareFlags[i]
            finishedLengths[i] = spareLengths[i]
        }
    }

    /// HF's early-stop heuristic, sticky per item: can the best running beam still beat the worst finished?
    private mutating func updateHeuristic(length: Int) {
        let penalty = config.lengthPenalty
        let hypothetical = config.earlyStopping == .never && penalty > 0 ? maxLength - 1 : length - 1
        let scale = Float(pow(Double(hypothetical), penalty))
        for b in 0..<batch where unsatisfied[b] {
            let first = b * beams
            let best = runningScores[first] / scale
            var worst = Float.infinity
            for s in first..<(first + beams) { worst = min(worst, finishedScores[s]) }
            var improvable = false
            for s in first..<(first + beams) {
                let w: Float = finishedFlags[s] ? worst : -1e9
                if best > w { improvable = true }
            }
            unsatisfied[b] = improvable
        }
    }
}
