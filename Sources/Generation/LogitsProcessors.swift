import TensorKernels

/// HF's logits processors that Prism uses, applied in `generate`'s order to one row of scores:
/// no-repeat n-gram, min length, min new tokens, forced BOS, forced EOS; with entity constraints
/// (`EntityConstraints`), those come first and replace no-repeat n-gram inside a span.
///
/// `history` is the row's decoder ids so far (start token included) and `length` their count, as
/// `input_ids` of HF's processors.
struct LogitsProcessors {
    let noRepeatNgramSize: Int
    let minLength: Int
    let minNewTokens: Int
    let forcedBOS: Int?
    let forcedEOS: Int?
    let maxLength: Int
    let eos: Int?

    init(_ c: GenerationConfig) {
        noRepeatNgramSize = c.noRepeatNgramSize
        minLength = c.minLength
        minNewTokens = c.minNewTokens
        forcedBOS = c.forcedBOSTokenId
        forcedEOS = c.forcedEOSTokenId
        maxLength = c.effectiveMaxLength
        eos = c.eosTokenId
    }

    func apply(_ scores: UnsafeMutablePointer<Float>, vocab: Int, history: UnsafePointer<Int>, length: Int,
               constraints: EntityConstraints? = nil) {
        let inSpan = constraints?.apply(scores, vocab: vocab, history: history, length: length, eos: eos) ?? false
        let n = noRepeatNgramSize
        if n > 0 && length >= n && !inSpan {
            // Ban the last token of every earlier n-gram whose first n-1 tokens equal the last n-1 tokens.
            let prefixStart = length + 1 - n
            for start in 0...(length - n) {
                var matches = true
                for j in 0..<(n - 1) where history[start + j] != history[prefixStart + j] {
                    matches = false
                    break
                }
                if matches {
                    let banned = history[start + n - 1]
                    if banned >= 0 && banned < vocab { scores[banned] = -.infinity }
                }
            }
        }
        if let eos {
            if minLength > 0 && length < minLength { scores[eos] = -.infinity }
            if minNewTokens > 0 && length - 1 < minNewTokens { scores[eos] = -.infinity }
        }
        if let bos = forcedBOS, length == 1 {
            for i in 0..<vocab { scores[i] = -.infinity }
            scores[bos] = 0
        }
        if let forced = forcedEOS, length == maxLength - 1 {
            for i in 0..<vocab { scores[i] = -.infinity }
            scores[forced] = 0
        }
    }
}

/// Index of the largest score; the first one on ties (as `torch.argmax`).
func argmax(_ scores: UnsafePointer<Float>, count: Int) -> Int {
    VectorMath.argmax(scores, count: count)
}
