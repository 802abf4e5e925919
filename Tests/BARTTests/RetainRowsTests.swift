import BART
import Generation
import XCTest

/// Dropping finished rows from a batch (`retainRows`): kept rows decode exactly as before, and batched
/// greedy generation with rows finishing at different steps equals one-by-one generation.
final class RetainRowsTests: XCTestCase {
    private let inputs = [[0, 7, 8, 9, 2], [0, 250, 251, 17, 18, 19, 20, 2], [0, 41, 42, 43, 44, 2]]

    func testKeptRowsDecodeAsWithoutDropping() throws {
        let model = try Fixtures.model("tiny")
        let vocab = model.config.vocabSize
        let steps = [[2, 2, 2], [30, 31, 32], [40, 41, 42], [50, 51, 52], [60, 61, 62]]
        // Reference: all three rows for every step.
        let encoder = try model.encode(inputs, users: ["alice", nil, "bob"])
        try model.beginDecoding(encoder, maxSteps: steps.count)
        var full: [[Float]] = []
        for tokens in steps {
            let logits = try model.decodeStep(tokens)
            full.append(Array(UnsafeBufferPointer(start: logits, count: 3 * vocab)))
        }
        // Rows 0 and 2 only from the third step on.
        try model.beginDecoding(encoder, maxSteps: steps.count)
        for (step, tokens) in steps.enumerated() {
            if step == 2 { try [0, 2].withUnsafeBufferPointer { try model.retainRows($0) } }
            let kept = step < 2 ? tokens : [tokens[0], tokens[2]]
            let logits = try model.decodeStep(kept)
            XCTAssertEqual(model.decodingRows, kept.count)
            let rows = step < 2 ? [0, 1, 2] : [0, 2]
            for (i, row) in rows.enumerated() {
                let got = Array(UnsafeBufferPointer(start: logits + i * vocab, count: vocab))
                assertClose(got, Array(full[step][(row * vocab)..<((row + 1) * vocab)]), tolerance: 1e-5,
                            "step \(step), row \(row)")
            }
        }
    }

    func testRejectsBadRowLists() throws {
        let model = try Fixtures.model("tiny")
        let encoder = try model.encode(inputs)
        try model.beginDecoding(encoder, maxSteps: 4)
        for bad in [[], [1, 0], [0, 3], [-1], [0, 0]] {
            XCTAssertThrowsError(try bad.withUnsafeBufferPointer { try model.retainRows($0) }, "\(bad)")
        }
        try model.beginDecoding(encoder, rowsPerItem: 2, maxSteps: 4)
        XCTAssertThrowsError(try [0, 1].withUnsafeBufferPointer { try model.retainRows($0) }, "beam session")
    }

    /// EOS is set to a token one request produces early and another never does: the batch drops the
    /// finished row mid-way and every request still gets what it gets alone.
    func testBatchWithRowsFinishingEarlyEqualsSingle() throws {
        let model = try Fixtures.model("tiny")
        let generator = Seq2SeqGenerator(model: model)
        var config = GenerationConfig(model: model.config)
        config.numBeams = 1
        config.noRepeatNgramSize = 0
        config.maxLength = 16
        config.forcedEOSTokenId = nil
        let requests = inputs.enumerated().map { i, ids in GenerationRequest(inputIds: ids, userId: i == 1 ? "carol" : nil) }
        // Free-running outputs (EOS on an id nobody produces) to pick an EOS that ends rows at different steps.
        config.eosTokenId = model.config.vocabSize - 1
        let free = try requests.map { try generator.generate($0, config: config).tokens }
        var chosen: Int?
        for t in free[0].dropFirst().prefix(6) where t != config.eosTokenId {
            let ends = free.map { $0.dropFirst().firstIndex(of: t) }
            if ends.contains(where: { $0 == nil }) || Set(ends.compactMap { $0 }).count > 1 { chosen = t; break }
        }
        let eos = try XCTUnwrap(chosen, "an EOS candidate that ends the rows at different steps")
        config.eosTokenId = eos
        let batched = try generator.generate(requests, config: config)
        let lengths = Set(batched.map(\.tokens.count))
        XCTAssertGreaterThan(lengths.count, 1, "rows finish at different steps")
        for (i, request) in requests.enumerated() {
            XCTAssertEqual(batched[i], try generator.generate(request, config: config), "request \(i)")
        }
    }
}
