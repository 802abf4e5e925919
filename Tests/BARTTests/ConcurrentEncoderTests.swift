import BART
import TensorKernels
import XCTest

/// A batch encoded a sequence per thread (whole rounds of `threads` sequences, the remainder on every
/// thread at once) gives each sequence what encoding it alone gives, at float32 and at int8; so do the
/// int8 decoder's binary16 cross-attention keys and values, projected an item per thread.
final class ConcurrentEncoderTests: XCTestCase {
    private var savedThreads = 1

    override func setUp() {
        savedThreads = BLAS.threads
        BLAS.setThreads(2)
    }

    override func tearDown() { BLAS.setThreads(savedThreads) }

    /// 5 sequences of different lengths on 2 threads: 4 run two at a time (longest first, each to the less
    /// loaded thread), the shortest alone on both threads.
    private let inputs: [[Int]] = [
        [0, 5, 2], [0, 250, 251, 17, 18, 19, 20, 21, 22, 2], [0, 31, 45, 99, 12, 2],
        [0] + (1...40).map { ($0 * 37) % 250 + 3 } + [2], [0, 7, 8, 9, 10, 11, 2],
    ]

    private func assertEachSequenceAsAlone(_ model: BartModel, users: [String?], tolerance: Float,
                                           file: StaticString = #filePath, line: UInt = #line) throws {
        let batch = try model.encode(inputs, users: users)
        for (b, ids) in inputs.enumerated() {
            let alone = try model.encode([ids], users: [users[b]])
            for i in 0..<batch.length {
                let row = Array(batch.state(b, i))
                if i < ids.count {
                    let expected = Array(alone.state(0, i))
                    for (x, y) in zip(row, expected) {
                        XCTAssertEqual(x, y, accuracy: tolerance * max(1, abs(y)), "sequence \(b), position \(i)", file: file, line: line)
                    }
                } else {
                    XCTAssertEqual(row, [Float](repeating: 0, count: batch.dModel), "padding \(b), \(i)", file: file, line: line)
                }
            }
        }
        XCTAssertEqual(batch.coldStart, users.map { $0 == nil || model.users?.row(for: $0) == 0 })
    }

    func testFloat32BatchEqualsSequencesAlone() throws {
        let model = try Fixtures.model("tiny")
        try assertEachSequenceAsAlone(model, users: ["alice", nil, "bob", "carol", "nobody"], tolerance: 1e-5)
    }

    func testInt8BatchEqualsSequencesAlone() throws {
        try XCTSkipUnless(Int8Rows.isSupported, "int8 needs VNNI; oneDNN finds \(Int8Rows.instructionSet)")
        let c = BartConfig(vocabSize: 300, dModel: 128, encoderLayers: 2, decoderLayers: 1, encoderAttentionHeads: 4,
                           decoderAttentionHeads: 4, encoderFFNDim: 256, decoderFFNDim: 256, maxPositionEmbeddings: 64)
        let model = try BartModel(config: c, weights: try BartWeights.random(config: c, seed: 11, precision: .int8))
        // Rows are quantized one by one and the GEMMs' integer sums are exact: the same bits either way.
        try assertEachSequenceAsAlone(model, users: [nil, nil, nil, nil, nil], tolerance: 0)
    }

    /// The decoder's logits for the 5 sequences as one batch against each sequence's alone, for 3 steps.
    private func assertBatchedLogitsEqualAlone(_ model: BartModel, file: StaticString = #filePath, line: UInt = #line) throws {
        let vocab = model.config.vocabSize
        let steps = [2, 0, 57]
        func logits(_ batch: [[Int]]) throws -> [[[Float]]] {
            try model.beginDecoding(try model.encode(batch), maxSteps: steps.count)
            return try steps.map { token in
                let out = try model.decodeStep([Int](repeating: token, count: batch.count))
                return (0..<batch.count).map { Array(UnsafeBufferPointer(start: out + $0 * vocab, count: vocab)) }
            }
        }
        let batched = try logits(inputs)
        for (b, input) in inputs.enumerated() {
            let alone = try logits([input])
            for step in steps.indices {
                let worst = zip(batched[step][b], alone[step][0]).map { abs($0 - $1) }.max() ?? 0
                XCTAssertEqual(worst, 0, "sequence \(b), step \(step)", file: file, line: line)
            }
        }
        XCTAssertNotEqual(batched[1][0], batched[1][1], "different inputs, different logits", file: file, line: line)
    }

    /// At int8 every row is quantized on its own, so a request's logits do not depend on its batch: not on
    /// the other rows, the thread split, which thread projected its keys and values, or the padding of its
    /// cross-attention (softmax over masked entries). Random weights at 128 wide, and the tiny fixture (on
    /// which a scalar softmax tail once gave padded rows other roundings, and int8 a logit 0.04 away).
    func testInt8BatchedLogitsEqualSingle() throws {
        try XCTSkipUnless(Int8Rows.isSupported, "int8 needs VNNI; oneDNN finds \(Int8Rows.instructionSet)")
        let c = BartConfig(vocabSize: 300, dModel: 128, encoderLayers: 2, decoderLayers: 2, encoderAttentionHeads: 4,
                           decoderAttentionHeads: 4, encoderFFNDim: 256, decoderFFNDim: 256, maxPositionEmbeddings: 64)
        try assertBatchedLogitsEqualAlone(try BartModel(config: c, weights: try BartWeights.random(config: c, seed: 5, precision: .int8)))
        try assertBatchedLogitsEqualAlone(try BartModel.load(folder: Fixtures.folder("tiny"), precision: .int8))
    }

    /// Phases timed on several threads at once count once: what they gained since the snapshot is scaled.
    func testProfileScalesConcurrentGrowth() {
        let profile = BartProfile()
        profile.add(.encoderFFN, 1_000)
        let before = profile.snapshot()
        profile.add(.encoderFFN, 600)
        profile.add(.encoderAttention, 400)
        profile.add(.encoderFFN, 600)
        profile.scaleGrowth(since: before, by: 0.5)
        XCTAssertEqual(profile.seconds(.encoderFFN), 1_600e-9, accuracy: 1e-15)
        XCTAssertEqual(profile.seconds(.encoderAttention), 200e-9, accuracy: 1e-15)
        XCTAssertEqual(profile.seconds(.decoderFFN), 0)
    }
}
