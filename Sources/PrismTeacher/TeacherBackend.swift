import PrismWire


/// Every failure of the teacher module.
public enum TeacherError: Error, CustomStringConvertible, Sendable {
    case invalidConfiguration(String)
    case http(status: Int, body: String)
    case transport(String)
    case malformedResponse(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let text): return "invalid teacher configuration: \(text)"
        case .http(let status, let body): return "HTTP \(status): \(body.prefix(300))"
        case .transport(let text): return "transport error: \(text)"
        case .malformedResponse(let text): return "malformed response: \(text)"
        }
    }
}

/// What a teacher wrote for one prompt.
public struct TeacherOutput: Sendable, Equatable {
    public var status: Status
    public var text: String
    /// "stop", "length" (cut at max tokens), or the backend's own word.
    public var finishReason: String
    public var promptTokens: Int
    public var completionTokens: Int
    /// The text with grounding marks, from a teacher that writes them itself ("" otherwise).
    public var marked: String = ""

    public init(status: Status = Status(.ok), text: String, finishReason: String = "stop", promptTokens: Int = 0, completionTokens: Int = 0) {
        self.status = status
        self.text = text
        self.finishReason = finishReason
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    public static func failure(_ code: StatusCode, _ message: String) -> TeacherOutput {
        TeacherOutput(status: Status(code, message), text: "", finishReason: "error")
    }
}

/// A source of golden explanations: an LLM behind an HTTP API, a model in this process, or the
/// grounded rule oracle. Failures are per prompt (a status in the output), never thrown.
public protocol TeacherBackend: Sendable {
    /// Names the teacher in every result: backend and model.
    var teacherID: String { get }
    /// One output per prompt, in order.
    func generate(_ prompts: [TeacherPrompt], decoding: Decoding) async -> [TeacherOutput]
}

/// A stand-in teacher that takes `milliseconds` per prompt (one at a time, like a busy GPU) and
/// answers with the rule oracle's text: for measuring fleet scaling apart from CPU limits.
public struct SleepTeacher: TeacherBackend {
    public let milliseconds: Int
    let oracle = RuleOracle()
    public init(milliseconds: Int) { self.milliseconds = milliseconds }
    public var teacherID: String { "sleep-\(milliseconds)ms/\(oracle.teacherID)" }

    public func generate(_ prompts: [TeacherPrompt], decoding: Decoding) async -> [TeacherOutput] {
        var outputs: [TeacherOutput] = []
        for prompt in prompts {
            try? await Task.sleep(for: .milliseconds(milliseconds))
            outputs.append(TeacherOutput(text: oracle.explain(prompt).text))
        }
        return outputs
    }
}
