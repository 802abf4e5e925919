import PrismWire
import Foundation
import PrismTeacher

/// Where and how `OpenAITeacher` reaches an OpenAI-compatible server (vLLM, llama.cpp's server,
/// Ollama, or the real thing).
public struct OpenAIConfiguration: Sendable {
    /// Which endpoint: `/completions` (raw prompt) or `/chat/completions` (messages).
    public enum API: String, Sendable, CaseIterable {
        case completions
        case chat
    }

    /// How a back-off delay is drawn.
    public enum Jitter: Sendable {
        /// Exactly the exponential ceiling.
        case none
        /// Uniform in [0, ceiling) ("full jitter"): spreads retries of many clients apart.
        case full
    }

    /// The API root including its version, e.g. `http://127.0.0.1:8000/v1`; the endpoint path is
    /// appended to it.
    public var baseURL: String
    /// The `model` field of every request.
    public var model: String
    public var api: API
    /// The variable holding the API key, read once at `OpenAITeacher.init`. Set and non-empty: sent as
    /// `Authorization: Bearer KEY`; unset: no Authorization header (local servers need none).
    public var apiKeyEnvironmentVariable: String
    /// The environment the key is read from; nil: the process environment.
    public var environment: [String: String]?
    /// The most HTTP requests in flight at once, across all `generate` calls of one teacher.
    public var maxConcurrentRequests: Int
    /// The limit for one HTTP attempt (connect, send, wait, read the whole body).
    public var requestTimeout: Duration
    /// Retries after the first attempt, on 429, 5xx, transport errors and timeouts (never on
    /// other 4xx): `maxRetries + 1` attempts at most.
    public var maxRetries: Int
    /// The back-off ceiling before the first retry; it doubles for each further retry.
    public var initialBackoff: Duration
    /// The cap on any back-off ceiling and on a server's `Retry-After`.
    public var maxBackoff: Duration
    public var jitter: Jitter
    /// A source of uniform numbers in [0, 1) for the jitter; injectable for tests.
    public var random: @Sendable () -> Double
    /// For `.chat`: a system message before the prompt; nil or empty: none.
    public var systemPrompt: String?
    /// Sequences that end an answer (`stop`, both APIs; at most 4, as OpenAI allows), e.g. "\n\n".
    public var stop: [String] = []
    /// `max_tokens` when the shard's `Decoding.max_new_tokens` is 0.
    public var defaultMaxTokens: Int
    /// A response body larger than this is an error (INTERNAL).
    public var maxResponseBytes: Int

    public init(
        baseURL: String,
        model: String,
        api: API = .chat,
        apiKeyEnvironmentVariable: String = "OPENAI_API_KEY",
        environment: [String: String]? = nil,
        maxConcurrentRequests: Int = 8,
        requestTimeout: Duration = .seconds(120),
        maxRetries: Int = 5,
        initialBackoff: Duration = .milliseconds(500),
        maxBackoff: Duration = .seconds(30),
        jitter: Jitter = .full,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        systemPrompt: String? = nil,
        defaultMaxTokens: Int = 96,
        maxResponseBytes: Int = 4 << 20
    ) {
        self.baseURL = baseURL
        self.model = model
        self.api = api
        self.apiKeyEnvironmentVariable = apiKeyEnvironmentVariable
        self.environment = environment
        self.maxConcurrentRequests = maxConcurrentRequests
        self.requestTimeout = requestTimeout
        self.maxRetries = maxRetries
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.jitter = jitter
        self.random = random
        self.systemPrompt = systemPrompt
        self.defaultMaxTokens = defaultMaxTokens
        self.maxResponseBytes = maxResponseBytes
    }

    /// Checks the numbers and splits the base URL; throws `TeacherError.invalidConfiguration`.
    func validated() throws -> (endpoint: String, hostPort: String) {
        func invalid(_ text: String) -> TeacherError { .invalidConfiguration(text) }
        guard !model.trimmingCharacters(in: .whitespaces).isEmpty else { throw invalid("the model name is empty") }
        guard maxConcurrentRequests >= 1 else { throw invalid("maxConcurrentRequests must be at least 1 (is \(maxConcurrentRequests))") }
        guard maxRetries >= 0 else { throw invalid("maxRetries must not be negative (is \(maxRetries))") }
        guard requestTimeout > .zero else { throw invalid("requestTimeout must be positive") }
        guard initialBackoff >= .zero, maxBackoff >= .zero else { throw invalid("back-off durations must not be negative") }
        guard defaultMaxTokens >= 1 else { throw invalid("defaultMaxTokens must be at least 1") }
        guard stop.count <= 4, !stop.contains(where: \.isEmpty) else { throw invalid("stop takes at most 4 non-empty sequences (is \(stop))") }
        guard maxResponseBytes >= 1 else { throw invalid("maxResponseBytes must be at least 1") }
        guard let url = URL(string: baseURL), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty
        else { throw invalid("baseURL must be an http(s) URL with a host, e.g. http://127.0.0.1:8000/v1 (is \(baseURL.debugDescription))") }
        guard url.query == nil, url.fragment == nil else { throw invalid("baseURL must have no query or fragment (is \(baseURL))") }
        var root = baseURL
        while root.hasSuffix("/") { root.removeLast() }
        let path = api == .chat ? "/chat/completions" : "/completions"
        let hostPort = url.port.map { "\(host):\($0)" } ?? host
        return (root + path, hostPort)
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
