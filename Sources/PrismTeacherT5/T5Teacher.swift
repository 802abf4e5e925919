import Foundation
import Generation
import PrismTeacher
import PrismWire
import Synchronization
import T5
import TensorKernels
import Tokenizers
import ZeroMQ

/// A teacher that runs a T5 / FLAN-T5 model folder in this process (the paper's Oracle architecture):
/// prompts are tokenized with the folder's `tokenizer.json`, cut to `maxInputTokens`, and generated in
/// batches of `batchSize` on a dedicated thread; the shard's decoding options (max new tokens, beams,
/// temperature/top-p sampling with a seed) apply. A cancelled shard (deadline, CANCEL) stops after the
/// batch that is running: later prompts come back CANCELLED, none half-written.
public final class T5Teacher: TeacherBackend {
    public let teacherID: String
    public let batchSize: Int
    public let maxInputTokens: Int
    private let thread: OwnedThread<Loaded>

    /// What the model thread owns.
    final class Loaded {
        let generator: Seq2SeqGenerator<T5Model>
        let tokenizer: Tokenizer
        init(generator: Seq2SeqGenerator<T5Model>, tokenizer: Tokenizer) {
            self.generator = generator
            self.tokenizer = tokenizer
        }
    }

    /// Loads `folder` (config.json, model.safetensors or shards, tokenizer.json) on its own thread, its
    /// projections in `precision` (`T5Model.load`); an int8 teacher is recorded as `t5:NAME@int8`, since its
    /// goldens are not exactly the float32 model's.
    public init(folder: String, batchSize: Int = 8, maxInputTokens: Int = 512, blasThreads: Int = 1,
                precision: Precision = .fp32) async throws {
        // The encoder's position bias and attention scores grow with the square of the prompt length
        // (heads × length² floats): the cap bounds the worker's memory whatever prompts arrive.
        guard batchSize >= 1, (2...8_192).contains(maxInputTokens) else {
            throw TeacherError.invalidConfiguration("batch size must be ≥ 1 and max input tokens in 2...8192")
        }
        self.batchSize = batchSize
        self.maxInputTokens = maxInputTokens
        let name = URL(fileURLWithPath: folder).standardizedFileURL.lastPathComponent
        teacherID = precision == .fp32 ? "t5:\(name)" : "t5:\(name)@\(precision)"
        thread = try await OwnedThread(name: "prism-t5") {
            let model = try T5Model.load(folder: folder, blasThreads: blasThreads, precision: precision)
            let tokenizer = try Tokenizer(contentsOf: URL(fileURLWithPath: folder + "/tokenizer.json"))
            guard tokenizer.vocabularySize <= model.config.vocabSize else {
                throw TeacherError.invalidConfiguration(
                    "tokenizer.json has \(tokenizer.vocabularySize) ids, the model's vocabulary \(model.config.vocabSize)")
            }
            return Loaded(generator: Seq2SeqGenerator(model: model), tokenizer: tokenizer)
        }
    }

    public func generate(_ prompts: [TeacherPrompt], decoding: Decoding) async -> [TeacherOutput] {
        let cancelled = CancelFlag()
        let batchSize = batchSize, maxInputTokens = maxInputTokens
        let outputs = await withTaskCancellationHandler {
            await thread.run { loaded in
                Self.generate(prompts, decoding: decoding, loaded: loaded, batchSize: batchSize, maxInputTokens: maxInputTokens,
                              cancelled: cancelled)
            }
        } onCancel: {
            cancelled.set()
        }
        return outputs ?? prompts.map { _ in .failure(.unavailable, "the T5 teacher is shutting down") }
    }

    /// Stops the model thread after the running shard.
    public func shutdown() async { await thread.close() }

