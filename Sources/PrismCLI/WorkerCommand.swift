import ArgumentParser
import Logging
import Foundation
import TensorKernels
import PrismData
import PrismExplain
import PrismGrounding
import PrismTeacher
import PrismTeacherService
import PrismTeacherOpenAI
import PrismTeacherT5
import PrismTelemetry
import PrismWire
import PrismWorker
import ServiceLifecycle

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a stateless worker that serves one service through the broker."
    )

    @Option(help: "The broker's backend endpoint; several, separated by commas, to register with each (failover).")
    var broker = "tcp://127.0.0.1:5556"
    @Option(help: "The service name to register.") var service = "echo"
    @Option(help: "The handler: echo, sleep, teacher, explain (default: from the service name — teacher, prism.explain…, sleep — else echo).") var handler: String?
    @Option(help: "For --handler explain: the exported student folder (config.json, model.safetensors, tokenizer.json, ...); for --teacher t5: the T5 folder.")
    var model: String?
    @Option(help: "For --handler explain: catalog.jsonl to resolve item ids (from `prism data prepare`).") var catalog: String?
    @Option(help: "For --handler explain and --teacher t5: BLAS threads of the model thread.") var blasThreads = 1
    @Flag(inversion: .prefixedNo, help: "For --handler explain: check every explanation against its request's facts; a failed one is decoded again with beam search, then answered by the rule oracle (the reply says which).")
    var groundingGuard = true
    @Option(help: "For --handler explain: beam-search hypotheses the guard tries after a failed explanation (0: straight to the rule oracle).")
    var guardBeams = 4
    @Flag(inversion: .prefixedNo, help: "For --handler explain: a student trained with grounding marks decodes every entity span under a trie of the names its request allows (GROUNDING.md); requests may opt out with `unconstrained`.")
    var constraints = true
    @Option(help: "For --handler teacher: rule (the grounded rule oracle, not an LLM), sleep (rule text after --sleep-ms per prompt), openai (an OpenAI-compatible server), t5 (a T5 / FLAN-T5 folder run in this process: --model DIR).")
    var teacher = "rule"
    @Option(help: "For --teacher t5: prompts generated together in one batch.") var teacherBatch = 8
    @Option(help: "For --teacher t5: prompt tokens kept (longer prompts are cut).") var maxInputTokens = 512
    @Option(help: "For --teacher rule: what chooses each explanation's wording: sample (varies by sample, the same for every user) or user (each user keeps one voice: a teacher whose text depends on who asks, for measuring personalization).")
    var oracleStyle = "sample"
    @Option(help: "For --teacher openai: the API base URL, e.g. http://127.0.0.1:8000/v1 (vLLM, llama.cpp, Ollama).") var baseURL = "http://127.0.0.1:8000/v1"
    @Option(help: "For --teacher openai: the model name.") var openaiModel = "google/flan-t5-xxl"
    @Option(help: "For --teacher openai: chat or completions.") var api = "completions"
    @Option(help: "For --teacher openai: environment variable holding the API key.") var apiKeyEnv = "OPENAI_API_KEY"
    @Option(help: "For --teacher openai: HTTP requests in flight at once.") var httpConcurrency = 8
    @Option(help: "For --teacher openai --api chat: a system message before every prompt.") var systemPrompt: String?
    @Option(help: "For --teacher openai: retries of a prompt after a transient failure (429, 5xx, timeout, transport).") var httpRetries = 8
    @Option(help: "For --teacher openai: milliseconds one HTTP request may take.") var httpTimeoutMs = 120_000
    @Option(help: "For --teacher openai: the longest back-off between retries, in milliseconds (exponential from 500 ms, full jitter; with the default 8 retries up to ~90 s in all, enough for a server restart).")
    var httpMaxBackoffMs = 30_000
    @Option(help: "For --teacher openai: a sequence that ends an answer (repeatable, at most 4), e.g. $'\\n\\n'; without one, small models run on to max_tokens and their answers are dropped as truncated.")
    var stop: [String] = []
    @Option(help: "For --handler sleep: milliseconds per request (requests may override with sleep_ms metadata).") var sleepMs = 50
    @Option(help: "Requests held at once.") var capacity = 1
    @Option(help: "Heartbeat interval in milliseconds.") var heartbeatMs: Int64 = 1_000
    @Option(help: "Dynamic batching: milliseconds a partial batch waits.") var batchWaitMs: Int64 = 0
    @Option(help: "A name for logs (default: service@host:pid).") var id: String?
    @Option(help: "Serve Prometheus metrics over HTTP on this port (0: off).") var metricsPort = 0
    @Option(help: "The address the metrics endpoint listens on (loopback by default; 0.0.0.0 exposes it on every interface).")
    var metricsHost = "127.0.0.1"
    @Option(help: "Arithmetic of the model's linear layers (the student's, or the T5 teacher's): fp32, int8 (quantized at load; needs AVX-512 VNNI or AVX-VNNI, else the worker serves fp32 and warns), int8-encoder (the encoder's layers in int8, the rest fp32: closer to fp32 outputs on small students), bf16 (bf16 products; needs AVX512-BF16, else fp32 with a warning), or int8-bf16 (the encoder's layers in int8, the rest bf16; without AVX512-BF16 int8-encoder).")
    var precision: Precision = .fp32
    @OptionGroup var curve: CurveOptions
    @OptionGroup var common: CommonOptions

    /// The handler a service name implies when --handler is not given: "teacher", "prism.explain…",
    /// "sleep" and "echo" name their handlers; any other service gets echo (a plain test service).
    static func defaultHandler(service: String) -> String {
        if service == "teacher" { return "teacher" }
        if service.hasPrefix("prism.explain") { return "explain" }
        if service == "sleep" { return "sleep" }
        return "echo"
    }

    func run() async throws {
        let registry = Telemetry.bootstrap(logLevel: common.level)
        let logger = Logger(label: "prism.worker")
        let chosen: any RequestHandler
        var openAI: OpenAITeacher?
        var t5Teacher: T5Teacher?
        var inference: InferenceThread?
        let defaultHandler = Self.defaultHandler(service: service)
        let handlerName = handler ?? defaultHandler
        if handlerName == "echo" || handlerName == "sleep", model != nil || catalog != nil {
            // A model folder given to a worker that would only echo is a mistake (a service name that does not
            // start with prism.explain, say): refuse rather than answer every request with its own bytes.
            throw ValidationError("--model and --catalog are for --handler explain (and --teacher t5), but service '\(service)' runs the \(handlerName) handler: name the service prism.explain… or pass --handler explain")
        }
        switch handlerName {
        case "echo": chosen = EchoHandler()
        case "sleep": chosen = SleepHandler(milliseconds: sleepMs)
        case "teacher":
            switch teacher {
            case "rule":
                guard let style = RuleOracle.Style(rawValue: oracleStyle) else {
                    throw ValidationError("--oracle-style must be one of \(RuleOracle.Style.allCases.map(\.rawValue).joined(separator: ", ")), not '\(oracleStyle)'")
                }
                chosen = TeacherHandler(backend: RuleOracle(style: style))
            case "sleep": chosen = TeacherHandler(backend: SleepTeacher(milliseconds: sleepMs))
            case "openai":
                guard let kind = OpenAIConfiguration.API(rawValue: api) else { throw ValidationError("--api is chat or completions") }
                var configuration = OpenAIConfiguration(
                    baseURL: baseURL, model: openaiModel, api: kind, apiKeyEnvironmentVariable: apiKeyEnv, maxConcurrentRequests: httpConcurrency,
                    requestTimeout: .milliseconds(httpTimeoutMs), maxRetries: httpRetries, maxBackoff: .milliseconds(httpMaxBackoffMs),
                    systemPrompt: systemPrompt)
                configuration.stop = stop
                let unnamed = try OpenAITeacher(configuration: configuration)
                let served = await unnamed.servedModels()
                let backend = unnamed.identified(servedModels: served)
                if backend.teacherID != unnamed.teacherID {
                    logger.warning("the server does not serve the --openai-model name; goldens are recorded as written by the model it lists",
                                   metadata: ["asked": "\(openaiModel)", "served": "\(served ?? [])", "teacher_id": "\(backend.teacherID)"])
                }
                openAI = backend
                chosen = TeacherHandler(backend: backend)
            case "t5":
                guard let model else { throw ValidationError("--teacher t5 needs --model DIR (a T5 folder with tokenizer.json)") }
                let backend = try await T5Teacher(folder: model, batchSize: teacherBatch, maxInputTokens: maxInputTokens,
                                                  blasThreads: blasThreads, precision: servedPrecision(logger))
                logger.info("T5 teacher loaded", metadata: ["model": "\(model)", "teacher_id": "\(backend.teacherID)"])
                t5Teacher = backend
                chosen = TeacherHandler(backend: backend)
            default: throw ValidationError("unknown teacher '\(teacher)' (rule, sleep, openai, t5)")
            }
        case "explain":
            guard let model else { throw ValidationError("--handler explain needs --model DIR") }
            let items = try catalog.map { try SampleIO.readCatalog(from: URL(fileURLWithPath: $0)) } ?? ItemCatalog()
            // The student's words.txt (when its export wrote one) and the catalog: the words a served
            // explanation may use.
            let vocabulary = groundingGuard ? try WordVocabulary.load(studentFolder: model, catalog: items) : nil
            let gate = groundingGuard
                ? GroundingGuard(checker: GroundingChecker(catalog: items), retryBeams: guardBeams, vocabulary: vocabulary) : nil
            let served = servedPrecision(logger)
            let thread = try await InferenceThread(folder: model, blasThreads: blasThreads, groundingGuard: gate, constrained: constraints,
                                                 precision: served)
            inference = thread
            logger.info("student loaded", metadata: ["model": "\(thread.modelID)", "catalog_items": "\(items.count)",
                                                      "user_embeddings": "\(thread.hasUserEmbeddings)", "grounding_guard": "\(groundingGuard)",
                                                      "guard_vocabulary": "\(vocabulary?.count ?? 0)",
                                                      "blas_kernels": "\(BLASKernels.coreName)", "precision": "\(served)",
                                                      "grounding_constraints": "\(thread.constrainsSpans)"])
            chosen = ExplainHandler(inference: thread, catalog: items, maxBatchSize: capacity)
        case let other: throw ValidationError("unknown handler '\(other)' (echo, sleep, teacher, explain)")
        }
        // With several brokers (failover), the worker registers with each: one runtime per broker, all
        // sharing the handler, so each broker may hand it up to --capacity requests.
        let endpoints = brokerEndpoints(broker)
        guard !endpoints.isEmpty else { throw ValidationError("--broker names no endpoint") }
        let keys = try curve.clientKeys()
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        var runtimes: [WorkerRuntime] = []
        for endpoint in endpoints {
            var config = WorkerConfiguration(broker: endpoint, service: service, capacity: capacity, workerID: id)
            config.heartbeatIntervalMs = heartbeatMs
            config.curve = keys
            config.maxBatchWaitMs = batchWaitMs
            let runtime = try WorkerRuntime(configuration: config, handler: chosen, logger: logger)
            runtimes.append(runtime)
            services.append(.init(service: runtime))
        }
        if metricsPort > 0 {
            // Ready while at least one broker hears the worker.
            let ready: @Sendable () -> Bool = { [runtimes] in runtimes.contains { $0.isConnected } }
            services.append(.init(service: MetricsEndpoint(host: metricsHost, port: metricsPort, registry: registry, ready: ready),
                                  successTerminationBehavior: .ignore))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await openAI?.shutdown()
            await t5Teacher?.shutdown()
            await inference?.close()
            throw error
        }
        await openAI?.shutdown()
        await t5Teacher?.shutdown()
        await inference?.close()
    }
}

extension Precision: ExpressibleByArgument {}

extension WorkerCommand {
    /// `--precision`, or the nearest this CPU runs well, with a warning that says why (rather than not
    /// serving): int8-bf16 without AVX512-BF16 serves int8-encoder (the same int8 encoder, the rest in
    /// float32), anything else it cannot run serves fp32.
    func servedPrecision(_ logger: Logger) -> Precision {
        guard let reason = precision.unavailableReason else { return precision }
        let served: Precision = precision == .int8BF16 && Precision.int8Encoder.unavailableReason == nil ? .int8Encoder : .fp32
        logger.warning("\(reason): serving \(served)")
        return served
    }
}
