import Foundation
import XCTest

@testable import SafeTensors

final class SafeTensorsTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "safetensors-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func path(_ name: String) -> String { directory + "/" + name }

    private func writeBytes(_ bytes: [UInt8], _ name: String) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    private func fileWithHeader(_ header: String, data: [UInt8] = [], _ name: String) throws -> String {
        var bytes: [UInt8] = []
        var n = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(header.utf8))
        bytes.append(contentsOf: data)
        return try writeBytes(bytes, name)
    }

    func testRoundTripAllDTypes() throws {
        let values: [Float] = [0, 1, -2.5, 0.1, 1000, -0.000_123, 3.140_625]
        try SafeTensorsWriter.write(
            [
                TensorToWrite(name: "a", shape: [7], values: values, dtype: .f32),
                TensorToWrite(name: "b.weight", shape: [1, 7], values: values, dtype: .f16),
                TensorToWrite(name: "c", shape: [7, 1], values: values, dtype: .bf16),
            ], to: path("x.safetensors"), metadata: ["format": "pt"])
        let file = try SafeTensorsFile(path: path("x.safetensors"))
        XCTAssertEqual(file.names, ["a", "b.weight", "c"])
        XCTAssertEqual(file.metadata["format"], "pt")
        XCTAssertEqual(try file.floats("a"), values)
        XCTAssertEqual(file.tensors["b.weight"]?.dtype, .f16)
        let half = try file.floats("b.weight", shape: [1, 7])
        let brain = try file.floats("c", shape: [7, 1])
        for (i, v) in values.enumerated() {
            XCTAssertEqual(half[i], v, accuracy: abs(v) * 1e-3 + 1e-7)
            XCTAssertEqual(brain[i], v, accuracy: abs(v) * 8e-3 + 1e-7)
        }
        // Values exactly representable in the narrow types survive unchanged.
        XCTAssertEqual(half[2], -2.5)
        XCTAssertEqual(half[6], 3.140_625)
        XCTAssertEqual(brain[1], 1)
    }

    func testHalfConversionSpecialValues() {
        XCTAssertEqual(halfBitsToFloat(0x3C00), 1)
        XCTAssertEqual(halfBitsToFloat(0xC000), -2)
        XCTAssertEqual(halfBitsToFloat(0x7BFF), 65504)
        XCTAssertEqual(halfBitsToFloat(0x0001), Float(5.960_464_5e-8))  // smallest subnormal
        XCTAssertEqual(halfBitsToFloat(0x03FF), Float(6.097_555e-5))  // largest subnormal
        XCTAssertEqual(halfBitsToFloat(0x8000).sign, .minus)
        XCTAssertEqual(halfBitsToFloat(0x7C00), .infinity)
        XCTAssertEqual(halfBitsToFloat(0xFC00), -.infinity)
        XCTAssertTrue(halfBitsToFloat(0x7E00).isNaN)
        for bits in stride(from: 0, through: 0x7BFF, by: 97) {
            XCTAssertEqual(floatToHalfBits(halfBitsToFloat(UInt16(bits))), UInt16(bits))
        }
        XCTAssertEqual(bf16BitsToFloat(0x3F80), 1)
        XCTAssertEqual(bf16BitsToFloat(0xC0A0), -5)
    }

    func testMissingTensorAndWrongShape() throws {
        try SafeTensorsWriter.write([TensorToWrite(name: "w", shape: [2, 3], values: Array(repeating: 1, count: 6))], to: path("w.safetensors"))
        let file = try SafeTensorsFile(path: path("w.safetensors"))
        XCTAssertThrowsError(try file.floats("nope")) { error in
            XCTAssertEqual(error as? SafeTensorsError, .missingTensor(name: "nope"))
        }
        XCTAssertThrowsError(try file.floats("w", shape: [3, 2])) { error in
            XCTAssertEqual(error as? SafeTensorsError, .shapeMismatch(name: "w", expected: [3, 2], actual: [2, 3]))
        }
    }

    func testTruncatedFiles() throws {
        let data = try SafeTensorsWriter.encode([TensorToWrite(name: "w", shape: [4], values: [1, 2, 3, 4])])
        let cut = try writeBytes(Array(data.prefix(data.count - 3)), "cut.safetensors")
        XCTAssertThrowsError(try SafeTensorsFile(path: cut)) { error in
            guard case .truncated? = error as? SafeTensorsError else { return XCTFail("\(error)") }
        }
        let headerCut = try writeBytes(Array(data.prefix(12)), "header.safetensors")
        XCTAssertThrowsError(try SafeTensorsFile(path: headerCut)) { error in
            guard case .truncated? = error as? SafeTensorsError else { return XCTFail("\(error)") }
        }
        let tiny = try writeBytes([1, 2, 3], "tiny.safetensors")
        XCTAssertThrowsError(try SafeTensorsFile(path: tiny)) { error in
            guard case .truncated? = error as? SafeTensorsError else { return XCTFail("\(error)") }
        }
    }

    func testBadHeaders() throws {
        let cases: [(String, String)] = [
            ("{not json", "badjson"),
            ("[1, 2]", "array"),
            (#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}"#, "sizes"),
            (#"{"w": {"dtype": "F32", "shape": [1]}}"#, "offsets"),
            (#"{"w": {"dtype": "F32", "shape": "x", "data_offsets": [0, 4]}}"#, "shape"),
            (#"{"w": {"shape": [1], "data_offsets": [0, 4]}}"#, "dtype"),
        ]
        for (header, name) in cases {
            let p = try fileWithHeader(header, data: [0, 0, 0, 0, 0, 0, 0, 0], name)
            XCTAssertThrowsError(try SafeTensorsFile(path: p), name) { error in
                guard case .badHeader? = error as? SafeTensorsError else { return XCTFail("\(name): \(error)") }
            }
        }
        let p = try fileWithHeader(#"{"w": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]}}"#, data: Array(repeating: 0, count: 8), "u8")
        XCTAssertThrowsError(try SafeTensorsFile(path: p)) { error in
            XCTAssertEqual(error as? SafeTensorsError, .unsupportedDType(name: "w", dtype: "U8"))
        }
    }

    /// Index tables are stored as integers: read as `Int`s, never as floats, and a float tensor is not an
    /// index table.
    func testIntegerTensors() throws {
        let path = NSTemporaryDirectory() + "ints-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensorsWriter.write([
            TensorToWrite(name: "i64", shape: [2, 2], values: [0, -3, 65_537, 7], dtype: .i64),
            TensorToWrite(name: "i32", shape: [3], values: [5, -1, 2], dtype: .i32),
            TensorToWrite(name: "f", shape: [1], values: [1.5]),
        ], to: path)
        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(try file.ints("i64", shape: [2, 2]), [0, -3, 65_537, 7])
        XCTAssertEqual(try file.ints("i32"), [5, -1, 2])
        XCTAssertThrowsError(try file.ints("i64", shape: [4]))
        XCTAssertThrowsError(try file.ints("f")) { error in
            XCTAssertEqual(error as? SafeTensorsError, .unsupportedDType(name: "f", dtype: "F32 (I32 or I64 expected)"))
        }
        XCTAssertThrowsError(try file.floats("i64")) { error in
            XCTAssertEqual(error as? SafeTensorsError, .unsupportedDType(name: "i64", dtype: "I64 (a float type expected)"))
        }
    }

    func testMissingFile() {
        XCTAssertThrowsError(try SafeTensorsFile(path: path("absent.safetensors"))) { error in
            guard case .cannotOpen? = error as? SafeTensorsError else { return XCTFail("\(error)") }
        }
    }

    func testUnalignedDataIsReadCorrectly() throws {
        // A header whose length is not a multiple of 4 puts F32 data at an unaligned offset.
        var payload: [UInt8] = []
        for v: Float in [1.5, -2, 8] {
            var bits = v.bitPattern.littleEndian
            withUnsafeBytes(of: &bits) { payload.append(contentsOf: $0) }
        }
        let p = try fileWithHeader(#"{"v":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}} "#, data: payload, "unaligned")
        XCTAssertEqual(try SafeTensorsFile(path: p).floats("v"), [1.5, -2, 8])
    }
}
