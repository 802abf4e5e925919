import BART
import Foundation
import SafeTensors
import XCTest

/// Model folder loading: config parsing, generation defaults, F16 weights, users, and clear errors.
final class LoadingTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "bart-loading-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A copy of a fixture folder that a test may damage.
    private func copy(_ name: String) throws -> String {
        let target = directory + "/" + name
        try FileManager.default.copyItem(atPath: Fixtures.folder(name), toPath: target)
        return target
    }

    private func editConfig(_ folder: String, _ edit: (inout [String: Any]) -> Void) throws {
        let path = folder + "/config.json"
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
    }

    func testConfigFromConfigJSON() throws {
        let c = try BartConfig.load(folder: Fixtures.folder("tiny"))
        XCTAssertEqual(c.vocabSize, 300)
        XCTAssertEqual(c.dModel, 32)
        XCTAssertEqual(c.encoderLayers, 2)
        XCTAssertEqual(c.decoderLayers, 2)
        XCTAssertEqual(c.encoderAttentionHeads, 4)
        XCTAssertEqual(c.encoderFFNDim, 64)
        XCTAssertEqual(c.maxPositionEmbeddings, 64)
        XCTAssertEqual(c.activation, "gelu")
        XCTAssertFalse(c.scaleEmbedding)
        XCTAssertEqual(c.embedScale, 1)
        XCTAssertEqual([c.padTokenId, c.bosTokenId, c.eosTokenId, c.decoderStartTokenId], [1, 0, 2, 2])
        XCTAssertNil(c.forcedBOSTokenId)
        XCTAssertEqual(c.forcedEOSTokenId, 2)
        // Legacy generation fields in config.json.
        XCTAssertEqual(c.generation.numBeams, 4)
        XCTAssertEqual(c.generation.maxLength, 20)
        XCTAssertEqual(c.generation.noRepeatNgramSize, 3)
        XCTAssertEqual(c.generation.lengthPenalty, 2.0)
        XCTAssertEqual(c.generation.earlyStopping, .stopEarly)
    }

    func testGenerationConfigJSONOverrides() throws {
        let c = try BartConfig.load(folder: Fixtures.folder("tiny-f16"))
        XCTAssertTrue(c.scaleEmbedding)
        XCTAssertEqual(c.embedScale, Float(32).squareRoot())
        XCTAssertEqual(c.forcedBOSTokenId, 0)
        XCTAssertEqual(c.generation.numBeams, 3)
        XCTAssertEqual(c.generation.maxLength, 18)
        XCTAssertEqual(c.generation.minLength, 4)
        XCTAssertEqual(c.generation.lengthPenalty, 1.5)
        XCTAssertEqual(c.generation.earlyStopping, .stopEarly)
    }

    func testF16WeightsAndUntiedHead() throws {
        let file = try SafeTensorsFile(path: Fixtures.folder("tiny-f16") + "/model.safetensors")
        XCTAssertEqual(file.tensors["model.shared.weight"]?.dtype, .f16)
        let model = try Fixtures.model("tiny-f16")
        XCTAssertNotEqual(model.weights.lmHead.weight, model.weights.shared)
        XCTAssertNil(model.users)
        let tied = try Fixtures.model("tiny")
        XCTAssertEqual(tied.weights.lmHead.weight, tied.weights.shared)
        XCTAssertEqual(tied.weights.lmHead.bias.count, 300)
        XCTAssertEqual(tied.users?.rows, 5)
        XCTAssertEqual(tied.users?.row(for: "carol"), 3)
        XCTAssertEqual(tied.users?.row(for: "nobody"), 0)
        XCTAssertEqual(tied.users?.row(for: nil), 0)
    }

    func testBadConfigs() throws {
        let wrongType = try copy("tiny")
        try editConfig(wrongType) { $0["model_type"] = "t5" }
        XCTAssertThrowsError(try BartModel.load(folder: wrongType)) { error in
            guard case .badConfig? = error as? BartError else { return XCTFail("\(error)") }
        }
        let missing = directory + "/missing"
        try FileManager.default.copyItem(atPath: wrongType, toPath: missing)
        try editConfig(missing) {
            $0["model_type"] = "bart"
            $0.removeValue(forKey: "d_model")
        }
        XCTAssertThrowsError(try BartModel.load(folder: missing)) { error in
            XCTAssertEqual(error as? BartError, .badConfig(path: missing + "/config.json", detail: "missing d_model"))
        }
        let heads = directory + "/heads"
        try FileManager.default.copyItem(atPath: missing, toPath: heads)
        try editConfig(heads) {
            $0["d_model"] = 30
        }
        XCTAssertThrowsError(try BartModel.load(folder: heads)) { error in
            guard case .badConfig? = error as? BartError else { return XCTFail("\(error)") }
        }
        let garbage = try copy("tiny-f16")
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: garbage + "/config.json"))
        XCTAssertThrowsError(try BartModel.load(folder: garbage)) { error in
            guard case .badConfig? = error as? BartError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try BartModel.load(folder: directory + "/nowhere")) { error in
            guard case .missingFile? = error as? BartError else { return XCTFail("\(error)") }
        }
    }

    func testTruncatedWeights() throws {
        let folder = try copy("tiny")
        let path = folder + "/model.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try BartModel.load(folder: folder)) { error in
            guard case .weights(.truncated)? = error as? BartError else { return XCTFail("\(error)") }
        }
    }

    func testMissingTensorAndWrongShape() throws {
        let folder = try copy("tiny")
        let path = folder + "/model.safetensors"
        let file = try SafeTensorsFile(path: path)
        var tensors: [TensorToWrite] = []
        for name in file.names where name != "model.decoder.layers.1.fc2.bias" {
            let info = file.tensors[name]!
            tensors.append(TensorToWrite(name: name, shape: info.shape, values: try file.floats(name)))
        }
        try SafeTensorsWriter.write(tensors, to: path)
        XCTAssertThrowsError(try BartModel.load(folder: folder)) { error in
            XCTAssertEqual(error as? BartError, .weights(.missingTensor(name: "model.decoder.layers.1.fc2.bias")))
        }
        tensors.append(TensorToWrite(name: "model.decoder.layers.1.fc2.bias", shape: [31], values: Array(repeating: 0, count: 31)))
        try SafeTensorsWriter.write(tensors, to: path)
        XCTAssertThrowsError(try BartModel.load(folder: folder)) { error in
            XCTAssertEqual(
                error as? BartError,
                .weights(.shapeMismatch(name: "model.decoder.layers.1.fc2.bias", expected: [32], actual: [31])))
        }
    }

    func testShardedWeightsLoadLikeOneFile() throws {
        let folder = try copy("tiny")
        let path = folder + "/model.safetensors"
        let file = try SafeTensorsFile(path: path)
        var shards: [[TensorToWrite]] = [[], []]
        var map: [String: String] = [:]
        for (i, name) in file.names.enumerated() {
            let info = file.tensors[name]!
            shards[i % 2].append(TensorToWrite(name: name, shape: info.shape, values: try file.floats(name), dtype: .f32))
            map[name] = "model-0000\(i % 2 + 1)-of-00002.safetensors"
        }
        for (i, shard) in shards.enumerated() {
            try SafeTensorsWriter.write(shard, to: folder + "/model-0000\(i + 1)-of-00002.safetensors")
        }
        try JSONSerialization.data(withJSONObject: ["metadata": [:] as [String: Any], "weight_map": map])
            .write(to: URL(fileURLWithPath: folder + "/model.safetensors.index.json"))
        try FileManager.default.removeItem(atPath: path)
        let sharded = try BartModel.load(folder: folder)
        let reference = try Fixtures.model("tiny")
        let input = [0, 31, 45, 99, 12, 2]
        XCTAssertEqual(try sharded.logits(input: input, decoderPrefix: [2, 0]), try reference.logits(input: input, decoderPrefix: [2, 0]))
        sharded.releaseScratch()
        XCTAssertEqual(try sharded.encode([input]).hidden, try reference.encode([input]).hidden)
    }

    func testBadUsersFiles() throws {
        let folder = try copy("tiny")
        try Data(#"{"alice": 9}"#.utf8).write(to: URL(fileURLWithPath: folder + "/users.json"))
        XCTAssertThrowsError(try BartModel.load(folder: folder)) { error in
            guard case .badUsers? = error as? BartError else { return XCTFail("\(error)") }
        }
        try Data(#"{"alice": "one"}"#.utf8).write(to: URL(fileURLWithPath: folder + "/users.json"))
        XCTAssertThrowsError(try BartModel.load(folder: folder)) { error in
            guard case .badUsers? = error as? BartError else { return XCTFail("\(error)") }
        }
        try SafeTensorsWriter.write(
            [TensorToWrite(name: "user_embeddings", shape: [2, 31], values: Array(repeating: 0, count: 62))],
            to: folder + "/user_embeddings.safetensors")
        XCTAssertThrowsError(try BartModel.load(folder: folder)) { error in
            guard case .weights(.shapeMismatch)? = error as? BartError else { return XCTFail("\(error)") }
        }
    }

    func testInvalidInputs() throws {
        let model = try Fixtures.model("tiny")
        XCTAssertThrowsError(try model.encode([[0, 300, 2]])) { error in
            XCTAssertEqual(error as? BartError, .tokenOutOfRange(id: 300, vocabSize: 300))
        }
        XCTAssertThrowsError(try model.encode([[]])) { error in
            XCTAssertEqual(error as? BartError, .emptyInput)
        }
        XCTAssertThrowsError(try model.encode([Array(repeating: 5, count: 65)])) { error in
            XCTAssertEqual(error as? BartError, .inputTooLong(length: 65, maximum: 64))
        }
    }
}
