import BART
import Generation
import TensorKernels
import XCTest

/// Screened greedy argmax (int8 output projection + exact recheck) picks the float32 argmax.
final class ScreenedArgmaxTests: XCTestCase {
    func testScreenedGreedyEqualsExactGreedy() throws {
        let config = BartConfig(
            vocabSize: 3000, dModel: 64, encoderLayers: 1, decoderLayers: 2, encoderAttentionHeads: 4,
            decoderAttentionHeads: 4, encoderFFNDim: 128, decoderFFNDim: 128, maxPositionEmbeddings: 128)
        let model = try BartModel(config: config, weights: try BartWeights.random(config: config, seed: 7))
        let generator = Seq2SeqGenerator(model: model)
        var generation = GenerationConfig(model: config)
        generation.numBeams = 1
        generation.maxNewTokens = 30
        generation.noRepeatNgramSize = 3
        for seed in 0..<6 {
            let input = [0] + (0..<(10 + seed * 7)).map { (($0 * 131 + seed * 977) % (config.vocabSize - 4)) + 4 } + [2]
            let request = GenerationRequest(inputIds: input)
            model.screenedGreedyArgmax = true
            let screened = try generator.generate(request, config: generation)
            model.screenedGreedyArgmax = false
            let exact = try generator.generate(request, config: generation)
            XCTAssertEqual(screened.tokens, exact.tokens, "input \(seed)")
        }
    }

    /// A batch: every row's screened greedy tokens equal the exact batch's (rows finish at different steps
    /// through no-repeat n-grams and EOS, so the screen also runs on shrinking batches).
    func testBatchedScreenedGreedyEqualsExactGreedy() throws {
        let config = BartConfig(
            vocabSize: 3000, dModel: 64, encoderLayers: 1, decoderLayers: 2, encoderAttentionHeads: 4,
            decoderAttentionHeads: 4, encoderFFNDim: 128, decoderFFNDim: 128, maxPositionEmbeddings: 128)
        // Output rows close to each other (a shared row plus small differences): the int8 screen cannot
        // separate them, so most steps recheck several candidates exactly, each row against its own state.
        var weights = try BartWeights.random(config: config, seed: 11, std: 0.2)
        let d = config.dModel
        let shared = Array(weights.lmHead.weight[0..<d])
        var head = weights.lmHead.weight
        for j in 0..<config.vocabSize {
            for c in 0..<d { head[j * d + c] = shared[c] + 0.01 * head[j * d + c] }
        }
        weights.lmHead = try Linear(weight: head, bias: weights.lmHead.bias, inFeatures: d, outFeatures: config.vocabSize)
        let model = try BartModel(config: config, weights: weights)
        let generator = Seq2SeqGenerator(model: model)
        var generation = GenerationConfig(model: config)
        generation.numBeams = 1
        generation.maxNewTokens = 24
        generation.noRepeatNgramSize = 2
        var requests: [GenerationRequest] = []
        for seed in 0..<6 {
            let body: [Int] = (0..<(8 + seed * 5)).map { i in (i * 97 + seed * 389) % (config.vocabSize - 4) + 4 }
            requests.append(GenerationRequest(inputIds: [0] + body + [2]))
        }
        model.screenedGreedyArgmax = true
        let screened = try generator.generate(requests, config: generation)
        model.screenedGreedyArgmax = false
        let exact = try generator.generate(requests, config: generation)
        XCTAssertEqual(screened.map(\.tokens), exact.map(\.tokens))
    }

    /// The multi-row screen: each row within the slack bound of the exact product, an odd matrix row count
    /// and row counts that are not multiples of 4 included, and a threaded split equal to one thread.
    func testInt8MultiRowProduct() {
        let (rows, cols) = (2049, 64)
        let w = (0..<(rows * cols)).map { Float(sin(Double($0) * 0.377)) * 0.05 }
        let bias = (0..<rows).map { Float($0 % 5) * 0.02 }
        let screen = w.withUnsafeBufferPointer { Int8Matrix($0.baseAddress!, rows: rows, cols: cols) }
        for count in [1, 2, 3, 4, 5, 9] {
            let x = (0..<(count * cols)).map { Float(cos(Double($0) * 0.61 + Double(count))) * 2 }
            var one = [Float](repeating: .nan, count: count * rows)
            var two = one
            screen.multiply(rows: x, count: count, bias: bias, into: &one, threads: 1)
            screen.multiply(rows: x, count: count, bias: bias, into: &two, threads: 2)
            XCTAssertEqual(one, two, "threads, \(count) rows")
            for r in 0..<count {
                let xr = Array(x[(r * cols)..<((r + 1) * cols)])
                let norm = xr.reduce(0) { $0 + abs($1) }
                for j in 0..<rows {
                    let exact = (0..<cols).reduce(Double(bias[j])) { $0 + Double(w[j * cols + $1]) * Double(xr[$1]) }
                    XCTAssertLessThanOrEqual(abs(Double(one[r * rows + j]) - exact), Double(norm * screen.slack[j]),
                                             "row \(r) of \(count), column \(j)")
                }
            }
        }
    }

    func testInt8SlackBoundsTheError() {
        let (rows, cols) = (50, 96)
        let w = (0..<(rows * cols)).map { Float(sin(Double($0) * 0.731)) * 0.05 }
        let x = (0..<cols).map { Float(cos(Double($0) * 0.37)) * 3 }
        let screen = w.withUnsafeBufferPointer { Int8Matrix($0.baseAddress!, rows: rows, cols: cols) }
        var y = [Float](repeating: 0, count: rows)
        screen.multiply(x, bias: nil, into: &y)
        let norm = x.reduce(0) { $0 + abs($1) }
        for r in 0..<rows {
            let exact = (0..<cols).reduce(0.0) { $0 + Double(w[r * cols + $1]) * Double(x[$1]) }
            XCTAssertLessThanOrEqual(abs(Double(y[r]) - exact), Double(norm * screen.slack[r]))
        }
    }

    /// Rows split over threads give exactly the single-threaded products; rows whose length is not a
    /// multiple of 16 (the scalar path) stay within the slack bound too.
    func testInt8ThreadedAndScalarPaths() {
        for (rows, cols) in [(3000, 64), (40, 100)] {
            let w = (0..<(rows * cols)).map { Float(sin(Double($0) * 0.917)) * 0.04 }
            let x = (0..<cols).map { Float(cos(Double($0) * 0.53)) * 2 }
            let bias = (0..<rows).map { Float($0 % 7) * 0.01 }
            let screen = w.withUnsafeBufferPointer { Int8Matrix($0.baseAddress!, rows: rows, cols: cols) }
            var one = [Float](repeating: 0, count: rows)
            var two = [Float](repeating: 0, count: rows)
            screen.multiply(x, bias: bias, into: &one, threads: 1)
            screen.multiply(x, bias: bias, into: &two, threads: 2)
            XCTAssertEqual(one, two, "\(rows)x\(cols)")
            let norm = x.reduce(0) { $0 + abs($1) }
            for r in 0..<rows {
                let exact = (0..<cols).reduce(Double(bias[r])) { $0 + Double(w[r * cols + $1]) * Double(x[$1]) }
                XCTAssertLessThanOrEqual(abs(Double(one[r]) - exact), Double(norm * screen.slack[r]), "row \(r) of \(rows)x\(cols)")
            }
        }
    }
}
