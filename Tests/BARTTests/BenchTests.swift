import BART
import BARTBench
import XCTest

/// The benchmark on a tiny architecture: runs, counts tokens and reports.
final class BenchTests: XCTestCase {
    func testTinyBenchRuns() throws {
        var options = BARTBenchOptions()
        options.config = BartConfig(
            vocabSize: 120, dModel: 16, encoderLayers: 1, decoderLayers: 1, encoderAttentionHeads: 2,
            decoderAttentionHeads: 2, encoderFFNDim: 32, decoderFFNDim: 32, maxPositionEmbeddings: 64)
        options.inputLength = 20
        options.newTokens = 5
        options.batchSizes = [1, 3]
        options.runs = 2
        options.warmupRuns = 0
        let results = try BARTBench.run(options)
        XCTAssertEqual(results.map(\.batchSize), [1, 3])
        for r in results {
            XCTAssertEqual(r.runSeconds.count, 2)
            XCTAssertGreaterThan(r.explanationsPerSecond, 0)
            XCTAssertGreaterThan(r.peakRSSBytes ?? 0, 0)
        }
        XCTAssertTrue(BARTBench.report(results, options: options).contains("explanations/s"))
    }
}
