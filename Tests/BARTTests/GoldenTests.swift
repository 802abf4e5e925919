import BART
import Foundation
import Generation
import TensorKernels
import XCTest

/// Compares the Swift model with transformers' outputs recorded in goldens.json.
final class GoldenTests: XCTestCase {
    func testGoldensArePresent() {
        XCTAssertFalse(Fixtures.cases("encoder").isEmpty)
        XCTAssertFalse(Fixtures.cases("logits").isEmpty)
        XCTAssertFalse(Fixtures.cases("generate").isEmpty)
    }

    func testEncoderOutputsMatchTransformers() throws {
        for (n, c) in Fixtures.cases("encoder").enumerated() {
            let model = try Fixtures.model(c["model"] as? String ?? "")
            let inputs = intRows(c["inputs"])
            let out = try model.encode(inputs, users: users(c["users"]))
            let expected = c["hidden"] as? [Any] ?? []
            XCTAssertEqual(expected.count, inputs.count)
            for (b, rows) in expected.enumerated() {
                let want = floatRows(rows)
                for (i, row) in want.enumerated() {
                    assertClose(Array(out.state(b, i)), row, "encoder case \(n) seq \(b) pos \(i)")
                }
            }
        }
    }

    /// The same goldens with two BLAS threads: the encoder's attention heads and GELU are then split
    /// over threads by Prism itself.
    func testEncoderOutputsMatchTransformersWithTwoThreads() throws {
        let before = BLAS.threads
        BLAS.setThreads(2)
        defer { BLAS.setThreads(before) }
        try testEncoderOutputsMatchTransformers()
    }

    func testLogitsMatchTransformers() throws {
        for (n, c) in Fixtures.cases("logits").enumerated() {
            let model = try Fixtures.model(c["model"] as? String ?? "")
            let logits = try model.logits(
                input: ints(c["input"]), decoderPrefix: ints(c["decoder_prefix"]), user: c["user"] as? String)
            let want = floatRows(c["logits"])
            XCTAssertEqual(logits.count, want.count)
            for (i, row) in want.enumerated() {
                assertClose(logits[i], row, "logits case \(n) position \(i)")
            }
        }
    }

    func testGenerationMatchesTransformers() throws {
        for (n, c) in Fixtures.cases("generate").enumerated() {
            let model = try Fixtures.model(c["model"] as? String ?? "")
            let config = generationConfig(c["kwargs"] as? [String: Any] ?? [:], model: model)
            let inputs = intRows(c["inputs"])
            let who = users(c["users"])
            let requests = zip(inputs, who).map { GenerationRequest(inputIds: $0, userId: $1) }
            let results = try Seq2SeqGenerator(model: model).generate(requests, config: config)
            XCTAssertEqual(
                padded(results, pad: model.config.padTokenId), intRows(c["sequences"]),
                "generate case \(n) \(c["kwargs"] ?? "")")
            let scores = floats(c["scores"])
            for (i, s) in scores.enumerated() {
                XCTAssertEqual(results[i].score ?? .nan, s, accuracy: 1e-4, "generate case \(n) score \(i)")
            }
        }
    }
}
