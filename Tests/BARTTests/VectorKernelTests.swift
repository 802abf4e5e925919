import Foundation
import TensorKernels
import XCTest

/// The SIMD paths (8 lanes at a time) of the element-wise kernels against libm / Double references.
final class VectorKernelTests: XCTestCase {
    private let inputs: [Float] = (0..<203).map { i in Float(i - 101) * 0.071 + Float(sin(Double(i))) * 0.01 }

    func testExpAndErfLanes() {
        var i = 0
        while i + 8 <= inputs.count {
            let x = Float8((0..<8).map { inputs[i + $0] * 4 })
            let e = VectorMath.exp(x)
            let f = VectorMath.erf(x * 0.3)
            for lane in 0..<8 {
                let expected = Foundation.exp(Double(x[lane]))
                XCTAssertEqual(Double(e[lane]), expected, accuracy: expected * 3e-7, "exp(\(x[lane]))")
                XCTAssertEqual(Double(f[lane]), Foundation.erf(Double(x[lane] * 0.3)), accuracy: 3e-7, "erf")
            }
            i += 8
        }
        let edge = VectorMath.exp(Float8(-.infinity, -200, -87, 0, 1, 80, 88, -1))
        XCTAssertEqual(edge[0], 0)
        XCTAssertEqual(edge[1], 0)
        XCTAssertEqual(edge[3], 1)
        XCTAssertEqual(Double(edge[6]), Foundation.exp(88.0), accuracy: Foundation.exp(88.0) * 1e-6)
    }

