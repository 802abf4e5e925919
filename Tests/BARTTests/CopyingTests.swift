import BART
import Foundation
import TensorKernels
import XCTest

/// A copying BART (COPYING.md) on random weights: the mixture is a distribution, the pointer's mass lands
/// on the input ids (and their twins) and never on padding, a padded batch gives each row what it gives
/// alone, and folders that half-declare a pointer are refused.
final class CopyingTests: XCTestCase {
    static var config: BartConfig {
        var c = BartConfig(vocabSize: 64, dModel: 16, encoderLayers: 1, decoderLayers: 2, encoderAttentionHeads: 2,
                           decoderAttentionHeads: 2, encoderFFNDim: 32, decoderFFNDim: 32, maxPositionEmbeddings: 32)
        c.copying = true
        return c
    }

    /// A model whose gate always picks `share` = (generate, copy, copy a twin) — biases of a zero gate.
    func model(gateBias: [Float] = [0, 0, 0], twins: [Int]? = nil) throws -> BartModel {
        var weights = try BartWeights.random(config: Self.config, seed: 3, std: 0.3)
        let d = Self.config.dModel
        var pointer = try XCTUnwrap(weights.pointer)
        pointer.gate = try Linear(weight: [Float](repeating: 0, count: 3 * d), bias: gateBias, inFeatures: d, outFeatures: 3)
        if let twins { pointer.twins = twins }
        weights.pointer = pointer
        return try BartModel(config: Self.config, weights: weights)
    }

    func probabilities(_ model: BartModel, _ inputs: [[Int]], steps: [Int]) throws -> [[[Float]]] {
        let encoder = try model.encode(inputs)
        try model.beginDecoding(encoder, maxSteps: steps.count)
        var out: [[[Float]]] = []
        for token in steps {
            let scores = try model.decodeStep([Int](repeating: token, count: inputs.count))
            out.append((0..<inputs.count).map { r in (0..<64).map { Foundation.exp(scores[r * 64 + $0]) } })
        }
        return out
    }

    func testTheMixtureIsADistribution() throws {
        let m = try model(gateBias: [0.3, -0.2, 0.1])
        XCTAssertEqual(m.screenedArgmaxRows, 0)
        for step in try probabilities(m, [[0, 9, 17, 9, 2]], steps: [2, 0, 9]) {
            XCTAssertEqual(step[0].reduce(0, +), 1, accuracy: 1e-4)
        }
    }

    func testThePointerCopiesInputIdsAndTheirTwinsOnly() throws {
        let input = [0, 9, 17, 9, 2]
        // All mass on copying: only the input's ids get any.
        let copy = try probabilities(try model(gateBias: [-60, 60, -60]), [input], steps: [2, 0])
        for step in copy {
            let nonzero = Set(step[0].indices.filter { step[0][$0] > 1e-6 })
            XCTAssertEqual(nonzero, Set(input), "copied ids")
        }
        // All mass on twins: 9's twin is 40, every other id is its own twin.
        var twins = Array(0..<64)
        twins[9] = 40
        let twinned = try probabilities(try model(gateBias: [-60, -60, 60], twins: twins), [input], steps: [2])
        XCTAssertEqual(Set(twinned[0][0].indices.filter { twinned[0][0][$0] > 1e-6 }), [0, 40, 17, 2])
        XCTAssertEqual(twinned[0][0][9], 0, accuracy: 1e-9)
    }

    func testPaddedBatchRowsEqualRowsAlone() throws {
        let m = try model(gateBias: [0, 1, -1])
        let long = [0, 5, 6, 7, 8, 2], short = [0, 11, 2]
        let batch = try probabilities(m, [long, short], steps: [2, 0, 6])
        let alone = try probabilities(m, [short], steps: [2, 0, 6])
        for (b, a) in zip(batch, alone) {
            // Equal everywhere: the short row copies neither the long row's ids nor its own padding's.
            for k in 0..<64 { XCTAssertEqual(b[1][k], a[0][k], accuracy: 1e-5) }
        }
    }

    func testFoldersThatHalfDeclareAPointerAreRefused() throws {
        var weights = try BartWeights.random(config: Self.config, seed: 1)
        var plain = Self.config
        plain.copying = false
        XCTAssertThrowsError(try BartModel(config: plain, weights: weights), "a pointer without prism_copy")
        weights.pointer = nil
        XCTAssertThrowsError(try BartModel(config: Self.config, weights: weights), "prism_copy without a pointer")
        var json: [String: Any] = ["model_type": "bart", "vocab_size": 64, "d_model": 16, "encoder_layers": 1,
                                   "decoder_layers": 1, "encoder_attention_heads": 2, "decoder_attention_heads": 2,
                                   "encoder_ffn_dim": 32, "decoder_ffn_dim": 32, "max_position_embeddings": 32]
        XCTAssertFalse(try BartConfig.parse(json).copying)
        json["prism_copy"] = BartConfig.copyFormat
        XCTAssertTrue(try BartConfig.parse(json).copying)
        json["prism_copy"] = "pointer-generator/9"
        XCTAssertThrowsError(try BartConfig.parse(json)) { error in
            XCTAssertTrue("\(error)".contains("pointer-generator/9"), "\(error)")
        }
    }
}
