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
        let generator = BartGenerator(model: model)
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
