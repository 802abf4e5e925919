import BART
import Foundation
import Generation
import PrismTestSupport
import TensorKernels
import XCTest

/// bf16 layers: the rounding, the product against a float64 reference of the same rounded operands (the
/// AVX512-BF16 kernel where the CPU has it, else the portable loop), and BART at bf16 against float32.
final class BF16Tests: XCTestCase {
    private func bits(_ x: Float) -> UInt16 {
        let rows = BF16Rows([x], rows: 1, cols: 1)
        return withExtendedLifetime(rows) { rows.values[0] }
    }

    /// Round to nearest, ties to even, on hand-picked float32 bit patterns (the reference is the definition:
    /// the upper 16 bits, plus one when the lower 16 exceed half, or equal it with an odd upper half).
    func testRoundsToNearestEven() {
        let cases: [(UInt32, UInt16)] = [
            (0x3F80_0000, 0x3F80),  // 1
            (0x3F80_7FFF, 0x3F80),  // just below half: down
            (0x3F80_8000, 0x3F80),  // a tie, even upper half: stays
            (0x3F81_8000, 0x3F82),  // a tie, odd upper half: up to even
            (0x3F80_8001, 0x3F81),  // just above half: up
            (0xBF81_8000, 0xBF82),  // negative: the same on the magnitude
            (0x7F7F_FFFF, 0x7F80),  // the largest float rounds to infinity
            (0x7F80_0000, 0x7F80),  // infinity
            (0x0000_0001, 0x0000),  // the smallest denormal rounds to zero
        ]
        for (input, expected) in cases {
            XCTAssertEqual(bits(Float(bitPattern: input)), expected, String(format: "0x%08x", input))
        }
        let nan = bits(Float(bitPattern: 0x7F80_0001))
        XCTAssertEqual(nan & 0x7F80, 0x7F80)
        XCTAssertNotEqual(nan & 0x007F, 0, "a NaN stays a NaN (never infinity)")
        // Every value that is already bf16 is kept exactly, and widening gives it back.
        let exact: [Float] = [0, -0.0, 1, -2.5, 0.0078125, Float(bitPattern: 0x7F61_0000), Float(bitPattern: 0x8DF3_0000)]
        let rows = BF16Rows(exact, rows: 1, cols: exact.count)
        XCTAssertEqual(rows.widened.map(\.bitPattern), exact.map(\.bitPattern))
    }

