import SafeTensors
import TensorKernels
import XCTest

/// The bf16-weight projection against float32 `Linear` on the same (widened) weights, for the row counts
/// of decoder steps (1–16: the widen-and-dot path) and of an encoder (the blocked sgemm path), with
/// output sizes that are not multiples of the block.
final class BF16LinearTests: XCTestCase {
    func testMatchesFloat32LinearOnTheWidenedWeights() throws {
        var rng = SystemRandomNumberGenerator()
        for (inFeatures, outFeatures) in [(32, 40), (64, 130), (24, 7), (20, 3)] {
            let bits = (0..<(inFeatures * outFeatures)).map { _ in floatToBF16Bits(Float.random(in: -1...1, using: &rng)) }
            let bf16 = try BF16Linear(weight: bits, inFeatures: inFeatures, outFeatures: outFeatures)
            let reference = try Linear(weight: bf16.widened, bias: [], inFeatures: inFeatures, outFeatures: outFeatures)
            XCTAssertEqual(bf16.widened.map(floatToBF16Bits), bits, "widening is exact")
            for rows in [1, 2, 5, 16, 17, 70] {
                let x = (0..<(rows * inFeatures)).map { _ in Float.random(in: -2...2, using: &rng) }
                var expected = [Float](repeating: 0, count: rows * outFeatures), actual = expected
                x.withUnsafeBufferPointer { xp in
                    expected.withUnsafeMutableBufferPointer { reference.apply(xp.baseAddress!, rows: rows, into: $0.baseAddress!) }
                    actual.withUnsafeMutableBufferPointer { bf16.apply(xp.baseAddress!, rows: rows, into: $0.baseAddress!) }
                }
                let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 1e-4, "[\(outFeatures), \(inFeatures)] × \(rows) rows")
            }
        }
        XCTAssertThrowsError(try BF16Linear(weight: [1, 2, 3], inFeatures: 2, outFeatures: 2))
    }
}
