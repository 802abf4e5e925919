@testable import BART
import Foundation
import TensorKernels
import XCTest

/// binary16 storage: the C conversions against Swift's own `Float16`, and the cross-attention step over
/// binary16 keys and values against the float32 step on the same (rounded) values.
final class HalfTests: XCTestCase {
    /// Values across the binary16 range: normals, subnormals, ties, signed zeros and values past ±65504.
    private static let samples: [Float] = {
        var values: [Float] = [0, -0, 1, -1, 0.1, 65504, -65504, 65519, 65520, 1e6, -1e9, .infinity, -.infinity,
                               6.1035156e-05, 6.0e-05, 5.9604645e-08, 2.9802322e-08, 2.9802326e-08, 8.940697e-08,
                               1.0009766, 1.00048828125, 1.00146484375, 2049, 2051, .leastNonzeroMagnitude]
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        for _ in 0..<4000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let bits = UInt32(truncatingIfNeeded: state >> 32)
            let exponent = Float(Int(bits % 48) - 30)  // 2^-30 … 2^17
            let mantissa = Float(bits >> 8) / Float(1 << 24)
            values.append((bits & 1 == 0 ? 1 : -1) * (1 + mantissa) * Float(pow(2.0, Double(exponent))))
        }
        return values
    }()

    /// Rounded to nearest, ties to even (Swift's `Float16(_:)`), except that values past the range (infinities
    /// too) clamp to ±65504; every stored value converts back exactly.
    func testConversionsMatchFloat16() {
        let x = Self.samples
        // Whole arrays (8 lanes at a time, then a tail) and one value at a time (the scalar path).
        for chunk in [x.count, 1, 7] {
            var stored = [UInt16](repeating: 0xffff, count: x.count)
            var start = 0
            while start < x.count {
                let n = min(chunk, x.count - start)
                x.withUnsafeBufferPointer { src in
                    stored.withUnsafeMutableBufferPointer { Half.store(src.baseAddress! + start, count: n, into: $0.baseAddress! + start) }
                }
                start += n
            }
            for (i, value) in x.enumerated() {
                let clamped = value.isNaN ? value : min(65504, max(-65504, value))
                let expected = Float16(clamped)
                XCTAssertEqual(stored[i], expected.bitPattern, "\(value) (chunks of \(chunk))")
            }
            var back = [Float](repeating: .nan, count: x.count)
            stored.withUnsafeBufferPointer { src in
                back.withUnsafeMutableBufferPointer { Half.load(src.baseAddress!, count: chunk == 1 ? 7 : x.count, into: $0.baseAddress!) }
            }
            for i in 0..<(chunk == 1 ? 7 : x.count) {
                XCTAssertEqual(back[i].bitPattern, Float(Float16(bitPattern: stored[i])).bitPattern, "load \(stored[i])")
            }
        }
        var nan: [UInt16] = [0]
        Half.store([Float.nan], count: 1, into: &nan)
        XCTAssertTrue(Float16(bitPattern: nan[0]).isNaN)
    }

    /// The binary16 step equals `interleaved` on the rounded keys and values (float32 accumulation both),
    /// with masked positions, a head size that is not a multiple of 16 and one that is not a multiple of 8.
    func testHalfCrossAttentionMatchesFloatOnRoundedValues() {
        for (heads, headDim) in [(12, 64), (3, 24), (2, 12)] {
            for length in [1, 9, 400] {
                let width = heads * headDim
                let k32 = (0..<(length * width)).map { Float(sin(Double($0) * 0.37)) * 3 }
                let v32 = (0..<(length * width)).map { Float(cos(Double($0) * 0.11)) * 2 }
                var k16 = [UInt16](repeating: 0, count: k32.count), v16 = k16
                Half.store(k32, count: k32.count, into: &k16)
                Half.store(v32, count: v32.count, into: &v16)
                let kRounded = k16.map { Float(Float16(bitPattern: $0)) }, vRounded = v16.map { Float(Float16(bitPattern: $0)) }
                let q = (0..<width).map { Float(sin(Double($0) * 1.3)) }
                var mask = [UInt8](repeating: 1, count: length)
                if length > 3 { mask[3] = 0 }
                var expected = [Float](repeating: .nan, count: width), got = expected
                var scores = [Float](repeating: 0, count: heads * length)
                Attention.interleaved(q: q, keys: kRounded, values: vRounded, length: length, heads: heads, headDim: headDim,
                                      scale: 0.125, keyMask: mask, scores: &scores, out: &expected)
                Attention.interleavedHalf(q: q, keys: k16, values: v16, length: length, heads: heads, headDim: headDim,
                                          scale: 0.125, keyMask: mask, scores: &scores, out: &got)
                for i in 0..<width {
                    XCTAssertEqual(got[i], expected[i], accuracy: 2e-6 * max(1, abs(expected[i])),
                                   "\(heads)×\(headDim), \(length) keys, output \(i)")
                }
            }
        }
    }

    /// An int8 model keeps its cross-attention keys and values in binary16 (half the bytes of float32's);
    /// a float32 model keeps float32, so its results stay those of the reference implementations.
    func testInt8ModelStoresCrossKeysValuesInHalf() throws {
        try XCTSkipUnless(Int8Rows.isSupported, "int8 needs VNNI; oneDNN finds \(Int8Rows.instructionSet)")
        let c = BartConfig(vocabSize: 300, dModel: 64, encoderLayers: 1, decoderLayers: 2, encoderAttentionHeads: 4,
                           decoderAttentionHeads: 4, encoderFFNDim: 128, decoderFFNDim: 128, maxPositionEmbeddings: 64)
        var bytes: [Precision: Int] = [:]
        for precision in [Precision.fp32, .int8] {
            let model = try BartModel(config: c, weights: try BartWeights.random(config: c, seed: 3, precision: precision))
            let encoder = try model.encode([[0, 10, 20, 30, 2], [0, 40, 2]])
            try model.beginDecoding(encoder, maxSteps: 4)
            let cross = try XCTUnwrap(model.decoderState?.cross)
            XCTAssertEqual(cross.isHalf, precision == .int8)
            bytes[precision] = cross.bytes
            _ = try model.decodeStep([2, 2])
        }
        XCTAssertEqual(bytes[.fp32], 2 * 2 * 2 * 5 * 64 * 4)
        XCTAssertEqual(bytes[.int8].map { $0 * 2 }, bytes[.fp32])
    }
}
