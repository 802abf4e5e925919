import BART
import Foundation
import Generation
import PrismData
import PrismGrounding
import PrismWire
import TensorKernels
import Tokenizers

/// Every failure of the explain module.
public enum ExplainError: Error, CustomStringConvertible, Sendable {
    /// The model folder cannot be served (missing file, bad config, broken weights or tokenizer).
    case brokenModel(folder: String, reason: String)
    case generation(String)

    public var description: String {
        switch self {
        case .brokenModel(let folder, let reason): return "cannot load the student model in \(folder): \(reason)"
        case .generation(let reason): return "generation failed: \(reason)"
        }
    }
}

/// `prism.json` in an exported student folder (written by scripts/train_student.py).
public struct StudentManifest: Decodable, Sendable {
    /// The student input rendering, `student-input/1` (Sources/PrismData/INPUT_FORMAT.md).
    public var inputFormat: String = "student-input/1"
    /// The input budget in the student's tokens; the oldest history is dropped to fit.
    public var maxInputTokens: Int = 256
    /// The longest explanation the model was trained on (the server's max new tokens).
    public var maxTargetTokens: Int = 64
    public var withUserEmbeddings: Bool = true
    public var trainingDataSHA256: String?
    /// The grounding marks the student was trained with (`grounding-marks/1`, GROUNDING.md), if any.
    public var grounding: String?

    enum CodingKeys: String, CodingKey {
        case inputFormat = "input_format", maxInputTokens = "max_input_tokens", maxTargetTokens = "max_target_tokens"
        case withUserEmbeddings = "with_user_embeddings", data, grounding
    }

    struct InputFormat: Decodable { var name: String }
    struct Grounding: Decodable { var format: String }
    struct DataHashes: Decodable { var distilled_sha256: String? }

    public init() {}

    /// Reads scripts/prism_student/export.py's manifest; `input_format` is `{"name": …}` (or a
    /// plain string), the training data hash is `data.distilled_sha256`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let format = try? c.decodeIfPresent(InputFormat.self, forKey: .inputFormat) {
            inputFormat = format.name
        } else {
            inputFormat = try c.decodeIfPresent(String.self, forKey: .inputFormat) ?? inputFormat
        }
        maxInputTokens = try c.decodeIfPresent(Int.self, forKey: .maxInputTokens) ?? maxInputTokens
        maxTargetTokens = try c.decodeIfPresent(Int.self, forKey: .maxTargetTokens) ?? maxTargetTokens
        withUserEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .withUserEmbeddings) ?? withUserEmbeddings
        trainingDataSHA256 = try c.decodeIfPresent(DataHashes.self, forKey: .data)?.distilled_sha256
        grounding = try c.decodeIfPresent(Grounding.self, forKey: .grounding)?.format
    }
}

/// One explanation to write: the user, the history (oldest first) and the recommended item.
public struct ExplainJob: Sendable {
    public var userID: String
    public var history: [CatalogItem]
    public var item: CatalogItem
    public var maxNewTokens: Int
    public var numBeams: Int
    /// When the request reached the worker (monotonic ns), for the queue time.
    public var arrivedNs: UInt64
    /// Return the student's text with its verdict when it fails the grounding check (no fallback).
    public var allowUngrounded: Bool = false
    /// Decode a marked student without its grounding constraints.
    public var unconstrained: Bool = false

    public init(userID: String, history: [CatalogItem], item: CatalogItem, maxNewTokens: Int, numBeams: Int, arrivedNs: UInt64,
                allowUngrounded: Bool = false, unconstrained: Bool = false) {
        self.userID = userID
        self.history = history
        self.item = item
        self.maxNewTokens = maxNewTokens
        self.numBeams = numBeams
        self.arrivedNs = arrivedNs
        self.allowUngrounded = allowUngrounded
        self.unconstrained = unconstrained
    }
}

