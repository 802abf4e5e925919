import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PrismTeacher
import PrismWire

/// A teacher behind an OpenAI-compatible HTTP API: `/v1/completions` or `/v1/chat/completions`
/// as served by vLLM, llama.cpp's server, Ollama or OpenAI itself.
///
/// Each prompt is its own HTTP request; a shard's prompts run concurrently, with at most
/// `maxConcurrentRequests` requests in flight across every `generate` call of this teacher (and
/// its copies). 429, 5xx, transport errors and timeouts are retried with exponential back-off
/// and full jitter, honouring `Retry-After` on 429 and 503; other 4xx are not retried. Each prompt
/// gets its own status; `generate` never throws.
///
/// Without an `httpClient` the teacher owns one: call `shutdown()` when done with it.
public struct OpenAITeacher: TeacherBackend {
    public let configuration: OpenAIConfiguration
    /// `openai-chat:MODEL@HOST[:PORT]` or `openai-completions:MODEL@HOST[:PORT]`; MODEL is what the
    /// server says it serves once `identified(servedModels:)` was applied.
    public private(set) var teacherID: String
    let hostPort: String
    /// The full URL requests go to.
    public let endpoint: String
    /// Whether an API key was found (the key itself is kept out of descriptions).
    public var sendsAPIKey: Bool { authorization != nil }

    let authorization: String?
    let client: HTTPClient
    let ownsClient: Bool
    let limiter: RequestLimiter
    let backoff: Backoff

