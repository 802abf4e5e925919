import Foundation
import TensorKernels

extension BartModel {
    /// Projects the encoder output to the pointer's keys, once per request (padded positions stay zero).
    func computePointerKeys(_ pointer: BartPointerWeights, _ encoder: EncoderOutput, state s: DecoderState) {
        let d = config.dModel
        timed(.crossKeysValues) {
            encoder.hidden.withUnsafeBufferPointer { hidden in
                for item in 0..<encoder.batch {
                    let own = encoder.lengths[item]
                    let keys = s.pointerKeys.pointer + item * s.encoderCapacity * d
                    pointer.key.apply(hidden.baseAddress! + item * encoder.length * d, rows: own, into: keys)
                    (keys + own * d).update(repeating: 0, count: (s.encoderCapacity - own) * d)
                }
            }
        }
    }

    /// Turns each row's logits into the log of a copying model's mixture, in place (COPYING.md):
    ///
    ///     a_j  = softmax_j( copy_query(h) · copy_key(e_j) / sqrt(d_model) )   over unpadded positions
    ///     (g_gen, g_copy, g_twin) = softmax(copy_gate(h))
    ///     p(w) = g_gen · softmax(logits)_w + g_copy · Σ_{j : x_j = w} a_j + g_twin · Σ_{j : twin(x_j) = w} a_j
    ///     out  = log(max(p(w), FLT_MIN))
    ///
    /// `h` is the row's final decoder state, `e` the encoder output and `x` the input ids of the row's item.
    /// Greedy picks, beam scores (log-softmax leaves log probabilities unchanged), sampling and the logits
    /// processors then work on the result as on logits. Allocates nothing.
    func mixCopies(_ pointer: BartPointerWeights, state s: DecoderState) {
        let d = config.dModel
        let v = config.vocabSize
        let capacity = s.encoderCapacity
        let scale = 1 / Float(d).squareRoot()
        timed(.copyMixture) {
            pointer.query.apply(s.hidden.pointer, rows: s.rows, into: s.pointerQuery.pointer)
            pointer.gate.apply(s.hidden.pointer, rows: s.rows, into: s.pointerGates.pointer)
            for r in 0..<s.rows {
                let g = s.pointerGates.pointer + r * 3
                Softmax.apply(g, count: 3)
                let item = s.rowItems[r]
                let ids = s.crossTokens + item * capacity, twins = s.crossTwins + item * capacity
                let mask = s.crossMask + item * capacity
                let keys = s.pointerKeys.pointer + item * capacity * d
                let q = s.pointerQuery.pointer + r * d
                let a = s.pointerAttention.pointer + r * capacity
                for j in 0..<s.encoderLength {
                    a[j] = mask[j] == 0 ? -.infinity : VectorMath.dot(q, keys + j * d, count: d) * scale
                }
                Softmax.apply(a, count: s.encoderLength)
                let p = s.logits.pointer + r * v
                Softmax.apply(p, count: v)
                VectorMath.scale(p, by: g[0], count: v)
                for j in 0..<s.encoderLength where mask[j] != 0 {
                    p[ids[j]] += g[1] * a[j]
                    p[twins[j]] += g[2] * a[j]
                }
                for k in 0..<v { p[k] = Foundation.log(Swift.max(p[k], Float.leastNormalMagnitude)) }
            }
        }
    }
}
