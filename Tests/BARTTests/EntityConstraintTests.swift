import BART
@testable import Generation
import TensorKernels
import XCTest

/// Constrained decoding of marked spans (GROUNDING.md): whatever a model prefers, every span it opens
/// writes one of the request's forms, closes only on a complete form, and the item span comes before
/// the end of sequence — in greedy, beam, sampled and batched generation.
final class EntityConstraintTests: XCTestCase {
    // Marks: <item>=5, <title>=6, <person>=7 (no forms: banned), </e>=8.
    static let marks = EntityConstraints.Marks(opens: [5, 6, 7], close: 8, required: 0)
    static let itemForms = [[40, 41, 42], [43], [40, 44]]
    static let titleForms = [[50, 51], [50, 51, 52], [60]]
    static let constraints = EntityConstraints(marks: marks, sequences: [itemForms, titleForms, []])

    /// A random model whose output projection favours the opening marks, so that spans open often, and
    /// whose unconstrained spans are free text.
    nonisolated(unsafe) static let model: BartModel = {
        let config = BartConfig(
            vocabSize: 300, dModel: 32, encoderLayers: 1, decoderLayers: 2, encoderAttentionHeads: 4,
            decoderAttentionHeads: 4, encoderFFNDim: 64, decoderFFNDim: 64, maxPositionEmbeddings: 64)
        do {
            var weights = try BartWeights.random(config: config, seed: 11, std: 0.3)
            var bias = weights.lmHead.bias.isEmpty ? [Float](repeating: 0, count: config.vocabSize) : weights.lmHead.bias
            bias[5] += 2.5
            bias[6] += 2.5
            bias[7] += 2.5
            weights.lmHead = try Linear(weight: weights.lmHead.weight, bias: bias, inFeatures: config.dModel, outFeatures: config.vocabSize)
            return try BartModel(config: config, weights: weights)
        } catch {
            preconditionFailure("test model: \(error)")
        }
    }()

    func config(beams: Int = 1) -> GenerationConfig {
        var c = GenerationConfig(model: Self.model.config)
        c.numBeams = beams
        c.maxNewTokens = 30
        c.noRepeatNgramSize = 3
        c.forcedBOSTokenId = nil
        return c
    }

    static let inputs: [[Int]] = (0..<5).map { seed in [0] + (0..<(6 + seed * 3)).map { ($0 * 37 + seed * 101) % 290 + 9 } + [2] }

    /// The violations of the constraints in one generated sequence (empty when it honours them).
    static func violations(_ tokens: [Int], maxNewTokens: Int = 30) -> [String] {
        var problems: [String] = []
        var open: Int?
        var span: [Int] = []
        var cited = false
        let forms = [itemForms, titleForms, []]
        for (p, t) in tokens.enumerated().dropFirst() {
            if let kind = open {
                if t == marks.close {
                    if !forms[kind].contains(span) { problems.append("closed incomplete \(span) at \(p)") }
                    if kind == 0 { cited = true }
                    open = nil
                } else if t == 2 && p == maxNewTokens {
                    open = nil  // cut by the forced end at the maximum length
                } else {
                    span.append(t)
                    if !forms[kind].contains(where: { $0.starts(with: span) }) { problems.append("span \(span) leaves the forms at \(p)") }
                }
            } else if let kind = marks.opens.firstIndex(of: t) {
                if forms[kind].isEmpty { problems.append("opened an empty kind at \(p)") }
                open = kind
                span = []
            } else if t == marks.close {
                problems.append("close outside a span at \(p)")
            } else if t == 2 && !cited && p < maxNewTokens {
                problems.append("ended before the item was named")
            }
        }
        return problems
    }

    func requests(constrained: Bool) -> [GenerationRequest] {
        Self.inputs.map { GenerationRequest(inputIds: $0, constraints: constrained ? Self.constraints : nil) }
    }

    func testUnconstrainedOutputBreaksTheRules() throws {
        // The check below can fail: the same model without constraints writes free text in its spans.
        let free = try Seq2SeqGenerator(model: Self.model).generate(requests(constrained: false), config: config())
        XCTAssertGreaterThan(free.filter { !Self.violations($0.tokens).isEmpty }.count, 2)
    }

    func testGreedyBatchedAndAloneHonourTheConstraints() throws {
        let generator = Seq2SeqGenerator(model: Self.model)
        let batch = try generator.generate(requests(constrained: true), config: config())
        var spans = 0
        for (k, result) in batch.enumerated() {
            XCTAssertEqual(Self.violations(result.tokens), [], "row \(k): \(result.tokens)")
            spans += result.tokens.filter { $0 == Self.marks.close }.count
            // Each row alone is the same as in the batch (rows finish at different steps).
            XCTAssertEqual(try generator.generate(requests(constrained: true)[k], config: config()).tokens, result.tokens)
        }
        XCTAssertGreaterThan(spans, 5, "the constraints were exercised")
        // The screened argmax path picks the same tokens as the exact one.
        Self.model.screenedGreedyArgmax = false
        defer { Self.model.screenedGreedyArgmax = true }
        XCTAssertEqual(try generator.generate(requests(constrained: true), config: config()), batch)
    }

