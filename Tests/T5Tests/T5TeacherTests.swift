import Foundation
import Generation
import PrismTeacher
import PrismTeacherT5
import PrismWire
import T5
import TensorKernels
import Tokenizers
import XCTest

/// The in-process T5 teacher: the text the model generates for each prompt, the shard's decoding
/// options validated, and a cancelled shard stopping between batches.
final class T5TeacherTests: XCTestCase {
    static let folder = T5ParityTests.root + "/v1_1"

    func prompts(_ texts: [String]) -> [TeacherPrompt] {
        texts.enumerated().map { i, text in
            var prompt = TeacherPrompt()
            prompt.sampleID = "s\(i)"
            prompt.prompt = text
            return prompt
        }
    }

    func testOutputsAreTheModelsGreedyTextsInOrder() async throws {
        let teacher = try await T5Teacher(folder: Self.folder, batchSize: 2)
        let texts = ["explain: the user watched Heat and Casino", "A quiet film about a family wedding.", "short", "Toy Story"]
        var decoding = Decoding()
        decoding.maxNewTokens = 8
        let outputs = await teacher.generate(prompts(texts), decoding: decoding)
        await teacher.shutdown()
        XCTAssertEqual(teacher.teacherID, "t5:v1_1")
        // The reference: the same model and tokenizer, one prompt at a time.
        let model = try T5Model.load(folder: Self.folder)
        let tokenizer = try Tokenizer(contentsOf: URL(fileURLWithPath: Self.folder + "/tokenizer.json"))
        var config = GenerationConfig(model: model.config)
        config.maxNewTokens = 8
        config.numBeams = 1
        for (text, output) in zip(texts, outputs) {
            let ids = tokenizer.encode(text)
            let result = try Seq2SeqGenerator(model: model).generate(GenerationRequest(inputIds: ids), config: config)
            let generated = Array(result.generatedTokens)
            XCTAssertEqual(output.status.code, .ok, output.status.message)
            XCTAssertEqual(output.text, tokenizer.decode(generated).trimmingCharacters(in: .whitespacesAndNewlines), text)
            XCTAssertEqual(output.finishReason, generated.last == model.config.eosTokenId ? "stop" : "length")
            XCTAssertEqual(output.promptTokens, ids.count)
        }
    }

    /// An int8 teacher writes what the int8 model generates and is recorded as such (its goldens are not
    /// the float32 model's).
    func testInt8TeacherIsTheInt8ModelAndSaysSo() async throws {
        try XCTSkipUnless(Int8Rows.isSupported, "int8 needs VNNI; oneDNN finds \(Int8Rows.instructionSet)")
        let teacher = try await T5Teacher(folder: Self.folder, batchSize: 2, precision: .int8)
        var decoding = Decoding()
        decoding.maxNewTokens = 6
        let texts = ["explain: the user watched Heat and Casino", "Toy Story"]
        let outputs = await teacher.generate(prompts(texts), decoding: decoding)
        await teacher.shutdown()
        XCTAssertEqual(teacher.teacherID, "t5:v1_1@int8")
        let model = try T5Model.load(folder: Self.folder, precision: .int8)
        let tokenizer = try Tokenizer(contentsOf: URL(fileURLWithPath: Self.folder + "/tokenizer.json"))
        var config = GenerationConfig(model: model.config)
        config.maxNewTokens = 6
        config.numBeams = 1
        for (text, output) in zip(texts, outputs) {
            let result = try Seq2SeqGenerator(model: model).generate(GenerationRequest(inputIds: tokenizer.encode(text)), config: config)
            XCTAssertEqual(output.status.code, .ok, output.status.message)
            XCTAssertEqual(output.text, tokenizer.decode(Array(result.generatedTokens)).trimmingCharacters(in: .whitespacesAndNewlines), text)
        }
    }

    func testInvalidDecodingIsRefusedPerPrompt() async throws {
        let teacher = try await T5Teacher(folder: Self.folder)
        defer { Task { await teacher.shutdown() } }
        for edit in [{ (d: inout Decoding) in d.topP = 1.5 }, { $0.temperature = -1 }, { $0.temperature = 0.7; $0.numBeams = 2 },
                     { $0.maxNewTokens = 5_000 }] {
            var decoding = Decoding()
            edit(&decoding)
            let outputs = await teacher.generate(prompts(["a", "b"]), decoding: decoding)
            XCTAssertEqual(outputs.map(\.status.code), [.invalidArgument, .invalidArgument], "\(decoding)")
        }
        let empty = await teacher.generate(prompts([""]), decoding: Decoding())
        XCTAssertEqual(empty.first?.status.code, .invalidArgument)
    }

    func testACancelledShardStopsBetweenBatches() async throws {
        let teacher = try await T5Teacher(folder: Self.folder, batchSize: 1)
        var decoding = Decoding()
        decoding.maxNewTokens = 16
        let texts = (0..<40).map { "prompt number \($0) about a family wedding" }
        let shard = prompts(texts)
        let task = Task { await teacher.generate(shard, decoding: decoding) }
        task.cancel()
        let outputs = await task.value
        await teacher.shutdown()
        XCTAssertEqual(outputs.count, 40)
        XCTAssertEqual(outputs.last?.status.code, .cancelled)
        // Every prompt either ran whole or was not started.
        XCTAssertTrue(outputs.allSatisfy { $0.status.code == .ok || ($0.status.code == .cancelled && $0.text.isEmpty) })
        let firstCancelled = try XCTUnwrap(outputs.firstIndex { $0.status.code == .cancelled })
        XCTAssertTrue(outputs[firstCancelled...].allSatisfy { $0.status.code == .cancelled })
    }
}
