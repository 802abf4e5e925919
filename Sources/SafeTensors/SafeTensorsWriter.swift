import Foundation

/// One tensor to write: a name, a shape and row-major values stored as `dtype` (integer dtypes store
/// the values as integers; they must be whole numbers).
public struct TensorToWrite: Sendable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]
    public var dtype: SafeTensorsDType

    public init(name: String, shape: [Int], values: [Float], dtype: SafeTensorsDType = .f32) {
        self.name = name
        self.shape = shape
        self.values = values
        self.dtype = dtype
    }
}

/// Serializes tensors in the safetensors format (for tests and tools; the model path only reads).
public enum SafeTensorsWriter {
    /// The bytes of a safetensors file holding `tensors` (in the given order) and optional metadata.
    public static func encode(_ tensors: [TensorToWrite], metadata: [String: String] = [:]) throws -> Data {
        var header = "{"
        var parts: [String] = []
        if !metadata.isEmpty {
            let meta = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            parts.append("\"__metadata__\":{\(meta.joined(separator: ","))}")
        }
        var offset = 0
        for t in tensors {
            let count = t.shape.reduce(1, *)
            guard count == t.values.count else {
                throw SafeTensorsError.shapeMismatch(name: t.name, expected: t.shape, actual: [t.values.count])
            }
            let bytes = count * t.dtype.byteSize
            let shape = t.shape.map(String.init).joined(separator: ",")
            parts.append(
                "\(jsonString(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        header += parts.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var data = Data()
        var length = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for t in tensors {
            switch t.dtype {
            case .f32:
                for v in t.values {
                    var bits = v.bitPattern.littleEndian
                    withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
                }
            case .f16, .bf16:
                for v in t.values {
                    var bits = (t.dtype == .f16 ? floatToHalfBits(v) : floatToBF16Bits(v)).littleEndian
                    withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
                }
            case .i32:
                for v in t.values {
                    var bits = Int32(v).littleEndian
                    withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
                }
            case .i64:
                for v in t.values {
                    var bits = Int64(v).littleEndian
                    withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
                }
            }
        }
        return data
    }

    /// Writes `tensors` to `path`.
    public static func write(_ tensors: [TensorToWrite], to path: String, metadata: [String: String] = [:]) throws {
        let data = try encode(tensors, metadata: metadata)
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw SafeTensorsError.cannotWrite(path: path, detail: "\(error)")
        }
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
