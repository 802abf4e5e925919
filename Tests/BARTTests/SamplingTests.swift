import BART
import Generation
import XCTest

/// Seeded sampling: determinism and the warpers' distribution logic.
final class SamplingTests: XCTestCase {
    private func config(_ model: BartModel) -> GenerationConfig {
        var c = GenerationConfig(model: model.config)
        c.numBeams = 1
        c.noRepeatNgramSize = 0
        c.maxLength = 16
        return c
    }

    func testTopKOneEqualsGreedy() throws {
        let model = try Fixtures.model("tiny")
        let generator = Seq2SeqGenerator(model: model)
        let requests = [GenerationRequest(inputIds: [0, 31, 45, 99, 12, 2]), GenerationRequest(inputIds: [0, 7, 8, 2])]
        let greedy = try generator.generate(requests, config: config(model))
        var sampled = config(model)
        sampled.doSample = true
        sampled.topK = 1
        sampled.temperature = 0.7
        for seed: UInt64 in [1, 2, 3] {
            sampled.seed = seed
            XCTAssertEqual(try generator.generate(requests, config: sampled), greedy)
        }
        // A tiny nucleus keeps only the top token too.
        sampled.topK = 0
        sampled.topP = 1e-6
        XCTAssertEqual(try generator.generate(requests, config: sampled), greedy)
    }

    func testSeededSamplingIsDeterministicAndVaries() throws {
        let model = try Fixtures.model("tiny")
        let generator = Seq2SeqGenerator(model: model)
        var c = config(model)
        c.doSample = true
        c.temperature = 3
        let request = GenerationRequest(inputIds: [0, 31, 45, 99, 12, 2])
        c.seed = 42
        let a = try generator.generate(request, config: c)
        XCTAssertEqual(try generator.generate(request, config: c), a)
        var outputs = Set<[Int]>()
        for seed: UInt64 in 0..<8 {
            c.seed = seed
            outputs.insert(try generator.generate(request, config: c).tokens)
        }
        XCTAssertGreaterThan(outputs.count, 1, "high temperature sampling should vary with the seed")
        // A request's own seed makes it independent of its batch position.
        let seeded = GenerationRequest(inputIds: [0, 31, 45, 99, 12, 2], seed: 7)
        let alone = try generator.generate(seeded, config: c)
        let inBatch = try generator.generate([GenerationRequest(inputIds: [0, 5, 2]), seeded], config: c)
        XCTAssertEqual(inBatch[1], alone)
    }

    func testSampledTokensStayInsideTopK() throws {
        let model = try Fixtures.model("tiny")
        let generator = Seq2SeqGenerator(model: model)
        var c = config(model)
        c.doSample = true
        c.temperature = 5
        c.topK = 3
        c.maxLength = 2
        c.forcedEOSTokenId = nil
        let input = [0, 31, 45, 99, 12, 2]
        let first = try model.logits(input: input, decoderPrefix: [2])[0]
        let top3 = Set(first.enumerated().sorted { $0.element > $1.element }.prefix(3).map(\.offset))
        var seen = Set<Int>()
        for seed: UInt64 in 0..<60 {
            c.seed = seed
            let token = try generator.generate(GenerationRequest(inputIds: input), config: c).tokens[1]
            XCTAssertTrue(top3.contains(token), "token \(token) outside the top 3")
            seen.insert(token)
        }
        XCTAssertEqual(seen, top3, "with temperature 5 all three should be drawn within 60 seeds")
    }

    func testSeededGeneratorUniformity() {
        var rng = SeededGenerator(seed: 123)
        var buckets = [Int](repeating: 0, count: 10)
        for _ in 0..<10_000 { buckets[Int(rng.nextUnit() * 10)] += 1 }
        for b in buckets { XCTAssertEqual(Double(b), 1000, accuracy: 150) }
        var again = SeededGenerator(seed: 123)
        var other = SeededGenerator(seed: 124)
        XCTAssertNotEqual(again.next(), other.next())
    }

    func testInvalidGenerationSettings() throws {
        let model = try Fixtures.model("tiny")
        let generator = Seq2SeqGenerator(model: model)
        var c = config(model)
        c.doSample = true
        c.numBeams = 2
        XCTAssertThrowsError(try generator.generate(GenerationRequest(inputIds: [0, 2]), config: c)) { error in
            XCTAssertEqual(error as? GenerationError, .invalidConfig("sampling with beams is not supported"))
        }
        c.numBeams = 1
        c.topP = 0
        XCTAssertThrowsError(try generator.generate(GenerationRequest(inputIds: [0, 2]), config: c))
        c = config(model)
        c.maxLength = 100
        XCTAssertThrowsError(try generator.generate(GenerationRequest(inputIds: [0, 2]), config: c)) { error in
            XCTAssertEqual(error as? GenerationError, .outputTooLong(length: 99, maximum: 64))
        }
    }
}