/// What the student wrote for one job.
public struct ExplainOutcome: Sendable {
    public var explanation: String
    public var coldStart: Bool
    public var historyDropped: Int
    public var queueUs: UInt32
    public var encodeUs: UInt32
    public var decodeUs: UInt32
    public var batchSize: Int
    public var grounding: GroundingOutcome = .unchecked
    /// Why the student's first explanation failed the check.
    public var problems: [String] = []
    /// Catalog ids of the films the served explanation names.
    public var cited: [String] = []
    /// Decoded under grounding constraints.
    public var constrained: Bool = false
    /// Tokens the student generated for its first explanation (marks included, the decoder start not).
    public var generatedTokens: Int = 0
}

/// The distilled student: BART + its tokenizer + the user table + the shared input rendering.
/// Not thread-safe: it and its scratch buffers belong to one inference thread.
public final class StudentModel {
    public let folder: String
    public let manifest: StudentManifest
    public let modelID: String
    let tokenizer: Tokenizer
    let generator: Seq2SeqGenerator<BartModel>
    let renderer: StudentInputRenderer
    /// The input length in tokens. When even `History: (none)` and the item do not fit, the ids are
    /// cut to it keeping `</s>` (`ids[:n-1] + [</s>]`), exactly as training does.
    let inputBudget: Int
    /// Checks every explanation before it is served (nil: unchecked).
    let groundingGuard: GroundingGuard?
    /// The marks of a student trained with them (nil: an unmarked student).
    let grounded: GroundedDecoding?
    /// Whether a marked student decodes under its grounding constraints (unless a job asks otherwise).
    public let constrained: Bool

    /// `constrained`: decode a marked student's entity spans under the request's tries (GROUNDING.md).
    /// `precision`: the arithmetic of the linear layers (`.int8` quantizes them while loading; it needs VNNI).
    public init(folder: String, blasThreads: Int = 1, groundingGuard: GroundingGuard? = nil, constrained: Bool = true,
                precision: Precision = .fp32) throws(ExplainError) {
        self.folder = folder
        self.groundingGuard = groundingGuard
        func broken(_ reason: String) -> ExplainError { .brokenModel(folder: folder, reason: reason) }
        let manifestURL = URL(fileURLWithPath: folder).appendingPathComponent("prism.json")
        var manifest = StudentManifest()
        if let data = FileManager.default.contents(atPath: manifestURL.path) {
            do { manifest = try JSONDecoder().decode(StudentManifest.self, from: data) } catch {
                throw broken("prism.json: \(error)")
            }
        }
        guard manifest.inputFormat == "student-input/1" else { throw broken("unknown input format \(manifest.inputFormat)") }
        self.manifest = manifest
        do {
            tokenizer = try Tokenizer(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent("tokenizer.json"))
        } catch {
            throw broken("tokenizer.json: \(error)")
        }
        do {
            generator = Seq2SeqGenerator(model: try BartModel.load(folder: folder, blasThreads: blasThreads, precision: precision))
        } catch {
            throw broken("\(error)")
        }
        grounded = GroundedDecoding(tokenizer: tokenizer)
        if let format = manifest.grounding {
            guard format == GroundingMarks.formatName else { throw broken("unknown grounding format \(format)") }
            guard grounded != nil else { throw broken("prism.json says \(format), but tokenizer.json lacks the marks \(GroundingMarks.all)") }
        }
        self.constrained = constrained
        guard tokenizer.vocabularySize <= generator.model.config.vocabSize else {
            throw broken("the tokenizer has \(tokenizer.vocabularySize) tokens, the model \(generator.model.config.vocabSize)")
        }
        // Generation needs a position for the decoder start and for every new token.
        let positions = generator.model.config.maxPositionEmbeddings
        guard manifest.maxTargetTokens >= 1, manifest.maxTargetTokens + 1 <= positions else {
            throw broken("prism.json asks for max_target_tokens \(manifest.maxTargetTokens); the model has \(positions) positions (at most \(positions - 1) new tokens)")
        }
        let budget = min(manifest.maxInputTokens, generator.model.config.maxPositionEmbeddings)
        inputBudget = budget
        let tokenizer = self.tokenizer
        renderer = StudentInputRenderer(budget: budget, length: TextLength(name: "student tokens") { tokenizer.encode($0).count })
        let name = URL(fileURLWithPath: folder).lastPathComponent
        modelID = manifest.trainingDataSHA256.map { "\(name)@\($0.prefix(12))" } ?? name
    }

