import TensorKernels
import XCTest

/// `SkinnyGEMM` (the few-row decoder product) against a float64 reference and against OpenBLAS `sgemm`.
final class SkinnyGEMMTests: XCTestCase {
    /// Every row count it takes, output sizes with 0, 1 and 2 rows past a multiple of 3, with and
    /// without bias, one and two threads (the two-thread case large enough to split).
    func testMatchesReferenceForEveryRowCount() {
        for rows in 1...SkinnyGEMM.maxRows {
            for (n, k) in [(9, 8), (10, 16), (11, 24), (3 * 1200 + 2, 64)] {
                for withBias in [false, true] {
                    check(rows: rows, n: n, k: k, withBias: withBias, threads: rows % 2 + 1)
                }
            }
        }
    }

    /// The threaded split writes exactly what one thread does (each part owns whole output columns).
    func testThreadedSplitEqualsSingleThread() {
        let (rows, n, k) = (4, 3 * 4000 + 1, 768)
        let x = values(rows * k, 0.37), w = values(n * k, 0.71), bias = values(n, 0.13)
        XCTAssertGreaterThan(rows * n * k, 4 * 768 * 768, "large enough to be split")
        let one = multiply(x, rows: rows, w, n: n, k: k, bias: bias, threads: 1)
        let two = multiply(x, rows: rows, w, n: n, k: k, bias: bias, threads: 2)
        XCTAssertEqual(one, two)
    }

    /// `Linear.apply` with 2…16 rows (the skinny path) agrees with OpenBLAS `sgemm` on the same product.
    func testLinearAgreesWithSgemm() throws {
        let (n, k) = (1000, 96)
        let w = values(n * k, 0.29), bias = values(n, 0.51)
        let linear = try Linear(weight: w, bias: bias, inFeatures: k, outFeatures: n)
        for rows in [2, 3, 4, 7, 16] {
            let x = values(rows * k, Double(rows) * 0.11)
            var out = [Float](repeating: .nan, count: rows * n)
            x.withUnsafeBufferPointer { xb in
                out.withUnsafeMutableBufferPointer { linear.apply(xb.baseAddress!, rows: rows, into: $0.baseAddress!) }
            }
            var blas = [Float](repeating: 0, count: rows * n)
            for r in 0..<rows { for j in 0..<n { blas[r * n + j] = bias[j] } }
            x.withUnsafeBufferPointer { xb in
                w.withUnsafeBufferPointer { wb in
                    blas.withUnsafeMutableBufferPointer {
                        BLAS.gemmNT(m: rows, n: n, k: k, a: xb.baseAddress!, lda: k, b: wb.baseAddress!, ldb: k,
                                    beta: 1, c: $0.baseAddress!, ldc: n)
                    }
                }
            }
            for i in 0..<(rows * n) { XCTAssertEqual(out[i], blas[i], accuracy: 1e-4, "rows \(rows), element \(i)") }
        }
    }

    func testSupportsOnlyWhatItComputes() {
        XCTAssertFalse(SkinnyGEMM.supports(rows: 0, inFeatures: 64))
        XCTAssertFalse(SkinnyGEMM.supports(rows: SkinnyGEMM.maxRows + 1, inFeatures: 64))
        XCTAssertFalse(SkinnyGEMM.supports(rows: 4, inFeatures: 60))
        XCTAssertTrue(SkinnyGEMM.supports(rows: 4, inFeatures: 64))
    }

    private func check(rows: Int, n: Int, k: Int, withBias: Bool, threads: Int) {
        let x = values(rows * k, 0.3 + Double(rows)), w = values(n * k, 0.77)
        let bias = withBias ? values(n, 0.19) : []
        let y = multiply(x, rows: rows, w, n: n, k: k, bias: bias, threads: threads)
        for r in 0..<rows {
            for j in 0..<n {
                var exact = withBias ? Double(bias[j]) : 0
                for c in 0..<k { exact += Double(x[r * k + c]) * Double(w[j * k + c]) }
                XCTAssertEqual(Double(y[r * n + j]), exact, accuracy: 1e-4,
                               "rows \(rows) n \(n) k \(k) bias \(withBias): [\(r), \(j)]")
            }
        }
    }

    private func multiply(_ x: [Float], rows: Int, _ w: [Float], n: Int, k: Int, bias: [Float], threads: Int) -> [Float] {
        var y = [Float](repeating: .nan, count: rows * n)
        x.withUnsafeBufferPointer { xb in
            w.withUnsafeBufferPointer { wb in
                bias.withUnsafeBufferPointer { bb in
                    y.withUnsafeMutableBufferPointer {
                        SkinnyGEMM.multiply(
                            xb.baseAddress!, rows: rows, weight: wb.baseAddress!, inFeatures: k, outFeatures: n,
                            bias: bias.isEmpty ? nil : bb.baseAddress, into: $0.baseAddress!, threads: threads)
                    }
                }
            }
        }
        return y
    }

    private func values(_ count: Int, _ phase: Double) -> [Float] {
        (0..<count).map { Float(sin(Double($0) * 0.613 + phase)) }
    }
}
