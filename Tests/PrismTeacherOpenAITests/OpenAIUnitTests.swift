import Foundation
import PrismTeacher
import PrismWire
import XCTest
@testable import PrismTeacherOpenAI

/// The pieces of OpenAITeacher that need no server: configuration, request bodies, response
/// parsing, back-off, Retry-After.
final class OpenAIUnitTests: XCTestCase {
    func testConfigurationIsValidatedAndNamesTheTeacher() async throws {
        let teacher = try OpenAITeacher(configuration: OpenAIConfiguration(baseURL: "http://gpu-box:8000/v1/", model: "llama-3-8b",
                                                                          api: .completions, environment: [:]),
                                        httpClient: .shared)
        XCTAssertEqual(teacher.endpoint, "http://gpu-box:8000/v1/completions")
        XCTAssertEqual(teacher.teacherID, "openai-completions:llama-3-8b@gpu-box:8000")
        let chat = try OpenAITeacher(configuration: OpenAIConfiguration(baseURL: "https://api.example.com/v1", model: "m",
                                                                       environment: ["OPENAI_API_KEY": " sk-1 \n"]),
                                     httpClient: .shared)
        XCTAssertEqual(chat.endpoint, "https://api.example.com/v1/chat/completions")
        XCTAssertEqual(chat.teacherID, "openai-chat:m@api.example.com")
        XCTAssertEqual(chat.authorization, "Bearer sk-1")
        await chat.shutdown()  // a client passed in is left alone: .shared stays usable

        let bad: [OpenAIConfiguration] = [
            OpenAIConfiguration(baseURL: "127.0.0.1:8000/v1", model: "m"),
            OpenAIConfiguration(baseURL: "ftp://host/v1", model: "m"),
            OpenAIConfiguration(baseURL: "http://host/v1?x=1", model: "m"),
            OpenAIConfiguration(baseURL: "http://host/v1", model: " "),
            OpenAIConfiguration(baseURL: "http://host/v1", model: "m", maxConcurrentRequests: 0),
            OpenAIConfiguration(baseURL: "http://host/v1", model: "m", requestTimeout: .zero),
            OpenAIConfiguration(baseURL: "http://host/v1", model: "m", maxRetries: -1),
        ]
        for configuration in bad {
            XCTAssertThrowsError(try OpenAITeacher(configuration: configuration, httpClient: .shared), configuration.baseURL) { error in
                guard case TeacherError.invalidConfiguration = error else { return XCTFail("\(error)") }
            }
        }
    }

    func testRequestBodies() throws {
        var decoding = Decoding()
        decoding.maxNewTokens = 50; decoding.temperature = 0.5; decoding.topP = 0.95; decoding.seed = 7
        let completions = OpenAIConfiguration(baseURL: "http://h/v1", model: "m", api: .completions)
        let body = try JSONSerialization.jsonObject(with: OpenAIRequest(configuration: completions, prompt: "P", decoding: decoding).encoded())
            as? [String: Any]
        XCTAssertEqual(Set(body?.keys.map { $0 } ?? []), ["model", "prompt", "max_tokens", "temperature", "top_p", "seed", "n", "stream"])
        XCTAssertEqual(body?["prompt"] as? String, "P")
        XCTAssertEqual(body?["stream"] as? Bool, false)

        var chat = completions
        chat.api = .chat
        chat.systemPrompt = ""
        chat.defaultMaxTokens = 77
        let chatBody = try JSONSerialization.jsonObject(with: OpenAIRequest(configuration: chat, prompt: "P", decoding: Decoding()).encoded())
            as? [String: Any]
        XCTAssertEqual(Set(chatBody?.keys.map { $0 } ?? []), ["model", "messages", "max_tokens", "temperature", "n", "stream"])
        XCTAssertEqual(chatBody?["max_tokens"] as? Int, 77)
        XCTAssertEqual((chatBody?["messages"] as? [[String: String]])?.map { $0["role"] }, ["user"], "an empty system prompt is left out")

        var stopping = completions
        stopping.stop = ["\n\n", "Question:"]
        let stopBody = try JSONSerialization.jsonObject(with: OpenAIRequest(configuration: stopping, prompt: "P", decoding: decoding).encoded())
            as? [String: Any]
        XCTAssertEqual(stopBody?["stop"] as? [String], ["\n\n", "Question:"])
        stopping.stop = ["a", "b", "c", "d", "e"]
        XCTAssertThrowsError(try stopping.validated())
    }