    /// Throws `TeacherError.invalidConfiguration` for an unusable configuration.
    public init(configuration: OpenAIConfiguration, httpClient: HTTPClient? = nil) throws {
        let (endpoint, hostPort) = try configuration.validated()
        self.configuration = configuration
        self.endpoint = endpoint
        self.teacherID = "openai-\(configuration.api.rawValue):\(configuration.model)@\(hostPort)"
        self.hostPort = hostPort
        let environment = configuration.environment ?? ProcessInfo.processInfo.environment
        let key = environment[configuration.apiKeyEnvironmentVariable]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        self.authorization = key.isEmpty ? nil : "Bearer \(key)"
        self.limiter = RequestLimiter(limit: configuration.maxConcurrentRequests)
        self.backoff = Backoff(configuration)
        if let httpClient {
            self.client = httpClient
            self.ownsClient = false
        } else {
            var clientConfiguration = HTTPClient.Configuration(
                timeout: .init(connect: .nanoseconds(Self.nanoseconds(min(configuration.requestTimeout, .seconds(10))))),
                connectionPool: .init(
                    idleTimeout: .seconds(60),
                    concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, configuration.maxConcurrentRequests)
                )
            )
            clientConfiguration.httpVersion = .automatic
            // A refused connection fails the attempt at once; the teacher's own back-off retries
            // it (the pool would otherwise keep reconnecting until the request timed out).
            clientConfiguration.connectionPool.retryConnectionEstablishment = false
            self.client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
            self.ownsClient = true
        }
    }

    /// Shuts down the HTTP client if this teacher created it (a client passed in is left alone).
    /// Call once, after the last `generate`.
    public func shutdown() async {
        guard ownsClient else { return }
        try? await client.shutdown()
    }

    // MARK: Which model answers

    /// The model ids the server lists at `GET {baseURL}/models`; nil when it does not answer with a list.
    public func servedModels() async -> [String]? {
        let base = configuration.baseURL.hasSuffix("/") ? String(configuration.baseURL.dropLast()) : configuration.baseURL
        var request = HTTPClientRequest(url: base + "/models")
        request.method = .GET
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        let timeout = min(configuration.requestTimeout, .seconds(10))
        let client = client
        let prepared = request
        guard let data = try? await Self.withTimeout(timeout, { () -> Data? in
            let head = try await client.execute(prepared, deadline: .now() + .nanoseconds(Self.nanoseconds(timeout)))
            guard head.status == .ok else { return nil }
            return Data(try await head.body.collect(upTo: 1 << 20).readableBytesView)
        }), let list = try? JSONDecoder().decode(ModelList.self, from: data) else { return nil }
        return list.data.map(\.id)
    }

    /// This teacher named after the model that really answers: the configured name when the server lists
    /// it, else the only model it lists (servers such as llama.cpp's answer to any name); unchanged when
    /// the list is unknown or ambiguous.
    public func identified(servedModels: [String]?) -> OpenAITeacher {
        guard let models = servedModels, !models.contains(configuration.model), models.count == 1 else { return self }
        var copy = self
        copy.teacherID = "openai-\(configuration.api.rawValue):\(models[0])@\(hostPort)"
        return copy
    }

    struct ModelList: Decodable {
        struct Model: Decodable { var id: String }
        var data: [Model]
    }

    // MARK: Generating

    public func generate(_ prompts: [TeacherPrompt], decoding: Decoding) async -> [TeacherOutput] {
        if prompts.isEmpty { return [] }
        var outputs = [TeacherOutput?](repeating: nil, count: prompts.count)
        // Tasks beyond the cap would only wait for a permit; keep a window a little wider than
        // the cap so that a prompt sleeping in back-off does not idle the connection.
        let (doubled, overflow) = configuration.maxConcurrentRequests.multipliedReportingOverflow(by: 2)
        let window = overflow ? prompts.count : min(prompts.count, doubled)
        await withTaskGroup(of: (Int, TeacherOutput).self) { group in
            var next = 0
            func start(_ index: Int) {
                let prompt = prompts[index]
                group.addTask { (index, await self.generateOne(prompt, decoding: decoding)) }
            }
            while next < window { start(next); next += 1 }
            for await (index, output) in group {
                outputs[index] = output
                if next < prompts.count { start(next); next += 1 }
            }
        }
        return outputs.map { $0 ?? .failure(.internal, "no output was produced for this prompt") }
    }

    /// Identical HTTP 500 answers to one request after which it is not sent again.
    static let identicalServerErrors = 3

    /// Why the server would reject these decoding options (OpenAI's ranges), or nil. (`max_new_tokens` 0
    /// means the configured default.)
    static func invalidDecoding(_ d: Decoding) -> String? {
        if !(d.temperature >= 0 && d.temperature <= 2) { return "temperature \(d.temperature) is outside 0...2" }
        if !(d.topP >= 0 && d.topP <= 1) { return "top_p \(d.topP) is outside 0...1 (0: off)" }
        return nil
    }

    /// One prompt: attempts until success, a non-retryable failure, or retries run out.
    func generateOne(_ prompt: TeacherPrompt, decoding: Decoding) async -> TeacherOutput {
        guard !prompt.prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return .failure(.invalidArgument, "the prompt is empty")
        }
        if let problem = Self.invalidDecoding(decoding) { return .failure(.invalidArgument, problem) }
        let body: ByteBuffer
        do {
            body = ByteBuffer(bytes: try OpenAIRequest(configuration: configuration, prompt: prompt.prompt, decoding: decoding).encoded())
        } catch {
            return .failure(.internal, "could not encode the request: \(error)")
        }
        var retry = 0
        var lastFailure = "", sameFailures = 0
        while true {
            if Task.isCancelled { return .failure(.cancelled, "cancelled before attempt \(retry + 1)") }
            let outcome = await limiter.withPermit { await self.attempt(body) }
            switch outcome {
            case .done(let output):
                return output
            case .retryable(let failure):
                let attempts = retry + 1
                if Task.isCancelled {
                    return .failure(.cancelled, "cancelled after \(attempts) attempt\(attempts == 1 ? "" : "s"); last: \(failure.message)")
                }
                if retry >= configuration.maxRetries {
                    return .failure(failure.code, "\(failure.message) (gave up after \(attempts) attempt\(attempts == 1 ? "" : "s"))")
                }
                // An HTTP 500 with the same message each time is the server rejecting this request, not an outage.
                sameFailures = failure.message == lastFailure ? sameFailures + 1 : 1
                lastFailure = failure.message
                if failure.message.hasPrefix("HTTP 500"), sameFailures >= Self.identicalServerErrors {
                    return .failure(.internal, "\(failure.message) (the same server error \(sameFailures) times in a row: not retried further)")
                }
                let delay = backoff.delay(retry: retry, retryAfter: failure.retryAfter)
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    return .failure(.cancelled, "cancelled during back-off after \(attempts) attempt\(attempts == 1 ? "" : "s"); last: \(failure.message)")
                }
                retry += 1
            }
        }
    }

    // MARK: One attempt

    enum Outcome: Sendable {
        /// Final: a success or a failure that retrying cannot fix.
        case done(TeacherOutput)
        /// Worth another try after a pause.
        case retryable(RetryableFailure)
    }

    struct RetryableFailure: Sendable {
        /// The status if this is the last attempt.
        var code: StatusCode
        var message: String
        /// The server's `Retry-After`, where it is honoured (429, 503).
        var retryAfter: Duration?
    }

    struct RawResponse: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
    }

    struct AttemptTimedOut: Error {}

    /// One HTTP request; its whole exchange (connect, send, wait, read the body) within `requestTimeout`.
    func attempt(_ body: ByteBuffer) async -> Outcome {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "prism-teacher-openai/1")
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        request.body = .bytes(body)
        let prepared = request
        let timeout = configuration.requestTimeout
        let client = client
        let maxBytes = configuration.maxResponseBytes
        let response: RawResponse
        do {
            response = try await Self.withTimeout(timeout) {
                let head = try await client.execute(prepared, deadline: .now() + .nanoseconds(Self.nanoseconds(timeout)))
                let buffer = try await head.body.collect(upTo: maxBytes)
                return RawResponse(status: Int(head.status.code), headers: head.headers, body: Data(buffer.readableBytesView))
            }
        } catch {
            return classify(error)
        }
        return interpret(response)
    }

    /// Turns a complete HTTP response into an outcome.
    func interpret(_ response: RawResponse) -> Outcome {
        let status = response.status
        if (200..<300).contains(status) {
            switch OpenAIResponse.output(from: response.body, api: configuration.api) {
            case .success(let output): return .done(output)
            case .failure(.malformed(let text)): return .done(.failure(.internal, text))
            }
        }
        let message = serverErrorMessage(response.body) ?? (response.body.isEmpty ? "(empty body)" : snippet(response.body))
        let text = "HTTP \(status): \(message)"
        let retryAfter: Duration?
        if status == 429 || status == 503, let header = response.headers.first(name: "Retry-After") {
            retryAfter = parseRetryAfter(header)
        } else {
            retryAfter = nil
        }
        switch status {
        case 429: return .retryable(RetryableFailure(code: .resourceExhausted, message: text, retryAfter: retryAfter))
        case 500..<600: return .retryable(RetryableFailure(code: .unavailable, message: text, retryAfter: retryAfter))
        case 401: return .done(.failure(.unauthenticated, text))
        case 403: return .done(.failure(.permissionDenied, text))
        case 400..<500: return .done(.failure(.invalidArgument, text))
        default: return .done(.failure(.internal, "unexpected \(text)"))
        }
    }

    /// Thrown errors: timeouts and transport failures are retryable; cancellation and an
    /// oversized body are final.
    func classify(_ error: any Error) -> Outcome {
        let seconds = String(format: "%g", configuration.requestTimeout.seconds)
        if error is AttemptTimedOut {
            return .retryable(RetryableFailure(code: .deadlineExceeded, message: "no complete response within \(seconds) s"))
        }
        if error is NIOTooManyBytesError {
            return .done(.failure(.internal, "the response body is larger than \(configuration.maxResponseBytes) bytes"))
        }
        if Task.isCancelled {
            return .done(.failure(.cancelled, "the request was cancelled"))
        }
        if let httpError = error as? HTTPClientError {
            if httpError == .deadlineExceeded || httpError == .readTimeout || httpError == .writeTimeout {
                return .retryable(RetryableFailure(code: .deadlineExceeded, message: "no complete response within \(seconds) s (\(httpError))"))
            }
            if httpError == .connectTimeout {
                return .retryable(RetryableFailure(code: .deadlineExceeded, message: "could not connect to \(endpoint) in time"))
            }
        }
        return .retryable(RetryableFailure(code: .unavailable, message: "transport error talking to \(endpoint): \(error)"))
    }

    /// Runs `operation`, throwing `AttemptTimedOut` if it has not finished after `timeout` (the
    /// operation is then cancelled, which aborts its HTTP request).
    static func withTimeout<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw AttemptTimedOut() }
            return value
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled &+ attoseconds / 1_000_000_000
    }
}
