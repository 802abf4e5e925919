import BART
import Foundation
import Generation
import PrismTestSupport
import SafeTensors
import TensorKernels
import XCTest

/// BART at int8 against the same model at float32: layer by layer on BART-base's widths, and loaded from
/// the fixture folders (the quantized weights are those of the float32 ones; tied tables are one copy).
final class Int8ModelTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Int8Rows.isSupported, "int8 needs VNNI; oneDNN finds \(Int8Rows.instructionSet)")
    }

    /// BART-base's widths (d_model 768, 12 heads, FFN 3072) with a smaller vocabulary and positions.
    private static let config = BartConfig(
        vocabSize: 8000, dModel: 768, encoderLayers: 4, decoderLayers: 2, encoderAttentionHeads: 12,
        decoderAttentionHeads: 12, encoderFFNDim: 3072, decoderFFNDim: 3072, maxPositionEmbeddings: 128)

    /// The encoder output after each of 4 layers, int8 against float32 on one 48-token input: the relative
    /// error stays at quantization size (0.8 % + 0.3 % per layer; a wrong scale, offset or transposed weight
    /// gives errors near 100 %), and the decoder's logits follow (within 3 %).
    func testEachEncoderLayerStaysCloseToFloat32() throws {
        let c = Self.config
        let fp32 = try BartWeights.random(config: c, seed: 7)
        let int8 = try BartWeights.random(config: c, seed: 7, precision: .int8)
        XCTAssertEqual(int8.precision, .int8)
        XCTAssertTrue(int8.shared.isEmpty && int8.encoderTokens.isEmpty, "no float32 token table")
        guard let head = int8.lmHead.rows else { return XCTFail("the head is not int8") }
        XCTAssertTrue(int8.encoderTokenRows?.isSameObject(as: head) == true && int8.decoderTokenRows?.isSameObject(as: head) == true)
        let input = (0..<48).map { ($0 * 37 + 11) % (c.vocabSize - 4) + 4 }
        var errors: [Float] = []
        for layers in 1...c.encoderLayers {
            var config = c
            config.encoderLayers = layers
            var a = fp32, b = int8
            a.encoderLayers = Array(fp32.encoderLayers.prefix(layers))
            b.encoderLayers = Array(int8.encoderLayers.prefix(layers))
            let h32 = try BartModel(config: config, weights: a).encode([input]).hidden
            let h8 = try BartModel(config: config, weights: b).encode([input]).hidden
            errors.append(relativeError(h8, h32))
        }
        for (layer, error) in errors.enumerated() {
            // Measured: 0.60, 0.81, 0.98, 1.13 % (each layer adds a little more than the first's share).
            XCTAssertLessThan(error, 0.005 + 0.003 * Float(layer + 1), "encoder layer \(layer + 1): relative errors \(errors)")
        }
        XCTAssertGreaterThan(errors[0], 1e-5, "int8 is not float32")

        let m32 = try BartModel(config: c, weights: fp32), m8 = try BartModel(config: c, weights: int8)
        let prefix = [2, 0, 100, 200, 300]
        let l32 = try m32.logits(input: input, decoderPrefix: prefix), l8 = try m8.logits(input: input, decoderPrefix: prefix)
        for step in prefix.indices {
            XCTAssertLessThan(relativeError(l8[step], l32[step]), 0.03, "logits at step \(step)")
        }
    }

    /// `.int8Encoder`: the encoder's linear layers are exactly those of `.int8`, everything else exactly
    /// float32's (token tables and head included, no int8 table); its logits are closer to float32's than
    /// full int8's, since the decoder adds no rounding of its own.
    func testInt8EncoderQuantizesTheEncoderOnly() throws {
        var c = Self.config
        c.encoderLayers = 2
        let fp32 = try BartWeights.random(config: c, seed: 7)
        let int8 = try BartWeights.random(config: c, seed: 7, precision: .int8)
        let mixed = try BartWeights.random(config: c, seed: 7, precision: .int8Encoder)
        XCTAssertEqual(mixed.precision, .int8Encoder)
        XCTAssertEqual(Precision.int8Encoder.layer(inEncoder: true), .int8)
        XCTAssertEqual(Precision.int8Encoder.layer(inEncoder: false), .fp32)
        XCTAssertNil(mixed.encoderTokenRows)
        XCTAssertEqual(mixed.shared, fp32.shared)
        XCTAssertEqual(mixed.lmHead.weight, fp32.lmHead.weight)
        for (m, q) in zip(mixed.encoderLayers, int8.encoderLayers) {
            for (a, b) in [(m.fc1, q.fc1), (m.fc2, q.fc2), (m.selfAttention.q, q.selfAttention.q), (m.selfAttention.out, q.selfAttention.out)] {
                guard let a = a.int8, let b = b.int8 else { return XCTFail("an encoder layer is not int8") }
                XCTAssertTrue(a.hasSameValues(as: b))
            }
        }
        for (m, f) in zip(mixed.decoderLayers, fp32.decoderLayers) {
            for (a, b) in [(m.fc1, f.fc1), (m.fc2, f.fc2), (m.crossAttention.k, f.crossAttention.k), (m.selfAttention.v, f.selfAttention.v)] {
                XCTAssertEqual(a.precision, .fp32)
                XCTAssertEqual(a.weight, b.weight)
            }
        }
        let input = (0..<48).map { ($0 * 37 + 11) % (c.vocabSize - 4) + 4 }, prefix = [2, 0, 100, 200, 300]
        let l32 = try BartModel(config: c, weights: fp32).logits(input: input, decoderPrefix: prefix)
        let l8 = try BartModel(config: c, weights: int8).logits(input: input, decoderPrefix: prefix)
        let lm = try BartModel(config: c, weights: mixed).logits(input: input, decoderPrefix: prefix)
        for step in prefix.indices {
            let full = relativeError(l8[step], l32[step]), encoderOnly = relativeError(lm[step], l32[step])
            XCTAssertGreaterThan(encoderOnly, 1e-5, "the encoder is int8")
            XCTAssertLessThan(encoderOnly, full, "step \(step): int8-encoder \(encoderOnly), int8 \(full)")
        }
    }

    /// Loaded at int8 from a folder: every linear weight and token table is the float32 one quantized
    /// (`Int8Rows` of it), the tied tables and head are one object, an untied (F16) head its own; greedy
    /// and batched generation run and the logits stay near float32's.
    func testLoadsFixtureFoldersAtInt8() throws {
        for name in ["tiny", "tiny-f16"] {
            let folder = Fixtures.folder(name)
            let m32 = try BartModel.load(folder: folder)
            let m8 = try BartModel.load(folder: folder, precision: .int8)
            let w32 = m32.weights, w8 = m8.weights
            XCTAssertEqual(w8.precision, .int8)
            func same(_ q: ReducedRows?, _ weight: [Float], rows: Int, cols: Int, _ what: String) {
                guard case .int8(let q) = q else { return XCTFail("\(name): \(what) is not int8") }
                let reference = weight.withUnsafeBufferPointer { Int8Rows($0.baseAddress!, rows: rows, cols: cols) }
                XCTAssertTrue(q.hasSameValues(as: reference), "\(name): \(what)")
            }
            let c = m32.config
            same(w8.lmHead.rows, w32.lmHead.weight, rows: c.vocabSize, cols: c.dModel, "lm_head")
            same(w8.encoderTokenRows, w32.encoderTokens, rows: c.vocabSize, cols: c.dModel, "encoder tokens")
            let fc1 = w32.encoderLayers[0].fc1
            same(w8.encoderLayers[0].fc1.rows, fc1.weight, rows: fc1.outFeatures, cols: fc1.inFeatures, "fc1")
            let q = w32.decoderLayers.last!.crossAttention.q
            same(w8.decoderLayers.last!.crossAttention.q.rows, q.weight, rows: q.outFeatures, cols: q.inFeatures, "cross q")
            XCTAssertEqual(w8.lmHead.bias, w32.lmHead.bias)
            let tied = w32.lmHead.weight == w32.shared
            XCTAssertEqual(w8.encoderTokenRows.map { w8.lmHead.rows.map($0.isSameObject) ?? false } ?? false, tied, "\(name): one table when tied")

            let input = [0, 10, 20, 30, 40, 2]
            let l32 = try m32.logits(input: input, decoderPrefix: [2, 0, 5]), l8 = try m8.logits(input: input, decoderPrefix: [2, 0, 5])
            for step in 0..<3 { XCTAssertLessThan(relativeError(l8[step], l32[step]), 0.1, "\(name) step \(step)") }
            let generator = Seq2SeqGenerator(model: m8)
            var config = generator.defaultConfig
            config.maxNewTokens = 6
            config.numBeams = 1
            let out = try generator.generate([GenerationRequest(inputIds: input), GenerationRequest(inputIds: [0, 7, 2])], config: config)
            XCTAssertEqual(out.count, 2)
            XCTAssertTrue(out.allSatisfy { !$0.generatedTokens.isEmpty })

            let mixed = try BartModel.load(folder: folder, precision: .int8Encoder).weights
            XCTAssertEqual(mixed.precision, .int8Encoder, name)
            same(mixed.encoderLayers[0].fc1.rows, fc1.weight, rows: fc1.outFeatures, cols: fc1.inFeatures, "int8-encoder fc1")
            XCTAssertEqual(mixed.decoderLayers.last!.crossAttention.q.weight, q.weight, "\(name): the decoder stays float32")
            XCTAssertEqual(mixed.lmHead.weight, w32.lmHead.weight, "\(name): the head stays float32")
            XCTAssertEqual(mixed.encoderTokens, w32.encoderTokens, "\(name): the token table stays float32")
        }
    }
}