    func testResponseParsing() {
        let chat = Data(#"{"choices":[{"message":{"role":"assistant","content":"  Hi.\n"},"finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#.utf8)
        XCTAssertEqual(try? OpenAIResponse.output(from: chat, api: .chat).get(),
                       TeacherOutput(text: "Hi.", finishReason: "length", promptTokens: 3, completionTokens: 2))
        let noUsage = Data(#"{"choices":[{"text":"x","finish_reason":null}]}"#.utf8)
        XCTAssertEqual(try? OpenAIResponse.output(from: noUsage, api: .completions).get(), TeacherOutput(text: "x", finishReason: "unknown"))

        func problem(_ json: String, _ api: OpenAIConfiguration.API = .completions) -> String {
            switch OpenAIResponse.output(from: Data(json.utf8), api: api) {
            case .success(let output): return "unexpected success: \(output)"
            case .failure(.malformed(let text)): return text
            }
        }
        XCTAssertTrue(problem("<html>").contains("not valid JSON"), problem("<html>"))
        XCTAssertTrue(problem(#"{"choices": []}"#).contains("empty \"choices\""))
        XCTAssertTrue(problem(#"{"choices": "no"}"#).contains("choices"), problem(#"{"choices": "no"}"#))
        XCTAssertTrue(problem(#"{"choices": [{"text": 5}]}"#).contains("choices[0].text"), problem(#"{"choices": [{"text": 5}]}"#))
        XCTAssertTrue(problem(#"{"choices": [{"message": {"content": null}}]}"#, .chat).contains("no \"content\""))
        XCTAssertTrue(problem(#"{"error": {"message": "overloaded"}}"#).contains("overloaded"))

        XCTAssertEqual(serverErrorMessage(Data(#"{"error": {"message": "m1", "type": "x"}}"#.utf8)), "m1")
        XCTAssertEqual(serverErrorMessage(Data(#"{"error": "m2"}"#.utf8)), "m2")
        XCTAssertEqual(serverErrorMessage(Data(#"{"detail": "m3"}"#.utf8)), "m3")
        XCTAssertEqual(serverErrorMessage(Data(#"{"detail": [{"loc": ["body"]}]}"#.utf8)), #"[{"loc":["body"]}]"#)
        XCTAssertNil(serverErrorMessage(Data("oops".utf8)))
    }

    func testBackoffDoublesIsCappedAndJittered() {
        var configuration = OpenAIConfiguration(baseURL: "http://h/v1", model: "m", initialBackoff: .milliseconds(100),
                                                maxBackoff: .milliseconds(700), jitter: .none)
        let plain = Backoff(configuration)
        XCTAssertEqual((0..<5).map { Int((plain.delay(retry: $0, retryAfter: nil).seconds * 1000).rounded()) }, [100, 200, 400, 700, 700])
        XCTAssertEqual(plain.delay(retry: 1000, retryAfter: nil).seconds, 0.7, accuracy: 1e-9, "no overflow for large retry counts")

        configuration.jitter = .full
        configuration.random = { 0.25 }
        let jittered = Backoff(configuration)
        XCTAssertEqual((0..<4).map { Int((jittered.delay(retry: $0, retryAfter: nil).seconds * 1000).rounded()) }, [25, 50, 100, 175])

        // Retry-After replaces the back-off (no jitter) and is capped by maxBackoff.
        XCTAssertEqual(jittered.delay(retry: 0, retryAfter: .milliseconds(300)), .milliseconds(300))
        XCTAssertEqual(jittered.delay(retry: 0, retryAfter: .seconds(60)), .milliseconds(700))
    }

    func testRetryAfterParsing() {
        let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        XCTAssertEqual(parseRetryAfter("120", now: now), .seconds(120))
        XCTAssertEqual(parseRetryAfter(" 1.5 ", now: now), .seconds(1.5))
        XCTAssertEqual(parseRetryAfter("Sun, 06 Nov 1994 08:49:47 GMT", now: now), .seconds(10))
        XCTAssertEqual(parseRetryAfter("Sunday, 06-Nov-94 08:50:37 GMT", now: now), .seconds(60))
        XCTAssertEqual(parseRetryAfter("Sun Nov  6 08:49:40 1994", now: now), .seconds(3))
        XCTAssertEqual(parseRetryAfter("Sat, 05 Nov 1994 08:49:37 GMT", now: now), .zero, "a past date: retry now")
        XCTAssertEqual(parseHTTPDate("Thu, 29 Feb 2024 23:59:59 GMT"), Date(timeIntervalSince1970: 1_709_251_199))
        for junk in ["", "soon", "-5", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "1.2.3"] {
            XCTAssertNil(parseRetryAfter(junk, now: now), junk)
        }
    }

    func testLimiterHandsPermitsOverInOrder() async {
        let limiter = RequestLimiter(limit: 2)
        await limiter.acquire()
        await limiter.acquire()
        let waiter = Task { await limiter.acquire(); return "got it" }
        try? await Task.sleep(for: .milliseconds(50))
        let inUse = await limiter.inUse
        XCTAssertEqual(inUse, 2)
        await limiter.release()
        let value = await waiter.value
        XCTAssertEqual(value, "got it")
        let stillInUse = await limiter.inUse
        XCTAssertEqual(stillInUse, 2, "the released permit went to the waiter")
        await limiter.release()
        await limiter.release()
        let idle = await limiter.inUse
        XCTAssertEqual(idle, 0)
    }
}