    /// Writes the explanations of a batch (jobs with the same decoding settings run together).
    public func explain(_ jobs: [ExplainJob]) -> [Result<ExplainOutcome, ExplainError>] {
        var results = [Result<ExplainOutcome, ExplainError>?](repeating: nil, count: jobs.count)
        let groups = Dictionary(grouping: jobs.indices) { SettingsKey(maxNewTokens: jobs[$0].maxNewTokens, numBeams: jobs[$0].numBeams) }
        for (settings, indices) in groups {
            let start = monotonicNs()
            let fitted = indices.map { renderer.render(history: jobs[$0].history, item: jobs[$0].item) }
            let requests = zip(indices, fitted).map { index, text in
                let job = jobs[index]
                let constraints = constrained && !job.unconstrained
                    ? grounded?.constraints(history: Array(job.history.dropFirst(text.droppedHistory)), item: job.item) : nil
                return GenerationRequest(inputIds: tokenizer.encode(text.text, maxLength: inputBudget), userId: job.userID,
                                         constraints: constraints)
            }
            let encoded = monotonicNs()
            var config = generator.defaultConfig
            config.maxNewTokens = settings.maxNewTokens
            if settings.numBeams > 0 { config.numBeams = settings.numBeams }  // 0: the model's default
            do {
                let generated = try generator.generate(requests, config: config)
                var outcomes = zip(indices, generated).enumerated().map { offset, pair in
                    ExplainOutcome(
                        explanation: decodeText(pair.1.generatedTokens), coldStart: pair.1.coldStart,
                        historyDropped: fitted[offset].droppedHistory,
                        queueUs: micros(start - min(start, jobs[pair.0].arrivedNs)), encodeUs: micros(encoded - start),
                        decodeUs: 0, batchSize: indices.count, constrained: requests[offset].constraints != nil,
                        generatedTokens: pair.1.generatedTokens.count)
                }
                guardExplanations(indices.map { jobs[$0] }, requests: requests, config: config, outcomes: &outcomes)
                let done = monotonicNs()
                for (offset, index) in indices.enumerated() {
                    outcomes[offset].decodeUs = micros(done - encoded)
                    results[index] = .success(outcomes[offset])
                }
            } catch {
                for index in indices { results[index] = .failure(.generation("\(error)")) }
            }
        }
        return results.map { $0 ?? .failure(.generation("not run")) }
    }

    /// The text of generated ids without grounding marks (and without a span the length limit cut
    /// short), trimmed.
    func decodeText(_ ids: ArraySlice<Int>) -> String {
        let plain = grounded.map { g in g.droppingUnclosedSpan(ids).filter { !g.isMark($0) } } ?? Array(ids)
        return tokenizer.decode(plain).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether the student was trained with grounding marks.
    public var isMarked: Bool { grounded != nil }

    /// The input text the student reads for a job (for tests and debugging).
    public func inputText(history: [CatalogItem], item: CatalogItem) -> String { renderer.render(history: history, item: item).text }

    /// Token ids the student generates for a job (for parity tests).
    public func generateIDs(userID: String?, inputText: String) throws -> [Int] {
        try generateIDs([(userID, inputText, nil)])[0]
    }

    /// Token ids for a batch of inputs; a row with `shown` (the history films its input shows and the
    /// item) decodes under its grounding constraints (a marked student only). For parity tests.
    func generateIDs(_ rows: [(userID: String?, inputText: String, shown: (history: [CatalogItem], item: CatalogItem)?)],
                     numBeams: Int = 1) throws -> [[Int]] {
        var config = generator.defaultConfig
        config.maxNewTokens = manifest.maxTargetTokens
        config.numBeams = numBeams
        let requests = rows.map { row in
            GenerationRequest(inputIds: tokenizer.encode(row.inputText, maxLength: inputBudget), userId: row.userID,
                              constraints: row.shown.flatMap { grounded?.constraints(history: $0.history, item: $0.item) })
        }
        return try generator.generate(requests, config: config).map(\.tokens)
    }

    struct SettingsKey: Hashable { var maxNewTokens: Int; var numBeams: Int }

    func micros(_ ns: UInt64) -> UInt32 { UInt32(min(UInt64(UInt32.max), ns / 1_000)) }
}
