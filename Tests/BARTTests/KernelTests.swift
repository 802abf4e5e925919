import Foundation
import TensorKernels
import XCTest

/// Kernels against naive reference implementations.
final class KernelTests: XCTestCase {
    private func random(_ n: Int, seed: Int) -> [Float] {
        (0..<n).map { i in Float(sin(Double(i * 7919 + seed * 104_729) * 0.001)) }
    }

    func testLinearGemvAndGemmAgreeWithNaive() throws {
        let (inF, outF, rows) = (13, 7, 5)
        let w = random(inF * outF, seed: 1)
        let b = random(outF, seed: 2)
        let x = random(rows * inF, seed: 3)
        let linear = try Linear(weight: w, bias: b, inFeatures: inF, outFeatures: outF)
        var expected = [Float](repeating: 0, count: rows * outF)
        for r in 0..<rows {
            for o in 0..<outF {
                var s = b[o]
                for i in 0..<inF { s += x[r * inF + i] * w[o * inF + i] }
                expected[r * outF + o] = s
            }
        }
        var many = [Float](repeating: 0, count: rows * outF)
        x.withUnsafeBufferPointer { xp in many.withUnsafeMutableBufferPointer { linear.apply(xp.baseAddress!, rows: rows, into: $0.baseAddress!) } }
        assertClose(many, expected, tolerance: 1e-5, "gemm")
        var one = [Float](repeating: 0, count: outF)
        x.withUnsafeBufferPointer { xp in one.withUnsafeMutableBufferPointer { linear.apply(xp.baseAddress! + 2 * inF, rows: 1, into: $0.baseAddress!) } }
        assertClose(one, Array(expected[(2 * outF)..<(3 * outF)]), tolerance: 1e-5, "gemv")
        XCTAssertThrowsError(try Linear(weight: w, bias: [1], inFeatures: inF, outFeatures: outF))
    }

    func testActivationsAndSoftmax() {
        var g: [Float] = [-3, -1, 0, 0.5, 2]
        g.withUnsafeMutableBufferPointer { Activation.gelu.apply($0.baseAddress!, count: 5) }
        // Exact erf GELU values (torch.nn.functional.gelu).
        assertClose(g, [-0.0040496, -0.1586553, 0, 0.3457312, 1.9544997], tolerance: 1e-6, "gelu")
        var s: [Float] = [1, 2, 3, -.infinity]
        s.withUnsafeMutableBufferPointer { Softmax.apply($0.baseAddress!, count: 4) }
        assertClose(s, [0.09003057, 0.24472847, 0.66524096, 0], tolerance: 1e-6, "softmax")
        var l: [Float] = [1, 2, 3]
        l.withUnsafeMutableBufferPointer { Softmax.applyLog($0.baseAddress!, count: 3) }
        assertClose(l, [-2.407606, -1.4076059, -0.40760595], tolerance: 1e-6, "log softmax")
        var masked: [Float] = [-.infinity, -.infinity]
        masked.withUnsafeMutableBufferPointer { Softmax.apply($0.baseAddress!, count: 2) }
        XCTAssertEqual(masked, [0.5, 0.5])
    }

    func testLayerNorm() throws {
        let norm = try LayerNorm(gamma: [1, 2, 0.5, 1], beta: [0, 1, 0, -1])
        var x: [Float] = [1, 2, 3, 4]
        x.withUnsafeMutableBufferPointer { norm.apply($0.baseAddress!, rows: 1) }
        let inv = 1 / (1.25 + 1e-5).squareRoot()
        assertClose(x, [Float(-1.5 * inv), Float(-1 * inv) + 1, Float(0.25 * inv), Float(1.5 * inv) - 1], tolerance: 1e-5, "layer norm")
    }

    func testBLASThreads() {
        let before = BLAS.threads
        BLAS.setThreads(1)
        XCTAssertEqual(BLAS.threads, 1)
        BLAS.setThreads(before)
    }
}

/// When `prism` restarts itself to give OpenBLAS better kernels (BLASKernels).
final class BLASKernelChoiceTests: XCTestCase {
    let avx512: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512_vnni"]

    func testAGenericChoiceOnAModernCPUIsUpgraded() {
        // A virtual CPU model OpenBLAS does not know: its SSE3 fallback on a CPU with AVX-512.
        XCTAssertEqual(BLASKernels.betterCore(than: "Prescott", flags: avx512), "SkylakeX")
        XCTAssertEqual(BLASKernels.betterCore(than: "Core2", flags: avx512.subtracting(["avx512bw"])), "Haswell")
        XCTAssertEqual(BLASKernels.betterCore(than: "Nehalem", flags: ["sse3", "avx", "avx2", "fma"]), "Haswell")
    }

    func testAKnownChoiceOrAnOldCPUIsLeftAlone() {
        for core in ["Haswell", "SkylakeX", "Zen", "Cooperlake", "SapphireRapids", "skylakex"] {
            XCTAssertNil(BLASKernels.betterCore(than: core, flags: avx512), core)
        }
        XCTAssertNil(BLASKernels.betterCore(than: "Prescott", flags: ["sse3", "avx"]), "no AVX2: its choice stands")
        XCTAssertNil(BLASKernels.betterCore(than: "Prescott", flags: []))
    }

    func testTheLoadedLibraryNamesItsKernels() {
        XCTAssertFalse(BLASKernels.coreName.isEmpty)
        XCTAssertNotEqual(BLASKernels.coreName, "unknown")
    }
}
