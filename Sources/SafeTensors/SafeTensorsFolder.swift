import Foundation

/// The weights of a Hugging Face model folder: one `model.safetensors`, or the shards that
/// `model.safetensors.index.json` lists (every tensor is looked up in the shard the index names).
public struct SafeTensorsFolder: Sendable {
    public let files: [SafeTensorsFile]
    /// Tensor name → index into `files` (from the index, or from the single file's header).
    private let shardOf: [String: Int]

    public init(folder: String) throws {
        let single = folder + "/model.safetensors"
        let indexPath = folder + "/model.safetensors.index.json"
        let fm = FileManager.default
        if fm.fileExists(atPath: single) {
            let file = try SafeTensorsFile(path: single)
            files = [file]
            shardOf = Dictionary(uniqueKeysWithValues: file.tensors.keys.map { ($0, 0) })
            return
        }
        guard fm.fileExists(atPath: indexPath) else { throw SafeTensorsError.missingWeights(folder: folder) }
        guard let data = fm.contents(atPath: indexPath),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SafeTensorsError.badIndex(path: indexPath, detail: "not a JSON object")
        }
        guard let map = json["weight_map"] as? [String: Any] else {
            throw SafeTensorsError.badIndex(path: indexPath, detail: "no weight_map object")
        }
        var shards: [String: Int] = [:]
        var files: [SafeTensorsFile] = []
        var shardOf: [String: Int] = [:]
        for (tensor, value) in map.sorted(by: { $0.key < $1.key }) {
            guard let shard = value as? String, !shard.isEmpty, !shard.contains("/") else {
                throw SafeTensorsError.badIndex(path: indexPath, detail: "tensor \(tensor) names no shard file in the folder")
            }
            if shards[shard] == nil {
                shards[shard] = files.count
                files.append(try SafeTensorsFile(path: folder + "/" + shard))
            }
            let index = shards[shard]!
            guard files[index].contains(tensor) else {
                throw SafeTensorsError.badIndex(path: indexPath, detail: "\(shard) has no tensor \(tensor)")
            }
            shardOf[tensor] = index
        }
        self.files = files
        self.shardOf = shardOf
    }

    public func contains(_ name: String) -> Bool { shardOf[name] != nil }

    /// The tensor's entry (dtype, shape), if present.
    public func info(_ name: String) -> TensorInfo? { shardOf[name].flatMap { files[$0].tensors[name] } }

    /// The tensor's raw bfloat16 bits (stored as BF16), checked against `shape`.
    public func bf16Bits(_ name: String, _ shape: [Int]) throws -> [UInt16] {
        guard let index = shardOf[name] else { throw SafeTensorsError.missingTensor(name: name) }
        return try files[index].bf16Bits(name, shape: shape)
    }

    /// The integer tensor as `Int`s, checked against `shape`.
    public func ints(_ name: String, _ shape: [Int]) throws -> [Int] {
        guard let index = shardOf[name] else { throw SafeTensorsError.missingTensor(name: name) }
        return try files[index].ints(name, shape: shape)
    }

    /// Rows `rows` (first dimension) of the tensor as `Float`s into `out`, checked against `shape`.
    public func floats(_ name: String, _ shape: [Int], rows: Range<Int>, into out: UnsafeMutablePointer<Float>) throws {
        guard let index = shardOf[name] else { throw SafeTensorsError.missingTensor(name: name) }
        try files[index].floats(name, shape: shape, rows: rows, into: out)
    }

    /// The tensor as `Float`s, checked against `shape`.
    public func floats(_ name: String, _ shape: [Int]) throws -> [Float] {
        guard let index = shardOf[name] else { throw SafeTensorsError.missingTensor(name: name) }
        return try files[index].floats(name, shape: shape)
    }
}