    /// The generation settings a shard asks for, or why they are invalid.
    static func config(_ decoding: Decoding, model: T5Model) -> Result<GenerationConfig, DecodingProblem> {
        var config = GenerationConfig(model: model.config)
        config.maxNewTokens = decoding.maxNewTokens > 0 ? Int(decoding.maxNewTokens) : 96
        config.numBeams = max(1, Int(decoding.numBeams))
        config.noRepeatNgramSize = 0
        config.minLength = 0
        if decoding.temperature < 0 || !decoding.temperature.isFinite { return .failure(DecodingProblem("temperature must be ≥ 0")) }
        if decoding.topP < 0 || decoding.topP > 1 { return .failure(DecodingProblem("top_p must be in [0, 1] (0: off)")) }
        if config.maxNewTokens! > 1_024 { return .failure(DecodingProblem("max_new_tokens must be ≤ 1024")) }
        if decoding.temperature > 0 {
            config.doSample = true
            config.temperature = decoding.temperature
            config.topP = decoding.topP > 0 ? decoding.topP : 1
            config.seed = decoding.seed
        }
        if config.doSample && config.numBeams > 1 { return .failure(DecodingProblem("sampling with beams is not supported")) }
        if config.numBeams > 32 { return .failure(DecodingProblem("num_beams must be ≤ 32")) }
        return .success(config)
    }

    static func generate(_ prompts: [TeacherPrompt], decoding: Decoding, loaded: Loaded, batchSize: Int, maxInputTokens: Int,
                         cancelled: CancelFlag) -> [TeacherOutput] {
        let config: GenerationConfig
        switch Self.config(decoding, model: loaded.generator.model) {
        case .success(let c): config = c
        case .failure(let problem): return prompts.map { _ in .failure(.invalidArgument, "decoding: \(problem.reason)") }
        }
        let eos = loaded.generator.model.config.eosTokenId
        var outputs: [TeacherOutput] = []
        outputs.reserveCapacity(prompts.count)
        var start = 0
        while start < prompts.count {
            let end = min(start + batchSize, prompts.count)
            if cancelled.isSet {
                outputs += prompts[start...].map { _ in .failure(.cancelled, "the shard was cancelled before this prompt ran") }
                break
            }
            var requests: [GenerationRequest] = []
            var slots: [Int] = []
            var batchOutputs = [TeacherOutput?](repeating: nil, count: end - start)
            for (offset, prompt) in prompts[start..<end].enumerated() {
                let ids = loaded.tokenizer.encode(prompt.prompt, maxLength: maxInputTokens)
                if prompt.prompt.isEmpty || ids.isEmpty {
                    batchOutputs[offset] = .failure(.invalidArgument, "the prompt is empty")
                    continue
                }
                var request = GenerationRequest(inputIds: ids)
                if config.doSample { request.seed = decoding.seed &+ UInt64(start + offset) }
                requests.append(request)
                slots.append(offset)
            }
            if !requests.isEmpty {
                do {
                    let results = try loaded.generator.generate(requests, config: config)
                    for (index, (result, offset)) in zip(results, slots).enumerated() {
                        let generated = Array(result.generatedTokens)
                        let finished = generated.last == eos
                        let text = loaded.tokenizer.decode(generated, skipSpecialTokens: true)
                            .trimmingCharacters(in: .whitespacesAndNewlines)
                        // An empty answer is an answer (the coordinator's filter drops it as "empty").
                        batchOutputs[offset] = TeacherOutput(
                            text: text, finishReason: finished ? "stop" : "length",
                            promptTokens: requests[index].inputIds.count,
                            completionTokens: generated.count - (finished ? 1 : 0))
                    }
                } catch {
                    for offset in slots { batchOutputs[offset] = .failure(.internal, "T5 generation failed: \(error)") }
                }
            }
            outputs += batchOutputs.map { $0 ?? .failure(.internal, "no output") }
            start = end
        }
        return outputs
    }
}

/// Why a shard's decoding options cannot run.
struct DecodingProblem: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Set once by a cancellation handler, read by the model thread between batches.
final class CancelFlag: Sendable {
    private let flag = Mutex(false)
    func set() { flag.withLock { $0 = true } }
    var isSet: Bool { flag.withLock { $0 } }
}
