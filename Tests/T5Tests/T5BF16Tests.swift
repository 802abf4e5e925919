import Foundation
import Generation
import PrismTestSupport
@testable import T5
import TensorKernels
import XCTest

/// T5 at bf16 against the same folders at float32 (widened): every projection and the head held as bf16
/// (v1.1's BF16 tensors as stored, bit for bit; v1.0's float32 ones rounded), half the float32 bytes,
/// encoder states and logits within bf16 rounding, and greedy tokens that are the argmax of the model's own
/// logits step by step.
final class T5BF16Tests: XCTestCase {
    func testProjectionsAreBF16AndStayNearFloat32() throws {
        for name in ["v1_0", "v1_1"] {
            let folder = T5ParityTests.root + "/" + name
            let m16 = try T5Model.load(folder: folder, precision: .bf16)
            let m32 = try T5Model.load(folder: folder, widenBF16: true)
            let stored = try T5Model.load(folder: folder)  // BF16 tensors kept as stored, float32 arithmetic
            for (held, kept) in zip(m16.weights.projections, stored.weights.projections) {
                guard case .reduced(let linear) = held, let rows = linear.bf16 else { return XCTFail("\(name): a projection is not bf16") }
                XCTAssertTrue(linear.weight.isEmpty, "\(name): no float32 copy is kept")
                // A BF16 tensor keeps its stored bits; a float32 one is rounded (widening gives bf16 values).
                switch kept {
                case .bfloat16(let b): XCTAssertEqual(withExtendedLifetime(rows) { Array(UnsafeBufferPointer(start: rows.values, count: rows.rows * rows.cols)) }, b.weight, name)
                case .float32(let f), .reduced(let f):
                    let reference = f.weight.withUnsafeBufferPointer { BF16Rows($0.baseAddress!, rows: f.outFeatures, cols: f.inFeatures) }
                    XCTAssertTrue(rows.hasSameValues(as: reference), name)
                }
            }
            let input = [5, 6, 7, 8, 9, 10, 11, 1]
            let encoderError = relativeError(try m16.encode([input]).hidden, try m32.encode([input]).hidden)
            XCTAssertGreaterThan(encoderError, 1e-6, "\(name): bf16 is not float32")
            // These tiny random models (d_model 32) amplify rounding: measured v1.0 encoder 0.9 %, logits ≤ 2.2 %;
            // v1.1's gated layers 2.1 % at the encoder and up to 9.9 % on its near-zero logits (int8: 8.2 % at
            // the encoder, up to ~70 % on the logits). A wrong layout or lost head gives errors near 100 %.
            XCTAssertLessThan(encoderError, name == "v1_0" ? 0.02 : 0.04, "\(name) encoder")
            let prefix = [0, 5, 9]
            let l16 = try m16.logits(input: input, decoderPrefix: prefix), l32 = try m32.logits(input: input, decoderPrefix: prefix)
            for step in prefix.indices {
                XCTAssertLessThan(relativeError(l16[step], l32[step]), name == "v1_0" ? 0.05 : 0.15, "\(name) step \(step)")
            }

            let generator = Seq2SeqGenerator(model: m16)
            var config = generator.defaultConfig
            config.maxNewTokens = 6
            config.numBeams = 1
            (config.minNewTokens, config.minLength, config.noRepeatNgramSize) = (0, 0, 0)
            (config.forcedBOSTokenId, config.forcedEOSTokenId) = (nil, nil)
            let tokens = Array(try generator.generate([GenerationRequest(inputIds: input)], config: config)[0].generatedTokens)
            let steps = try m16.logits(input: input, decoderPrefix: [m16.config.decoderStartTokenId] + tokens.dropLast())
            for (step, token) in tokens.enumerated() {
                let best = steps[step].indices.max { steps[step][$0] < steps[step][$1] }!
                XCTAssertEqual(token, best, "\(name), step \(step): \(tokens)")
            }
        }
    }
}
