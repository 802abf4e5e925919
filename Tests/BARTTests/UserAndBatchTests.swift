import BART
import Generation
import TensorKernels
import XCTest

/// Prism user vectors, cold starts, and batched generation equal to one-by-one generation.
final class UserAndBatchTests: XCTestCase {
    private let input = [0, 31, 45, 99, 12, 2]

    func testColdStartFlagsAndZeroVector() throws {
        let model = try Fixtures.model("tiny")
        let out = try model.encode([input, input, input, input], users: ["alice", nil, "nobody", "bob"])
        XCTAssertEqual(out.coldStart, [false, true, true, false])
        // Unknown and missing users both add the zero row: the same states (up to BLAS row blocking).
        assertClose(Array(out.state(1, 3)), Array(out.state(2, 3)), tolerance: 1e-5, "cold starts")
        let alone = try model.encode([input])
        assertClose(Array(out.state(2, 3)), Array(alone.state(0, 3)), tolerance: 1e-5, "no user")
        XCTAssertNotEqual(Array(out.state(0, 3)), Array(out.state(1, 3)))
        XCTAssertNotEqual(Array(out.state(0, 3)), Array(out.state(3, 3)))
    }

    func testUserRowIsAddedBeforePositionsAndLayerNorm() throws {
        // h0 = LN(E[x]·s + U[u] + P[i]); with d ≠ 0 adding U only through E gives the same result.
        let model = try Fixtures.model("tiny")
        guard let users = model.users else { return XCTFail("tiny has users") }
        let row = users.row(for: "dave")
        var shifted = model.weights
        let d = model.config.dModel
        // Build a model without users whose token table already holds E[x]·s + U[row] for token 31.
        var table = shifted.encoderTokens
        for j in 0..<d { table[31 * d + j] += users.table[row * d + j] / model.config.embedScale }
        shifted.encoderTokens = table
        let plain = try BartModel(config: model.config, weights: shifted)
        let a = try model.encode([[31, 31, 31]], users: ["dave"])
        let b = try plain.encode([[31, 31, 31]])
        assertClose(a.hidden, b.hidden, tolerance: 1e-5, "user row placement")
        XCTAssertEqual(b.coldStart, [true])
    }

    func testModelWithoutUsersIsAlwaysColdStart() throws {
        let model = try Fixtures.model("tiny-f16")
        let result = try Seq2SeqGenerator(model: model).generate(
            GenerationRequest(inputIds: input, userId: "alice"), config: GenerationConfig(model: model.config))
        XCTAssertTrue(result.coldStart)
    }

    /// A padded batch: each sequence's real positions come out as when it is encoded alone (no work is
    /// spent on padding), and the padded rows are zeros with mask 0.
    func testPaddedBatchEncodesEachSequenceAlone() throws {
        let model = try Fixtures.model("tiny")
        let inputs = [[0, 5, 2], [0, 250, 251, 17, 18, 19, 20, 21, 22, 2], input]
        let users: [String?] = ["alice", nil, "bob"]
        let batch = try model.encode(inputs, users: users)
        XCTAssertEqual(batch.length, 10)
        for (b, ids) in inputs.enumerated() {
            let alone = try model.encode([ids], users: [users[b]])
            for i in 0..<batch.length {
                if i < ids.count {
                    XCTAssertEqual(batch.mask[b * batch.length + i], 1)
                    assertClose(Array(batch.state(b, i)), Array(alone.state(0, i)), tolerance: 1e-5, "sequence \(b), position \(i)")
                } else {
                    XCTAssertEqual(batch.mask[b * batch.length + i], 0)
                    XCTAssertEqual(Array(batch.state(b, i)), [Float](repeating: 0, count: batch.dModel), "padding \(b), \(i)")
                }
            }
        }
    }

    func testBatchedGreedyEqualsSingle() throws {
        let model = try Fixtures.model("tiny")
        let generator = Seq2SeqGenerator(model: model)
        var config = GenerationConfig(model: model.config)
        config.numBeams = 1
        config.noRepeatNgramSize = 0
        config.maxLength = 18
        let requests = [
            GenerationRequest(inputIds: [0, 7, 8, 9, 2], userId: "carol"),
            GenerationRequest(inputIds: [0, 250, 251, 17, 18, 19, 20, 21, 22, 2]),
            GenerationRequest(inputIds: [0, 5, 2], userId: "alice"),
            GenerationRequest(inputIds: input, userId: "nobody"),
        ]
        let batched = try generator.generate(requests, config: config)
        for (i, request) in requests.enumerated() {
            let single = try generator.generate(request, config: config)
            XCTAssertEqual(batched[i], single, "request \(i)")
        }
        XCTAssertEqual(batched.map(\.coldStart), [false, true, false, true])
    }

    func testBatchedBeamSearchEqualsSingle() throws {
        let model = try Fixtures.model("tiny")
        let generator = Seq2SeqGenerator(model: model)
        var config = GenerationConfig(model: model.config)
        config.numBeams = 3
        config.maxLength = 14
        let requests = [
            GenerationRequest(inputIds: [0, 7, 8, 9, 2]),
            GenerationRequest(inputIds: [0, 250, 251, 17, 18, 19, 20, 2], userId: "bob"),
        ]
        let batched = try generator.generate(requests, config: config)
        for (i, request) in requests.enumerated() {
            let single = try generator.generate(request, config: config)
            XCTAssertEqual(batched[i].tokens, single.tokens, "request \(i)")
            XCTAssertEqual(batched[i].score ?? 0, single.score ?? 1, accuracy: 1e-5)
        }
    }

    /// With two threads the decode step splits its rows (cross-attention, each part with its own scores
    /// scratch, sized again when the thread count grows): the same tokens as with one thread.
    func testTwoThreadsDecodeLikeOne() throws {
        let model = try Fixtures.model("tiny")
        defer { BLAS.setThreads(1) }
        let generator = Seq2SeqGenerator(model: model)
        var config = GenerationConfig(model: model.config)
        config.numBeams = 3
        config.maxLength = 14
        let requests = [
            GenerationRequest(inputIds: [0, 7, 8, 9, 2], userId: "alice"),
            GenerationRequest(inputIds: [0, 250, 251, 17, 18, 19, 20, 2]),
            GenerationRequest(inputIds: [0, 41, 42, 43, 2], userId: "bob"),
        ]
        BLAS.setThreads(1)
        let one = try generator.generate(requests, config: config)
        BLAS.setThreads(2)
        let two = try generator.generate(requests, config: config)
        for i in requests.indices {
            XCTAssertEqual(two[i].tokens, one[i].tokens, "request \(i)")
            XCTAssertEqual(two[i].score ?? 0, one[i].score ?? 1, accuracy: 1e-5)
        }
    }

    func testDecoderStateIsReusedAcrossRequests() throws {
        // Large then small request through the same model: results must not depend on old scratch.
        let model = try Fixtures.model("tiny")
        let generator = Seq2SeqGenerator(model: model)
        var config = GenerationConfig(model: model.config)
        config.numBeams = 1
        config.maxLength = 12
        let small = GenerationRequest(inputIds: [0, 5, 2])
        let before = try generator.generate(small, config: config)
        _ = try generator.generate(
            Array(repeating: GenerationRequest(inputIds: Array(repeating: 9, count: 40)), count: 5), config: config)
        XCTAssertEqual(try generator.generate(small, config: config), before)
    }
}
