/// Everything that can go wrong while reading a safetensors file.
///
/// Every failure on file input is reported through this enum; the reader never traps.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or mapped (`errno` from the system call).
    case cannotOpen(path: String, errno: Int32)
    /// The file is shorter than its own header says it should be.
    case truncated(path: String, detail: String)
    /// The JSON header is not valid safetensors JSON.
    case badHeader(path: String, detail: String)
    /// A tensor's entry names a dtype this reader does not convert.
    case unsupportedDType(name: String, dtype: String)
    /// No tensor of that name in the file.
    case missingTensor(name: String)
    /// The tensor exists but has another shape than expected.
    case shapeMismatch(name: String, expected: [Int], actual: [Int])
    /// Writing a file failed.
    case cannotWrite(path: String, detail: String)
    /// A model folder has neither `model.safetensors` nor `model.safetensors.index.json`.
    case missingWeights(folder: String)
    /// `model.safetensors.index.json` is not a valid index.
    case badIndex(path: String, detail: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, errno):
            return "safetensors: cannot open \(path) (errno \(errno))"
        case let .truncated(path, detail):
            return "safetensors: \(path) is truncated: \(detail)"
        case let .badHeader(path, detail):
            return "safetensors: bad header in \(path): \(detail)"
        case let .unsupportedDType(name, dtype):
            return "safetensors: tensor \(name) has unsupported dtype \(dtype)"
        case let .missingTensor(name):
            return "safetensors: missing tensor \(name)"
        case let .shapeMismatch(name, expected, actual):
            return "safetensors: tensor \(name) has shape \(actual), expected \(expected)"
        case let .cannotWrite(path, detail):
            return "safetensors: cannot write \(path): \(detail)"
        case let .missingWeights(folder):
            return "safetensors: \(folder) has no model.safetensors nor model.safetensors.index.json"
        case let .badIndex(path, detail):
            return "safetensors: bad index \(path): \(detail)"
        }
    }
}