    /// gelu_new (T5's gated-gelu) and SiLU through the vector exp, against float64 formulas, over the
    /// tails too (|x| up to 60: the exp saturates, never NaN) and a count that is not a multiple of 8.
    func testGeluNewAndSiluLanes() {
        let xs = inputs.map { $0 * 3 } + [-60, -30, -12, -9.5, 9.5, 12, 30, 60, 0, -0.0, 1e-6, -1e-6, 5]
        for activation in [Activation.geluNew, .silu] {
            var y = xs
            y.withUnsafeMutableBufferPointer { activation.apply($0.baseAddress!, count: $0.count) }
            for (x, got) in zip(xs, y) {
                let v = Double(x)
                let expected = activation == .geluNew
                    ? 0.5 * v * (1 + Foundation.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)))
                    : v / (1 + Foundation.exp(-v))
                XCTAssertFalse(got.isNaN, "\(activation)(\(x))")
                XCTAssertEqual(Double(got), expected, accuracy: 1e-7 + abs(expected) * 6e-7, "\(activation)(\(x))")
            }
        }
    }

    func testGeluSoftmaxLayerNormLongRows() throws {
        var g = inputs
        g.withUnsafeMutableBufferPointer { Activation.gelu.apply($0.baseAddress!, count: $0.count) }
        for (x, y) in zip(inputs, g) {
            let v = Double(x)
            let expected = 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))
            XCTAssertEqual(Double(y), expected, accuracy: 3e-7 + abs(expected) * 2.5e-7)
        }

        var s = inputs.map { $0 * 3 }
        s[5] = -.infinity
        s.withUnsafeMutableBufferPointer { Softmax.apply($0.baseAddress!, count: $0.count) }
        let m = inputs.map { Double($0 * 3) }.max()!
        let z = inputs.enumerated().reduce(0.0) { $0 + ($1.offset == 5 ? 0 : Foundation.exp(Double($1.element * 3) - m)) }
        for (j, x) in inputs.enumerated() {
            let expected = j == 5 ? 0 : Foundation.exp(Double(x * 3) - m) / z
            XCTAssertEqual(Double(s[j]), expected, accuracy: 1e-7 + expected * 1e-5)
        }

        let d = inputs.count
        let gamma = (0..<d).map { Float(1 + $0 % 3) * 0.5 }
        let beta = (0..<d).map { Float($0 % 5) * 0.1 }
        let norm = try LayerNorm(gamma: gamma, beta: beta)
        var x = inputs + inputs.map { $0 * 2 + 1 }
        let reference = x
        x.withUnsafeMutableBufferPointer { norm.apply($0.baseAddress!, rows: 2) }
        for r in 0..<2 {
            let row = reference[(r * d)..<((r + 1) * d)].map(Double.init)
            let mean = row.reduce(0, +) / Double(d)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d)
            for i in 0..<d {
                let expected = (row[i] - mean) / (variance + 1e-5).squareRoot() * Double(gamma[i]) + Double(beta[i])
                XCTAssertEqual(Double(x[r * d + i]), expected, accuracy: 2e-5)
            }
        }
    }

    /// Log-softmax over a 50k-vocabulary row (SIMD exp, partial sums flushed to Double) against a float64
    /// reference; banned (−∞) entries stay −∞, and a row length off the 8-lane grid takes the scalar tail.
    func testLogSoftmaxVocabularyRow() {
        for count in [50_265, 13] {
            var x = (0..<count).map { Float(sin(Double($0) * 0.0137) * 6 + cos(Double($0) * 1.7)) }
            x[3] = -.infinity
            let reference = x.map(Double.init)
            x.withUnsafeMutableBufferPointer { Softmax.applyLog($0.baseAddress!, count: count) }
            let m = reference.max()!
            let logSum = Foundation.log(reference.reduce(0.0) { $0 + ($1 == -.infinity ? 0 : Foundation.exp($1 - m)) })
            XCTAssertEqual(x[3], -.infinity)
            for j in 0..<count where j != 3 {
                XCTAssertEqual(Double(x[j]), reference[j] - m - logSum, accuracy: 2e-5, "\(count): \(j)")
            }
        }
    }

    /// `cached` (SIMD and BLAS paths) and `interleaved` (the cross-attention kernel, including a head size
    /// that is not a multiple of 16 floats and one that falls back to `cached`) against a Double reference.
    func testStridedCachedAttentionMatchesNaive() {
        for (heads, headDim) in [(2, 8), (3, 24), (2, 12)] {
            let length = 600
            let width = heads * headDim
            let keys = (0..<(length * width)).map { Float(sin(Double($0) * 0.37)) }
            let values = (0..<(length * width)).map { Float(cos(Double($0) * 0.11)) }
            let q = (0..<width).map { Float(sin(Double($0) * 1.3)) }
            var mask = [UInt8](repeating: 1, count: length)
            mask[3] = 0
            for n in [10, length] {  // the SIMD path and the BLAS path of `cached`
                for kernel in ["cached", "interleaved"] {
                    var out = [Float](repeating: .nan, count: width)
                    var scores = [Float](repeating: 0, count: heads * length)
                    if kernel == "cached" {
                        Attention.cached(
                            q: q, keys: keys, values: values, headStride: headDim, rowStride: width, length: n,
                            heads: heads, headDim: headDim, scale: 0.5, keyMask: mask, scores: &scores, out: &out)
                    } else {
                        Attention.interleaved(
                            q: q, keys: keys, values: values, length: n, heads: heads, headDim: headDim, scale: 0.5,
                            keyMask: mask, scores: &scores, out: &out)
                    }
                    for h in 0..<heads {
                        var p = (0..<n).map { j -> Double in
                            if mask[j] == 0 { return -.infinity }
                            return 0.5 * (0..<headDim).reduce(0.0) {
                                $0 + Double(q[h * headDim + $1] * keys[j * width + h * headDim + $1])
                            }
                        }
                        let m = p.max()!
                        p = p.map { Foundation.exp($0 - m) }
                        let z = p.reduce(0, +)
                        for dd in 0..<headDim {
                            let expected = (0..<n).reduce(0.0) {
                                $0 + p[$1] / z * Double(values[$1 * width + h * headDim + dd])
                            }
                            XCTAssertEqual(Double(out[h * headDim + dd]), expected, accuracy: 1e-5,
                                           "\(kernel) heads \(heads)×\(headDim) n \(n) head \(h)")
                        }
                    }
                }
            }
        }
    }

    /// Work split over threads (GELU over pieces of the array, encoder attention over groups of heads with
    /// single-threaded BLAS inside) gives what the one-thread path gives.
    func testThreadedActivationAndFullAttention() {
        let count = 3 * 32_768 + 13  // three pieces, and a tail that is not a multiple of 8
        let x = (0..<count).map { Float(sin(Double($0) * 0.013)) * 4 }
        var one = x, two = x
        one.withUnsafeMutableBufferPointer { Activation.gelu.apply($0.baseAddress!, count: count, threads: 1) }
        two.withUnsafeMutableBufferPointer { Activation.gelu.apply($0.baseAddress!, count: count, threads: 3) }
        XCTAssertEqual(one, two)
        XCTAssertNotEqual(one, x)

        let (heads, headDim, length) = (5, 16, 37)
        let width = heads * headDim
        let q = (0..<(length * width)).map { Float(sin(Double($0) * 0.7)) }
        let k = (0..<(length * width)).map { Float(cos(Double($0) * 0.3)) }
        let v = (0..<(length * width)).map { Float(sin(Double($0) * 0.05)) }
        var mask = [UInt8](repeating: 1, count: length)
        mask[length - 1] = 0
        let before = BLAS.threads
        BLAS.setThreads(2)
        defer { BLAS.setThreads(before) }
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            var out = [Float](repeating: .nan, count: length * width)
            var scores = [Float](repeating: 0, count: Attention.scoresCapacity(
                queryLength: length, keyLength: length, heads: heads, threads: threads))
            Attention.full(
                q: q, k: k, v: v, ld: width, queryLength: length, keyLength: length, heads: heads,
                headDim: headDim, scale: 0.25, keyMask: mask, causal: threads == 3, threads: threads,
                scores: &scores, out: &out, ldOut: width)
            results.append(out)
            XCTAssertEqual(BLAS.threads, 2, "the BLAS thread count is restored")
        }
        for (a, b) in zip(results[0], results[1]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertFalse(results[1].contains { $0.isNaN })
        // Causal (threads 3): the first query sees only the first key, so its output is that key's value.
        for dd in 0..<width { XCTAssertEqual(results[2][dd], v[dd], accuracy: 1e-6) }
    }
}