    /// `x · Wᵀ + b` against float64 sums of the same bf16 operands, on shapes that exercise every path:
    /// partial blocks of 4 output columns, a K that is no multiple of 32 (masked loads), 1–16 rows (the
    /// decoder-step split over columns), 70 rows (a chunk of 64 plus a partial one, split over rows), and
    /// 2 threads against 1 (the last two shapes are large enough to be split; each output is computed by the
    /// same block code whichever part holds it, so the bits agree).
    func testProductMatchesAFloat64Reference() {
        var seed: UInt64 = 99
        func next() -> Float {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: seed >> 11) % 2_000_001 - 1_000_000) / 1_000_000
        }
        for (rows, k, n) in [(1, 768, 37), (3, 100, 9), (16, 64, 5), (5, 130, 1), (70, 96, 11), (20, 33, 64), (8, 768, 100), (20, 256, 128)] {
            let x = (0..<rows * k).map { _ in next() }, w = (0..<n * k).map { _ in next() * 0.1 }
            let bias = (0..<n).map { Float($0) * 0.25 }
            let layer = try! Linear(weight: w, bias: bias, inFeatures: k, outFeatures: n).converted(to: .bf16)
            XCTAssertEqual(layer.precision, .bf16)
            XCTAssertTrue(layer.weight.isEmpty, "no float32 copy")
            let wb = layer.bf16!.widened, xb = BF16Rows(x, rows: rows, cols: k).widened
            var one = [Float](repeating: .nan, count: rows * n), two = one
            BLAS.setThreads(1)
            layer.apply(x, rows: rows, into: &one)
            BLAS.setThreads(2)
            layer.apply(x, rows: rows, into: &two)
            BLAS.setThreads(1)
            XCTAssertEqual(one.map(\.bitPattern), two.map(\.bitPattern), "\(rows)×\(k)×\(n): 1 and 2 threads")
            var worst: Double = 0
            for r in 0..<rows {
                for j in 0..<n {
                    var exact = Double(bias[j]), magnitude = abs(Double(bias[j]))
                    for c in 0..<k {
                        exact += Double(xb[r * k + c]) * Double(wb[j * k + c])
                        magnitude += abs(Double(xb[r * k + c]) * Double(wb[j * k + c]))
                    }
                    // float32 sums of k products: within k·2⁻²⁴ of the magnitude (a wrong element, pair order or
                    // column is off by a whole product, ~1e-2 of it).
                    let error = abs(Double(one[r * n + j]) - exact) / magnitude
                    worst = max(worst, error)
                }
            }
            XCTAssertLessThan(worst, Double(k) * 0x1p-24, "\(rows)×\(k)×\(n) (kernel \(BF16Rows.kernel))")
        }
    }

    /// Against the float32 layer: bf16's rounding of both operands (2⁻⁹ relative each) bounds the error by
    /// ~2⁻⁸ of Σ|x·w|; the relative error of the outputs is far below int8-scale mistakes.
    func testProductStaysNearFloat32() {
        let (rows, k, n) = (4, 768, 48)
        let x = (0..<rows * k).map { Float(sin(Double($0) * 0.37)) }
        let w = (0..<n * k).map { Float(cos(Double($0) * 0.11)) * 0.05 }
        let fp32 = try! Linear(weight: w, bias: [], inFeatures: k, outFeatures: n)
        let bf16 = try! fp32.converted(to: .bf16)
        var a = [Float](repeating: 0, count: rows * n), b = a
        fp32.apply(x, rows: rows, into: &a)
        bf16.apply(x, rows: rows, into: &b)
        for r in 0..<rows {
            for j in 0..<n {
                var magnitude: Float = 0
                for c in 0..<k { magnitude += abs(x[r * k + c] * w[j * k + c]) }
                XCTAssertLessThan(abs(a[r * n + j] - b[r * n + j]), magnitude * 0x1p-7, "[\(r), \(j)]")
            }
        }
        XCTAssertNotEqual(a, b, "bf16 is not float32")
        XCTAssertThrowsError(try bf16.converted(to: .int8), "a bf16 layer has no float32 weight to quantize")
    }

    private static let config = BartConfig(
        vocabSize: 4000, dModel: 256, encoderLayers: 2, decoderLayers: 2, encoderAttentionHeads: 4,
        decoderAttentionHeads: 4, encoderFFNDim: 1024, decoderFFNDim: 1024, maxPositionEmbeddings: 128)

    /// A random BART at bf16: one bf16 table for the embeddings and the head (no float32 copy), the logits
    /// within bf16 rounding of float32's and several times closer than int8's; `int8-bf16` holds the
    /// encoder's layers as `int8` does and the rest as `bf16` does.
    func testBartAtBF16() throws {
        let c = Self.config
        let fp32 = try BartWeights.random(config: c, seed: 3)
        let bf16 = try BartWeights.random(config: c, seed: 3, precision: .bf16)
        XCTAssertEqual(bf16.precision, .bf16)
        XCTAssertTrue(bf16.shared.isEmpty && bf16.encoderTokens.isEmpty && bf16.decoderTokens.isEmpty, "no float32 token table")
        guard let head = bf16.lmHead.rows, case .bf16(let table) = head else { return XCTFail("the head is not bf16") }
        XCTAssertTrue(bf16.encoderTokenRows?.isSameObject(as: head) == true && bf16.decoderTokenRows?.isSameObject(as: head) == true)
        let reference = fp32.shared.withUnsafeBufferPointer { BF16Rows($0.baseAddress!, rows: c.vocabSize, cols: c.dModel) }
        XCTAssertTrue(table.hasSameValues(as: reference), "the table is float32's, rounded")
        for layer in bf16.encoderLayers { XCTAssertEqual(layer.fc2.precision, .bf16) }
        for layer in bf16.decoderLayers { XCTAssertEqual(layer.crossAttention.v.precision, .bf16) }

        let input = (0..<40).map { ($0 * 37 + 11) % (c.vocabSize - 4) + 4 }, prefix = [2, 0, 100, 200, 300]
        let l32 = try BartModel(config: c, weights: fp32).logits(input: input, decoderPrefix: prefix)
        let l16 = try BartModel(config: c, weights: bf16).logits(input: input, decoderPrefix: prefix)
        var int8Errors: [Float] = []
        if Int8Rows.isSupported {
            let int8 = try BartWeights.random(config: c, seed: 3, precision: .int8)
            let l8 = try BartModel(config: c, weights: int8).logits(input: input, decoderPrefix: prefix)
            int8Errors = prefix.indices.map { relativeError(l8[$0], l32[$0]) }
        }
        for step in prefix.indices {
            let error = relativeError(l16[step], l32[step])
            XCTAssertGreaterThan(error, 1e-6, "bf16 is not float32")
            XCTAssertLessThan(error, 0.02, "step \(step)")
            if !int8Errors.isEmpty { XCTAssertLessThan(error, int8Errors[step], "step \(step): bf16 \(error), int8 \(int8Errors[step])") }
        }

        try XCTSkipUnless(Int8Rows.isSupported, "int8-bf16 needs VNNI")
        let mixed = try BartWeights.random(config: c, seed: 3, precision: .int8BF16)
        let int8 = try BartWeights.random(config: c, seed: 3, precision: .int8)
        XCTAssertEqual(mixed.precision, .int8BF16)
        XCTAssertTrue(mixed.encoderLayers[1].fc1.int8!.hasSameValues(as: int8.encoderLayers[1].fc1.int8!))
        XCTAssertTrue(mixed.decoderLayers[1].fc1.bf16!.hasSameValues(as: bf16.decoderLayers[1].fc1.bf16!))
        XCTAssertTrue(mixed.decoderTokenRows?.isSameObject(as: mixed.lmHead.rows!) == true)
        XCTAssertEqual(mixed.lmHead.precision, .bf16)
    }

    /// Loaded from the fixture folders at bf16 (a tied F32 one and an untied F16 one): every layer and table
    /// is the float32 weight rounded, the untied head its own table, and greedy generation gives the same
    /// tokens as float32 on these inputs (the fixtures' logits are far from ties).
    func testLoadsFixtureFoldersAtBF16() throws {
        for name in ["tiny", "tiny-f16"] {
            let folder = Fixtures.folder(name)
            let m32 = try BartModel.load(folder: folder)
            let m16 = try BartModel.load(folder: folder, precision: .bf16)
            let w32 = m32.weights, w16 = m16.weights
            XCTAssertEqual(w16.precision, .bf16, name)
            let c = m32.config
            func same(_ rows: ReducedRows?, _ weight: [Float], _ count: Int, _ cols: Int, _ what: String) {
                guard case .bf16(let b) = rows else { return XCTFail("\(name): \(what) is not bf16") }
                let reference = weight.withUnsafeBufferPointer { BF16Rows($0.baseAddress!, rows: count, cols: cols) }
                XCTAssertTrue(b.hasSameValues(as: reference), "\(name): \(what)")
            }
            same(w16.lmHead.rows, w32.lmHead.weight, c.vocabSize, c.dModel, "lm_head")
            same(w16.decoderTokenRows, w32.decoderTokens, c.vocabSize, c.dModel, "decoder tokens")
            let fc2 = w32.decoderLayers[0].fc2
            same(w16.decoderLayers[0].fc2.rows, fc2.weight, fc2.outFeatures, fc2.inFeatures, "decoder fc2")
            let tied = w32.lmHead.weight == w32.shared
            XCTAssertEqual(w16.encoderTokenRows.map { w16.lmHead.rows.map($0.isSameObject) ?? false } ?? false, tied,
                           "\(name): one table when tied")
            let generator32 = Seq2SeqGenerator(model: m32), generator16 = Seq2SeqGenerator(model: m16)
            var config = generator32.defaultConfig
            config.maxNewTokens = 8
            config.numBeams = 1
            let requests = [GenerationRequest(inputIds: [0, 10, 20, 30, 40, 2]), GenerationRequest(inputIds: [0, 7, 2])]
            let a = try generator32.generate(requests, config: config), b = try generator16.generate(requests, config: config)
            XCTAssertEqual(a.map(\.generatedTokens), b.map(\.generatedTokens), name)
        }
    }

    /// Greedy generation picks, at every step, the argmax of the model's own logits for the prefix so far
    /// (`logits(input:decoderPrefix:)`, one decoder step at a time), at every precision. A model whose head
    /// is not float32 has no int8 screen; greedy steps must then take the plain argmax of its logits.
    func testGreedyFollowsTheModelsOwnLogits() throws {
        var precisions: [Precision] = [.fp32, .bf16]
        if Int8Rows.isSupported { precisions += [.int8, .int8Encoder, .int8BF16] }
        for name in ["tiny", "tiny-f16"] {
            for precision in precisions {
                let model = try BartModel.load(folder: Fixtures.folder(name), precision: precision)
                let generator = Seq2SeqGenerator(model: model)
                var config = generator.defaultConfig
                config.maxNewTokens = 8
                config.numBeams = 1
                (config.minNewTokens, config.minLength, config.noRepeatNgramSize) = (0, 0, 0)
                (config.forcedBOSTokenId, config.forcedEOSTokenId) = (nil, nil)
                let input = [0, 10, 20, 30, 40, 2]
                let tokens = Array(try generator.generate([GenerationRequest(inputIds: input)], config: config)[0].generatedTokens)
                let prefix = [model.config.decoderStartTokenId] + tokens.dropLast()
                let logits = try model.logits(input: input, decoderPrefix: prefix)
                for (step, token) in tokens.enumerated() {
                    let best = logits[step].indices.max { logits[step][$0] < logits[step][$1] }!
                    XCTAssertEqual(token, best, "\(name) at \(precision), step \(step): \(tokens)")
                }
            }
        }
    }

    /// `Attention.fullBF16` against float32 `Attention.full` on the same inputs: within bf16 rounding of
    /// every operand (and far from a wrong head, transposition or scale), masked keys ignored, for a query
    /// length below the head width (the scratch's smallest case), one and two threads alike.
    func testEncoderAttentionInBF16() {
        for (length, heads, headDim, masked) in [(40, 4, 64, false), (7, 2, 64, true), (130, 3, 32, true)] {
            let ld = heads * headDim
            func values(_ salt: Double) -> [Float] { (0..<length * ld).map { Float(sin(Double($0) * salt)) } }
            let q = values(0.71), k = values(0.37), v = values(0.13)
            let mask: [UInt8]? = masked ? (0..<length).map { $0 % 3 == 1 ? 0 : 1 } : nil
            let scale = 1 / Float(headDim).squareRoot()
            var reference = [Float](repeating: 0, count: length * ld), one = reference, two = reference
            var scores = [Float](repeating: 0, count: Attention.scoresCapacity(queryLength: length, keyLength: length, heads: heads, threads: 2))
            func run(_ bf16: Bool, _ threads: Int, into out: inout [Float]) {
                mask.withUnsafeBufferPointerOrNil { m in
                    if bf16 {
                        Attention.fullBF16(q: q, k: k, v: v, ld: ld, queryLength: length, keyLength: length, heads: heads,
                                           headDim: headDim, scale: scale, keyMask: m, threads: threads,
                                           scores: &scores, out: &out, ldOut: ld)
                    } else {
                        Attention.full(q: q, k: k, v: v, ld: ld, queryLength: length, keyLength: length, heads: heads,
                                       headDim: headDim, scale: scale, keyMask: m, causal: false, threads: threads,
                                       scores: &scores, out: &out, ldOut: ld)
                    }
                }
            }
            run(false, 1, into: &reference)
            run(true, 1, into: &one)
            run(true, 2, into: &two)
            XCTAssertEqual(one.map(\.bitPattern), two.map(\.bitPattern), "\(length)×\(heads): 1 and 2 threads")
            // Outputs are convex mixtures of values in [-1, 1]: absolute errors, ~2⁻⁷ from the scores' and the
            // probabilities' rounding (a wrong head or key gives errors near 1).
            var worst: Float = 0
            for i in one.indices { worst = max(worst, abs(one[i] - reference[i])) }
            XCTAssertLessThan(worst, 0.02, "\(length)×\(heads)×\(headDim)")
            XCTAssertGreaterThan(worst, 0, "bf16 is not float32")
        }
    }
}

private extension Optional where Wrapped == [UInt8] {
    func withUnsafeBufferPointerOrNil<R>(_ body: (UnsafePointer<UInt8>?) -> R) -> R {
        switch self {
        case .some(let array): return array.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: return body(nil)
        }
    }
}
