import PrismWire
import Foundation
import PrismTeacher

/// The request body of `/v1/completions` and `/v1/chat/completions` (the fields Prism uses).
struct OpenAIRequest: Encodable, Sendable {
    struct Message: Encodable, Sendable {
        var role: String
        var content: String
    }

    var model: String
    /// `/completions` only.
    var prompt: String?
    /// `/chat/completions` only.
    var messages: [Message]?
    var maxTokens: Int
    var temperature: Float
    var topP: Float?
    var seed: UInt64?
    var stop: [String]?
    var n = 1
    var stream = false

    enum CodingKeys: String, CodingKey {
        case model, prompt, messages, temperature, seed, n, stream, stop
        case maxTokens = "max_tokens"
        case topP = "top_p"
    }

    init(configuration: OpenAIConfiguration, prompt text: String, decoding: Decoding) {
        model = configuration.model
        switch configuration.api {
        case .completions:
            prompt = text
        case .chat:
            var list: [Message] = []
            if let system = configuration.systemPrompt, !system.isEmpty { list.append(Message(role: "system", content: system)) }
            list.append(Message(role: "user", content: text))
            messages = list
        }
        maxTokens = decoding.maxNewTokens > 0 ? Int(decoding.maxNewTokens) : configuration.defaultMaxTokens
        temperature = decoding.temperature.isFinite ? max(0, decoding.temperature) : 0
        topP = decoding.topP > 0 && decoding.topP.isFinite ? decoding.topP : nil
        seed = decoding.seed != 0 ? decoding.seed : nil
        stop = configuration.stop.isEmpty ? nil : configuration.stop
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// The response body of either endpoint; every field optional so that a missing one is reported
/// by name rather than as a decoding error.
struct OpenAIResponse: Decodable {
    struct Choice: Decodable {
        struct Message: Decodable {
            var content: String?
        }
        var text: String?
        var message: Message?
        var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case text, message
            case finishReason = "finish_reason"
        }
    }

    struct Usage: Decodable {
        var promptTokens: Int?
        var completionTokens: Int?

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
        }
    }

    var choices: [Choice]?
    var usage: Usage?

    /// Decodes a 2xx body into an output, or says what is wrong with it.
    static func output(from body: Data, api: OpenAIConfiguration.API) -> Result<TeacherOutput, OpenAIProblem> {
        let response: OpenAIResponse
        do {
            response = try JSONDecoder().decode(OpenAIResponse.self, from: body)
        } catch let error as DecodingError {
            return .failure(.malformed(describe(error, body: body)))
        } catch {
            return .failure(.malformed("the response could not be decoded: \(error)"))
        }
        guard let choices = response.choices else {
            if let message = serverErrorMessage(body) { return .failure(.malformed("the response has no \"choices\" but an error: \(message)")) }
            return .failure(.malformed("the response has no \"choices\" field"))
        }
        guard let choice = choices.first else { return .failure(.malformed("the response has an empty \"choices\" list")) }
        let text: String
        switch api {
        case .completions:
            guard let value = choice.text else { return .failure(.malformed("choices[0] has no \"text\" (is this a /chat/completions server?)")) }
            text = value
        case .chat:
            guard let message = choice.message else { return .failure(.malformed("choices[0] has no \"message\" (is this a /completions server?)")) }
            guard let value = message.content else { return .failure(.malformed("choices[0].message has no \"content\"")) }
            text = value
        }
        return .success(TeacherOutput(
            text: text.trimmingCharacters(in: .whitespacesAndNewlines),
            finishReason: choice.finishReason ?? "unknown",
            promptTokens: max(0, response.usage?.promptTokens ?? 0),
            completionTokens: max(0, response.usage?.completionTokens ?? 0)
        ))
    }

    static func describe(_ error: DecodingError, body: Data) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return keys.isEmpty ? "the top level" : String(keys.dropFirst(keys.hasPrefix(".") ? 1 : 0))
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "the response is not valid JSON: \(snippet(body).debugDescription)"
        case .dataCorrupted(let context):
            return "bad value at \(path(context)): \(context.debugDescription)"
        case .typeMismatch(let type, let context):
            return "\(path(context)) is not a \(type) in the response"
        case .valueNotFound(let type, let context):
            return "\(path(context)) is null where a \(type) is needed"
        case .keyNotFound(let key, let context):
            return "the response lacks \"\(key.stringValue)\" at \(path(context))"
        @unknown default:
            return "the response could not be decoded: \(error)"
        }
    }
}

/// What went wrong with one attempt, before it is turned into a status.
enum OpenAIProblem: Error, Sendable {
    /// A body that does not follow the API.
    case malformed(String)
}

/// The human-readable message of an error body: OpenAI/vLLM/llama.cpp/Ollama put it at
/// `error.message`; FastAPI servers at `detail`; some at `error` (a string) or `message`.
func serverErrorMessage(_ body: Data) -> String? {
    guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
    if let error = object["error"] as? [String: Any], let message = error["message"] as? String, !message.isEmpty { return message }
    if let error = object["error"] as? String, !error.isEmpty { return error }
    if let detail = object["detail"] as? String, !detail.isEmpty { return detail }
    if let detail = object["detail"], JSONSerialization.isValidJSONObject(detail),
       let data = try? JSONSerialization.data(withJSONObject: detail, options: [.sortedKeys]) {
        return String(decoding: data, as: UTF8.self)
    }
    if let message = object["message"] as? String, !message.isEmpty { return message }
    return nil
}

/// The start of a body, for messages.
func snippet(_ body: Data, limit: Int = 200) -> String {
    let text = String(decoding: body.prefix(limit * 4), as: UTF8.self)
    return text.count > limit ? String(text.prefix(limit)) + "…" : text
}
