@testable import T5

extension T5Weights {
    /// Every projection and the head, in a fixed order (the precision tests check each one's storage).
    var projections: [T5Linear] {
        var all = [lmHead]
        for layer in encoderLayers {
            let a = layer.selfAttention
            all += [a.q, a.k, a.v, a.o, layer.feedForward.wi, layer.feedForward.wo] + [layer.feedForward.gate].compactMap { $0 }
        }
        for layer in decoderLayers {
            for a in [layer.selfAttention, layer.crossAttention] { all += [a.q, a.k, a.v, a.o] }
            all += [layer.feedForward.wi, layer.feedForward.wo] + [layer.feedForward.gate].compactMap { $0 }
        }
        return all
    }
}