    func testMixedBatchConstrainsOnlyItsConstrainedRows() throws {
        let generator = Seq2SeqGenerator(model: Self.model)
        var mixed = requests(constrained: true)
        for k in stride(from: 1, to: mixed.count, by: 2) { mixed[k].constraints = nil }
        let free = try generator.generate(requests(constrained: false), config: config())
        let bound = try generator.generate(requests(constrained: true), config: config())
        let out = try generator.generate(mixed, config: config())
        for k in out.indices { XCTAssertEqual(out[k], k % 2 == 1 ? free[k] : bound[k], "row \(k)") }
    }

    func testBeamSearchHypothesesHonourTheConstraints() throws {
        let generator = Seq2SeqGenerator(model: Self.model)
        let beams = try generator.generateBeams(requests(constrained: true), config: config(beams: 4))
        for (k, hypotheses) in beams.enumerated() {
            XCTAssertFalse(hypotheses.isEmpty)
            for h in hypotheses { XCTAssertEqual(Self.violations(h.tokens), [], "item \(k): \(h.tokens)") }
        }
        let best = try generator.generate(requests(constrained: true), config: config(beams: 4))
        XCTAssertEqual(best.map(\.tokens), beams.map { $0[0].tokens })
    }

    func testSampledSequencesHonourTheConstraints() throws {
        let generator = Seq2SeqGenerator(model: Self.model)
        var c = config()
        c.doSample = true
        c.temperature = 1.5
        for seed: UInt64 in 0..<6 {
            c.seed = seed
            for result in try generator.generate(requests(constrained: true), config: c) {
                XCTAssertEqual(Self.violations(result.tokens), [], "seed \(seed): \(result.tokens)")
            }
        }
    }

    func testUniqueKindsNeverRepeatAFormAndCapitalsStartSentencesOnly() throws {
        // Titles written at most once (the two variants of a form count as one), and tokens 100..<160
        // "start a capitalised word": outside spans they may only follow a sentence end (token 9) or the start.
        var marks = Self.marks
        marks.unique = [true, true, false]
        let shapes = EntityConstraints.WordShapes(
            capitalised: Array(100..<160), sentenceEnd: (0..<300).map { $0 == 9 },
            ignored: (0..<300).map { $0 <= 8 })
        let titleVariants = [[[50, 51], [60, 51]], [[50, 52]], [[61]]]
        let constraints = EntityConstraints(marks: marks, forms: [Self.itemForms.map { [$0] }, titleVariants, []], shapes: shapes)
        var c = config()
        c.maxNewTokens = 40
        var opened = 0
        for (k, input) in Self.inputs.enumerated() {
            for seed: UInt64 in 0..<3 {
                var sampled = c
                sampled.doSample = seed > 0
                sampled.seed = seed
                let tokens = try Seq2SeqGenerator(model: Self.model).generate(
                    GenerationRequest(inputIds: input, constraints: constraints), config: sampled).tokens
                var spans: [[Int]] = [], open: Int?, current: [Int] = [], lastText: Int?
                for t in tokens.dropFirst() {
                    if let kind = open {
                        if t == marks.close { if kind == 1 { spans.append(current) }; open = nil } else { current.append(t) }
                        if !(0...8).contains(t) { lastText = t }
                        continue
                    }
                    if let kind = marks.opens.firstIndex(of: t) { open = kind; current = []; opened += 1; continue }
                    if (100..<160).contains(t) {
                        XCTAssertTrue(lastText == nil || lastText == 9, "input \(k): capitalised \(t) after \(lastText ?? -1): \(tokens)")
                    }
                    if !(0...8).contains(t) { lastText = t }
                }
                let formsWritten = spans.map { span in titleVariants.firstIndex { $0.contains(span) } ?? -1 }
                XCTAssertEqual(Set(formsWritten).count, formsWritten.count, "input \(k): a title form twice: \(tokens)")
                XCTAssertFalse(formsWritten.contains(-1))
            }
        }
        XCTAssertGreaterThan(opened, 10)
    }

    func testTrieContinuations() {
        let trie = SpanTrie([[40, 41, 42], [43], [40, 44], [40, 41]])
        var scores = [Float](repeating: 0, count: 50)
        scores.withUnsafeMutableBufferPointer { s in
            let constraints = EntityConstraints(marks: Self.marks, sequences: [[[40, 41, 42], [43], [40, 44], [40, 41]], [], []])
            // After "<item> 40 41": 42 continues, and the span may close ("40 41" is a form).
            let history = [2, 5, 40, 41]
            let inSpan = history.withUnsafeBufferPointer {
                constraints.apply(s.baseAddress!, vocab: 50, history: $0.baseAddress!, length: 4, eos: 2)
            }
            XCTAssertTrue(inSpan)
        }
        XCTAssertEqual(scores.indices.filter { scores[$0] > -.infinity }, [8, 42])
        XCTAssertFalse(trie.isEmpty)
        XCTAssertTrue(SpanTrie([[]]).isEmpty)
        // Outside a span: no close, no opening of an empty kind, no end before the item.
        var outside = [Float](repeating: 0, count: 50)
        outside.withUnsafeMutableBufferPointer { s in
            let history = [2, 9, 10]
            _ = history.withUnsafeBufferPointer { Self.constraints.apply(s.baseAddress!, vocab: 50, history: $0.baseAddress!, length: 3, eos: 2) }
        }
        XCTAssertEqual(outside.indices.filter { outside[$0] == -.infinity }, [2, 7, 8])
    }
}
