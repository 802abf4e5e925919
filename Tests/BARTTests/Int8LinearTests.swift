import TensorKernels
import XCTest

/// The int8 linear layer (`Int8Rows` + oneDNN u8s8s32) against references written here in plain Swift:
/// the quantization rule itself, the exact integer product it implies, and the float32 layer within the
/// error bound that quantization allows.
final class Int8LinearTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Int8Rows.isSupported, "int8 needs VNNI; oneDNN finds \(Int8Rows.instructionSet)")
    }

    /// `q = round_half_even(w / (max|w| / 127))`, clamped to ±127, computed without the C kernel.
    private func referenceQuantize(_ row: ArraySlice<Float>) -> (q: [Int], scale: Float) {
        let m = row.map(abs).max() ?? 0
        let inv: Float = m > 0 ? 127 / m : 0
        return (row.map { Int(min(127, max(-127, $0 * inv)).rounded(.toNearestOrEven)) }, m / 127)
    }

    /// Activations: `[lo, hi]` = the row's range with 0, `scale = (hi − lo) / 255`, `zero = round(−lo / scale)`,
    /// `q = clamp(round_half_even(x / scale) + zero, 0, 255)`; returned as `q − zero` (what multiplies).
    private func referenceActivations(_ row: ArraySlice<Float>) -> (q: [Int], scale: Float) {
        let lo = min(0, row.min() ?? 0), hi = max(0, row.max() ?? 0)
        let scale = (hi - lo) / 255, inv: Float = scale > 0 ? 1 / scale : 0
        let zero = min(255, max(0, Int((-lo * inv).rounded(.toNearestOrEven))))
        return (row.map { min(255, max(0, Int(($0 * inv).rounded(.toNearestOrEven)) + zero)) - zero }, scale)
    }

    func testQuantizationRoundsHalfToEvenPerRowAndKeepsZeroRows() throws {
        // Row 0: max 127 → scale 1, so x/scale = x exactly: the halves show the rounding rule.
        // Row 1: all zeros. Row 2: random, 37 columns (an AVX2 block of 8 plus a scalar tail).
        let cols = 37
        var matrix = [Float](repeating: 0, count: 3 * cols)
        let halves: [Float] = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, 127]
        for (c, v) in halves.enumerated() { matrix[c] = v }
        var rng = SystemRandomNumberGenerator()
        for c in 0..<cols { matrix[2 * cols + c] = Float.random(in: -3...3, using: &rng) }
        let rows = matrix.withUnsafeBufferPointer { Int8Rows($0.baseAddress!, rows: 3, cols: cols) }
        let values = (0..<3 * cols).map { Int(rows.values[$0]) }
        XCTAssertEqual(Array(values[0..<8]), [0, 2, 2, 0, -2, -2, 126, 127])
        XCTAssertEqual(rows.scales[0], 1)
        XCTAssertEqual(Array(values[cols..<2 * cols]), [Int](repeating: 0, count: cols))
        XCTAssertEqual(rows.scales[1], 0)
        let reference = referenceQuantize(matrix[2 * cols..<3 * cols])
        XCTAssertEqual(Array(values[2 * cols..<3 * cols]), reference.q)
        XCTAssertEqual(rows.scales[2], reference.scale)
        // Filled in chunks of 2 rows: the same values.
        let chunked = Int8Rows(rows: 3, cols: cols, chunkRows: 2) { range, buffer in
            for (i, r) in range.enumerated() { for c in 0..<cols { buffer[i * cols + c] = matrix[r * cols + c] } }
        }
        XCTAssertTrue(chunked.hasSameValues(as: rows))
        XCTAssertEqual(rows.dequantized[2 * cols], Float(reference.q[0]) * reference.scale)
    }

    /// For every row count a decoder step or an encoder gives (1–16, 17, 70) and sizes with tails, the layer
    /// equals the exact product of the quantized operands, rescaled: `Σ (q_x − z_x) q_w · s_x · s_w + b`.
    func testEqualsTheExactProductOfTheQuantizedOperands() throws {
        var rng = SystemRandomNumberGenerator()
        for (inFeatures, outFeatures) in [(64, 40), (24, 7), (100, 130), (768, 9)] {
            let w = (0..<(inFeatures * outFeatures)).map { _ in Float.random(in: -0.2...0.2, using: &rng) }
            let bias = (0..<outFeatures).map { _ in Float.random(in: -1...1, using: &rng) }
            let layer = try Linear(weight: w, bias: bias, inFeatures: inFeatures, outFeatures: outFeatures).converted(to: .int8)
            XCTAssertEqual(layer.precision, .int8)
            XCTAssertTrue(layer.weight.isEmpty, "no float32 copy is kept")
            let weightRows = (0..<outFeatures).map { referenceQuantize(w[$0 * inFeatures..<($0 + 1) * inFeatures]) }
            for rows in [1, 2, 5, 16, 17, 70] {
                // Rows of either sign, and one-sided rows (after GELU) whose zero point sits at an end.
                let x = (0..<(rows * inFeatures)).map { i in
                    i / inFeatures % 3 == 2 ? Float.random(in: -0.1...4, using: &rng) : Float.random(in: -4...4, using: &rng)
                }
                var actual = [Float](repeating: .nan, count: rows * outFeatures)
                x.withUnsafeBufferPointer { xp in
                    actual.withUnsafeMutableBufferPointer { layer.apply(xp.baseAddress!, rows: rows, into: $0.baseAddress!) }
                }
                for r in 0..<rows {
                    let xr = referenceActivations(x[r * inFeatures..<(r + 1) * inFeatures])
                    for j in 0..<outFeatures {
                        let dot = zip(xr.q, weightRows[j].q).reduce(0) { $0 + $1.0 * $1.1 }
                        let expected = Float(dot) * (xr.scale * weightRows[j].scale) + bias[j]
                        XCTAssertEqual(actual[r * outFeatures + j], expected, accuracy: 1e-5 * max(1, abs(expected)),
                                       "[\(outFeatures), \(inFeatures)] × \(rows) rows, row \(r) column \(j)")
                    }
                }
            }
        }
    }

    /// Every few-row kernel this CPU has (AVX-512 VNNI, AVX-VNNI) gives the same values as oneDNN's GEMM
    /// on the same rows, split over 1 and 2 threads, with a partial last block of weight rows.
    func testFewRowKernelsAgreeWithOneDNN() throws {
        var rng = SystemRandomNumberGenerator()
        XCTAssertFalse(Int8Rows.fewRowKernels.isEmpty, "a VNNI CPU has a few-row kernel")
        for (inFeatures, outFeatures) in [(768, 3074), (40, 13)] {
            let w = (0..<(inFeatures * outFeatures)).map { _ in Float.random(in: -0.2...0.2, using: &rng) }
            let bias = (0..<outFeatures).map { _ in Float.random(in: -1...1, using: &rng) }
            let layer = try Linear(weight: w, bias: bias, inFeatures: inFeatures, outFeatures: outFeatures).converted(to: .int8)
            let rows = 7
            let x = (0..<(rows * inFeatures)).map { _ in Float.random(in: -4...4, using: &rng) }
            // 17 rows take oneDNN's path; the first 7 of them are the reference.
            let padded = x + [Float](repeating: 0.5, count: 10 * inFeatures)
            var reference = [Float](repeating: 0, count: 17 * outFeatures)
            padded.withUnsafeBufferPointer { xp in
                reference.withUnsafeMutableBufferPointer { layer.apply(xp.baseAddress!, rows: 17, into: $0.baseAddress!) }
            }
            for kernel in Int8Rows.fewRowKernels {
                for threads in [1, 2] {
                    var out = [Float](repeating: .nan, count: rows * outFeatures)
                    var scratch = [UInt8](repeating: 0, count: rows * inFeatures)
                    var scales = [Float](repeating: 0, count: rows)
                    var zeros = [Int32](repeating: 0, count: rows)
                    x.withUnsafeBufferPointer { xp in
                        bias.withUnsafeBufferPointer { b in
                            layer.int8!.multiplyFewRows(
                                xp.baseAddress!, rows: rows, bias: b.baseAddress, into: &out, threads: threads, kernel: kernel,
                                scratch: &scratch, rowScales: &scales, rowZeros: &zeros)
                        }
                    }
                    for i in 0..<(rows * outFeatures) {
                        XCTAssertEqual(out[i], reference[i], accuracy: 1e-5 * max(1, abs(reference[i])),
                                       "kernel \(kernel), \(threads) threads, [\(outFeatures), \(inFeatures)] at \(i)")
                    }
                }
            }
        }
    }

    /// Against float32 on the same weights, each output is within what quantization allows:
    /// `|y8 − y32| ≤ (s_x / 2)·‖w_j‖₁ + ‖x̂‖₁·(s_w,j / 2)` (plus float32 rounding), per element.
    func testStaysWithinTheQuantizationBoundOfFloat32() throws {
        var rng = SystemRandomNumberGenerator()
        let (inFeatures, outFeatures, rows) = (256, 96, 12)
        let w = (0..<(inFeatures * outFeatures)).map { _ in Float.random(in: -0.1...0.1, using: &rng) }
        let fp32 = try Linear(weight: w, bias: [], inFeatures: inFeatures, outFeatures: outFeatures)
        let int8 = try fp32.converted(to: .int8)
        let x = (0..<(rows * inFeatures)).map { _ in Float.random(in: -2...2, using: &rng) }
        var y32 = [Float](repeating: 0, count: rows * outFeatures), y8 = y32
        x.withUnsafeBufferPointer { xp in
            y32.withUnsafeMutableBufferPointer { fp32.apply(xp.baseAddress!, rows: rows, into: $0.baseAddress!) }
            y8.withUnsafeMutableBufferPointer { int8.apply(xp.baseAddress!, rows: rows, into: $0.baseAddress!) }
        }
        var worstShare: Float = 0
        for r in 0..<rows {
            let xr = x[r * inFeatures..<(r + 1) * inFeatures]
            let sx = (max(0, xr.max() ?? 0) - min(0, xr.min() ?? 0)) / 255
            let xHat = xr.map(abs).reduce(0, +) + sx / 2 * Float(inFeatures)
            for j in 0..<outFeatures {
                let wj = w[j * inFeatures..<(j + 1) * inFeatures]
                let sw = (wj.map(abs).max() ?? 0) / 127
                let bound = sx / 2 * wj.map(abs).reduce(0, +) + xHat * sw / 2 + 1e-5
                let error = abs(y8[r * outFeatures + j] - y32[r * outFeatures + j])
                XCTAssertLessThanOrEqual(error, bound, "row \(r) column \(j)")
                worstShare = max(worstShare, error / bound)
            }
        }
        // The bound is not vacuous: the errors reach a visible share of it.
        XCTAssertGreaterThan(worstShare, 0.01)
    }

    func testAnInt8LayerCannotGoBackToFloat32() throws {
        let layer = try Linear(weight: [1, 2, 3, 4], bias: [], inFeatures: 2, outFeatures: 2).converted(to: .int8)
        XCTAssertThrowsError(try layer.converted(to: .fp32))
        XCTAssertEqual(try layer.converted(to: .int8).int8 === layer.int8, true)
        XCTAssertThrowsError(try Linear(int8: layer.int8!, bias: [1, 2, 3]))
    }
}
