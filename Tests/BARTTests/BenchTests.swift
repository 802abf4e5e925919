import BART
import BARTBench
import XCTest

/// The benchmark on a tiny architecture: runs, counts tokens and reports.
final class BenchTests: XCTestCase {
    /// /proc pads the value with spaces after the tab only below 8 digits: from 10 GB up the line is
    /// "VmHWM:\t11221504 kB" (a 10.9 GB T5-XL read as 0 before).
    func testPeakRSSIsReadAtEverySize() {
        let status = { (field: String) in "Name:\tprism\nVmPeak:\t12000000 kB\nVmHWM:\(field) kB\nVmRSS:\t  123 kB\n" }
        XCTAssertEqual(BARTBench.peakRSSBytes(status: status("\t11221504")), 11_221_504 * 1024)
        XCTAssertEqual(BARTBench.peakRSSBytes(status: status("\t 1705000")), 1_705_000 * 1024)
        XCTAssertEqual(BARTBench.peakRSSBytes(status: status("\t     512")), 512 * 1024)
        XCTAssertNil(BARTBench.peakRSSBytes(status: "Name:\tprism\n"))
        XCTAssertNotNil(BARTBench.peakRSSBytes())
    }

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
