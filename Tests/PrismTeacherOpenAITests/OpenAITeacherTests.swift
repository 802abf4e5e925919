import Foundation
import PrismTeacher
import PrismTeacherService
import PrismWire
import PrismWorker
import XCTest
@testable import PrismTeacherOpenAI

/// OpenAITeacher against a real HTTP server (scripts/fake_openai_server.py on 127.0.0.1).
final class OpenAITeacherTests: XCTestCase {
    // MARK: Helpers

    /// Runs `body` with a fresh server, stopping it afterwards.
    func withServer<T>(_ arguments: [String] = [], _ body: (FakeOpenAIServer) async throws -> T) async throws -> T {
        let server = try await FakeOpenAIServer(arguments: arguments)
        do {
            let result = try await body(server)
            server.stop()
            return result
        } catch {
            server.stop()
            throw error
        }
    }

    /// Runs `body` with a teacher, shutting its HTTP client down afterwards.
    func withTeacher<T>(_ configuration: OpenAIConfiguration, _ body: (OpenAITeacher) async throws -> T) async throws -> T {
        let teacher = try OpenAITeacher(configuration: configuration)
        do {
            let result = try await body(teacher)
            await teacher.shutdown()
            return result
        } catch {
            await teacher.shutdown()
            throw error
        }
    }

    /// A configuration for tests: small back-offs, no jitter, an empty environment.
    func configuration(_ server: FakeOpenAIServer, api: OpenAIConfiguration.API = .completions,
                       maxRetries: Int = 3, timeout: Duration = .seconds(5)) -> OpenAIConfiguration {
        OpenAIConfiguration(baseURL: server.baseURL, model: "tiny-teacher", api: api, environment: [:],
                            maxConcurrentRequests: 4, requestTimeout: timeout, maxRetries: maxRetries,
                            initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(200), jitter: .none)
    }

    func prompt(_ text: String, id: String = "s") -> TeacherPrompt {
        var p = TeacherPrompt()
        p.sampleID = id
        p.prompt = text
        return p
    }

    func decoding(maxNewTokens: UInt32 = 0, temperature: Float = 0, topP: Float = 0, seed: UInt64 = 0) -> Decoding {
        var d = Decoding()
        d.maxNewTokens = maxNewTokens; d.temperature = temperature; d.topP = topP; d.seed = seed
        return d
    }

    func body(_ entry: [String: Any]) -> [String: Any] { entry["body"] as? [String: Any] ?? [:] }
    func headers(_ entry: [String: Any]) -> [String: String] { entry["headers"] as? [String: String] ?? [:] }
    func times(_ entries: [[String: Any]]) -> [Double] { entries.compactMap { $0["time"] as? Double } }

    func assertStatus(_ output: TeacherOutput, _ code: StatusCode, containing text: String? = nil,
                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(output.status.code, code, "\(output.status.code.name): \(output.status.message)", file: file, line: line)
        if let text {
            XCTAssertTrue(output.status.message.contains(text), "message \(output.status.message.debugDescription) lacks \(text.debugDescription)",
                          file: file, line: line)
        }
        if code != .ok {
            XCTAssertEqual(output.text, "", file: file, line: line)
            XCTAssertEqual(output.finishReason, "error", file: file, line: line)
        }
    }

    // MARK: Both APIs

    func testCompletionsSendsTheDecodingAndTheKeyAndParsesTheAnswer() async throws {
        try await withServer(["--api-key", "sk-test-123", "--model", "tiny-teacher"]) { server in
            var config = configuration(server)
            config.apiKeyEnvironmentVariable = "PRISM_TEST_TEACHER_KEY"
            config.environment = ["PRISM_TEST_TEACHER_KEY": "sk-test-123", "OPENAI_API_KEY": "wrong"]
            try await withTeacher(config) { teacher in
                XCTAssertEqual(teacher.teacherID, "openai-completions:tiny-teacher@127.0.0.1:\(server.port)")
                XCTAssertTrue(teacher.sendsAPIKey)
                let prompts = [prompt("Explain the recommendation.\nThe Matrix", id: "a"), prompt("History: Heat\nAlien  \n\n", id: "b")]
                let outputs = await teacher.generate(prompts, decoding: decoding(maxNewTokens: 40, temperature: 0.7, topP: 0.9, seed: 42))
                XCTAssertEqual(outputs.map(\.text), ["Because you watched The Matrix, this one fits.",
                                                     "Because you watched Alien, this one fits."])
                for output in outputs { assertStatus(output, .ok) }
                XCTAssertEqual(outputs.map(\.finishReason), ["stop", "stop"])
                XCTAssertEqual(outputs.map(\.promptTokens), [5, 3])
                XCTAssertEqual(outputs.map(\.completionTokens), [8, 7])
            }
            let log = try server.requests()
            XCTAssertEqual(log.count, 2)
            for entry in log {
                XCTAssertEqual(entry["path"] as? String, "/v1/completions")
                XCTAssertEqual(entry["status"] as? Int, 200)
                let b = body(entry)
                XCTAssertEqual(b["model"] as? String, "tiny-teacher")
                XCTAssertEqual(b["max_tokens"] as? Int, 40)
                XCTAssertEqual(b["temperature"] as? Double ?? -1, 0.7, accuracy: 1e-6)
                XCTAssertEqual(b["top_p"] as? Double ?? -1, 0.9, accuracy: 1e-6)
                XCTAssertEqual(b["seed"] as? Int, 42)
                XCTAssertEqual(b["n"] as? Int, 1)
                XCTAssertNil(b["messages"])
                XCTAssertEqual(headers(entry)["authorization"], "Bearer sk-test-123")
                XCTAssertEqual(headers(entry)["content-type"], "application/json")
            }
            XCTAssertEqual(Set(log.compactMap { body($0)["prompt"] as? String }),
                           ["Explain the recommendation.\nThe Matrix", "History: Heat\nAlien  \n\n"])
        }
    }

    func testChatSendsSystemAndUserMessagesAndOmitsUnsetFields() async throws {
        try await withServer { server in
            var config = configuration(server, api: .chat)
            config.systemPrompt = "You explain recommendations using only the facts given."
            try await withTeacher(config) { teacher in
                XCTAssertEqual(teacher.teacherID, "openai-chat:tiny-teacher@127.0.0.1:\(server.port)")
                XCTAssertFalse(teacher.sendsAPIKey)
                let outputs = await teacher.generate([prompt("Why this film?\nAlien")], decoding: decoding())
                XCTAssertEqual(outputs.count, 1)
                assertStatus(outputs[0], .ok)
                XCTAssertEqual(outputs[0].text, "Chat: because you watched Alien, this one fits.")
                XCTAssertEqual(outputs[0].finishReason, "stop")
                XCTAssertEqual(outputs[0].promptTokens, 12)  // system (8 words) + user (4)
            }
            let log = try server.requests()
            XCTAssertEqual(log.count, 1)
            let entry = try XCTUnwrap(log.first)
            XCTAssertEqual(entry["path"] as? String, "/v1/chat/completions")
            XCTAssertNil(headers(entry)["authorization"], "no key in the environment: no Authorization header")
            let b = body(entry)
            XCTAssertEqual(b["max_tokens"] as? Int, 96, "max_new_tokens 0 → the default")
            XCTAssertEqual(b["temperature"] as? Double, 0, "greedy is sent explicitly")
            XCTAssertNil(b["top_p"], "top_p 0 is omitted")
            XCTAssertNil(b["seed"], "seed 0 is omitted")
            XCTAssertNil(b["prompt"])
            let messages = try XCTUnwrap(b["messages"] as? [[String: String]])
            XCTAssertEqual(messages, [["role": "system", "content": "You explain recommendations using only the facts given."],
                                      ["role": "user", "content": "Why this film?\nAlien"]])
        }
    }

    // MARK: Retries

    func testTooManyRequestsHonoursRetryAfterThenSucceeds() async throws {
        try await withServer { server in
            var config = configuration(server)
            config.maxBackoff = .seconds(3)
            let start = ContinuousClock.now
            let outputs = try await withTeacher(config) { teacher in
                await teacher.generate([prompt("rate limited [[fail:429:times=2:retry-after=1]]\nHeat")], decoding: decoding())
            }
            let elapsed = ContinuousClock.now - start
            assertStatus(outputs[0], .ok)
            XCTAssertEqual(outputs[0].text, "Because you watched Heat, this one fits.")
            let log = try server.requests()
            XCTAssertEqual(log.compactMap { $0["status"] as? Int }, [429, 429, 200])
            XCTAssertEqual(log.compactMap { $0["attempt"] as? Int }, [1, 2, 3])
            let t = times(log)
            XCTAssertGreaterThanOrEqual(t[1] - t[0], 1.0, "retried before Retry-After: 1 had passed")
            XCTAssertGreaterThanOrEqual(t[2] - t[1], 1.0, "retried before Retry-After: 1 had passed")
            XCTAssertGreaterThanOrEqual(elapsed, .seconds(2))
            XCTAssertLessThan(elapsed, .seconds(6))
        }
    }

    func testRetryAfterAsHTTPDateAndCappedByMaxBackoff() async throws {
        try await withServer { server in
            var config = configuration(server)
            config.maxBackoff = .seconds(3)
            let dated = try await withTeacher(config) { teacher in
                await teacher.generate([prompt("busy [[fail:503:retry-after-date=2]]\nJaws")], decoding: decoding())
            }
            assertStatus(dated[0], .ok)
            let t = times(try server.requests())
            XCTAssertEqual(t.count, 2)
            // The date has one-second resolution: "now + 2 s" is at least one second away.
            XCTAssertGreaterThanOrEqual(t[1] - t[0], 0.9)

            config.maxBackoff = .milliseconds(150)
            let start = ContinuousClock.now
            let capped = try await withTeacher(config) { teacher in
                await teacher.generate([prompt("slow down [[fail:429:retry-after=30]]\nJaws")], decoding: decoding())
            }
            assertStatus(capped[0], .ok)
            XCTAssertLessThan(ContinuousClock.now - start, .seconds(3), "Retry-After: 30 is capped by maxBackoff")
            XCTAssertEqual(try server.requests(containing: "slow down").count, 2)
        }
    }

    func testServerErrorsAreRetriedWithExponentialBackoff() async throws {
        try await withServer { server in
            var config = configuration(server)
            config.initialBackoff = .milliseconds(150)
            config.maxBackoff = .seconds(2)
            let outputs = try await withTeacher(config) { teacher in
                await teacher.generate([prompt("flaky [[fail:500:times=2]]\nHeat"),
                                        prompt("bad gateway then 429 [[fail:502:times=1]][[fail:429:times=1]]\nUp")],
                                       decoding: decoding())
            }
            assertStatus(outputs[0], .ok)
            assertStatus(outputs[1], .ok)
            XCTAssertEqual(outputs[1].text, "Because you watched Up, this one fits.")
            let flaky = try server.requests(containing: "flaky")
            XCTAssertEqual(flaky.compactMap { $0["status"] as? Int }, [500, 500, 200])
            let t = times(flaky)
            XCTAssertGreaterThanOrEqual(t[1] - t[0], 0.15, "first back-off: initialBackoff")
            XCTAssertGreaterThanOrEqual(t[2] - t[1], 0.30, "second back-off: doubled")
            XCTAssertEqual(try server.requests(containing: "bad gateway").compactMap { $0["status"] as? Int }, [502, 429, 200])
        }
    }

    func testClientErrorsAreNotRetried() async throws {
        try await withServer { server in
            let outputs = try await withTeacher(configuration(server, maxRetries: 4)) { teacher in
                await teacher.generate([
                    prompt("p400 [[fail:400:times=always:message=max_tokens is too large for this model]]"),
                    prompt("p404 [[fail:404:times=always:message=The model does not exist]]"),
                    prompt("p422 [[fail:422:times=always]]"),
                    prompt("p401 [[fail:401:times=always:message=bad key]]"),
                    prompt("p403 [[fail:403:times=always:message=not allowed]]"),
                    prompt("fine\nHeat"),
                ], decoding: decoding())
            }
            assertStatus(outputs[0], .invalidArgument, containing: "max_tokens is too large for this model")
            XCTAssertTrue(outputs[0].status.message.contains("HTTP 400"), outputs[0].status.message)
            assertStatus(outputs[1], .invalidArgument, containing: "The model does not exist")
            assertStatus(outputs[2], .invalidArgument, containing: "HTTP 422")
            assertStatus(outputs[3], .unauthenticated, containing: "bad key")
            assertStatus(outputs[4], .permissionDenied, containing: "not allowed")
            assertStatus(outputs[5], .ok)
            for marker in ["p400", "p404", "p422", "p401", "p403"] {
                XCTAssertEqual(try server.requests(containing: marker).count, 1, "\(marker) was retried")
            }
        }
    }

    func testMissingKeyAndUnknownModelAreReportedFromTheServer() async throws {
        try await withServer(["--api-key", "sk-right", "--model", "tiny-teacher"]) { server in
            var config = configuration(server)
            config.environment = ["OPENAI_API_KEY": "sk-wrong"]
            let unauthenticated = try await withTeacher(config) { teacher in
                await teacher.generate([prompt("who am I\nHeat")], decoding: decoding())
            }
            assertStatus(unauthenticated[0], .unauthenticated, containing: "invalid or missing API key")

            config.environment = ["OPENAI_API_KEY": "sk-right"]
            config.model = "no-such-model"
            let unknown = try await withTeacher(config) { teacher in
                await teacher.generate([prompt("which model\nHeat")], decoding: decoding())
            }
            assertStatus(unknown[0], .invalidArgument, containing: "`no-such-model` does not exist")
            XCTAssertEqual(try server.requests().count, 2, "neither is retried")
            XCTAssertEqual(try server.requests().compactMap { headers($0)["authorization"] }, ["Bearer sk-wrong", "Bearer sk-right"])
        }
    }

    func testExhaustedRetriesGiveResourceExhaustedOrUnavailable() async throws {
        try await withServer { server in
            let outputs = try await withTeacher(configuration(server, maxRetries: 2)) { teacher in
                await teacher.generate([
                    prompt("always429 [[fail:429:times=always]]"),
                    prompt("always500 [[fail:500:times=always:message=CUDA out of memory]]"),
                    prompt("always503 [[fail:503:times=always]]"),
                    prompt("alwaysclose [[close:times=always]]"),
                ], decoding: decoding())
            }
            assertStatus(outputs[0], .resourceExhausted, containing: "gave up after 3 attempts")
            assertStatus(outputs[1], .unavailable, containing: "CUDA out of memory")
            assertStatus(outputs[2], .unavailable, containing: "HTTP 503")
            assertStatus(outputs[3], .unavailable, containing: "transport error")
            for marker in ["always429", "always500", "always503", "alwaysclose"] {
                XCTAssertEqual(try server.requests(containing: marker).count, 3, "\(marker): 1 attempt + 2 retries")
            }
        }
    }

    func testInvalidDecodingIsRefusedBeforeSendingAndARepeatedServerErrorIsNotRetriedSixTimes() async throws {
        try await withServer { server in
            let refused = try await withTeacher(configuration(server, maxRetries: 5)) { teacher in
                await teacher.generate([prompt("nucleus\nHeat")], decoding: decoding(topP: 1.5))
                    + (await teacher.generate([prompt("hot\nHeat")], decoding: decoding(temperature: 3)))
            }
            assertStatus(refused[0], .invalidArgument, containing: "top_p 1.5")
            assertStatus(refused[1], .invalidArgument, containing: "temperature 3")
            XCTAssertEqual(try server.requests().count, 0, "nothing the server would reject is sent")
            // A validation error a server reports as HTTP 500 repeats word for word: three attempts, not six.
            let repeated = try await withTeacher(configuration(server, maxRetries: 5)) { teacher in
                await teacher.generate([prompt("same500 [[fail:500:times=always:message=top_p must be at most 1]]")], decoding: decoding())
            }
            assertStatus(repeated[0], .internal, containing: "the same server error 3 times")
            XCTAssertEqual(try server.requests(containing: "same500").count, 3)
        }
    }

    func testStopSequencesEndARamblingAnswerBeforeMaxTokens() async throws {
        try await withServer { server in
            let rambling = try await withTeacher(configuration(server)) { teacher in
                await teacher.generate([prompt("chatty [[ramble]]\nHeat")], decoding: decoding(maxNewTokens: 40))
            }
            assertStatus(rambling[0], .ok)
            XCTAssertEqual(rambling[0].finishReason, "length", "without a stop sequence the answer runs on to max_tokens")
            var config = configuration(server)
            config.stop = ["\n\n"]
            let stopped = try await withTeacher(config) { teacher in
                await teacher.generate([prompt("chatty [[ramble]]\nHeat")], decoding: decoding(maxNewTokens: 40))
            }
            assertStatus(stopped[0], .ok)
            XCTAssertEqual(stopped[0].finishReason, "stop")
            XCTAssertEqual(stopped[0].text, "Because you watched Heat, this one fits.")
            XCTAssertEqual(try server.requests(containing: "chatty").last.flatMap { body($0)["stop"] as? [String] }, ["\n\n"])
        }
    }

    func testTheRecordedTeacherIsTheModelTheServerServes() async throws {
        // A server that answers to any name (as llama.cpp's does) lists the model it really runs.
        try await withServer { server in
            let named = try await withTeacher(configuration(server)) { teacher in
                teacher.identified(servedModels: await teacher.servedModels()).teacherID
            }
            XCTAssertTrue(named.hasPrefix("openai-completions:fake-model@"), named)
        }
        try await withServer(["--model", "tiny-teacher"]) { server in
            let named = try await withTeacher(configuration(server)) { teacher in
                (await teacher.servedModels(), teacher.identified(servedModels: await teacher.servedModels()).teacherID)
            }
            XCTAssertEqual(named.0, ["tiny-teacher"])
            XCTAssertTrue(named.1.hasPrefix("openai-completions:tiny-teacher@"), named.1)
        }
    }

    func testNoServerIsUnavailable() async throws {
        // A port that was just listened on and is now closed: connection refused.
        let server = try await FakeOpenAIServer()
        let baseURL = server.baseURL
        server.stop()
        let config = OpenAIConfiguration(baseURL: baseURL, model: "m", environment: [:], requestTimeout: .seconds(2),
                                         maxRetries: 1, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(20))
        let outputs = try await withTeacher(config) { teacher in
            await teacher.generate([prompt("anyone there?")], decoding: decoding())
        }
        assertStatus(outputs[0], .unavailable, containing: "gave up after 2 attempts")
    }

    func testTimeoutsAreRetriedThenDeadlineExceeded() async throws {
        try await withServer { server in
            let start = ContinuousClock.now
            let outputs = try await withTeacher(configuration(server, maxRetries: 1, timeout: .milliseconds(400))) { teacher in
                await teacher.generate([prompt("hangs [[slow:3000]]\nHeat"),
                                        prompt("slow once [[slow:1500:times=1]]\nUp")], decoding: decoding())
            }
            let elapsed = ContinuousClock.now - start
            assertStatus(outputs[0], .deadlineExceeded, containing: "no complete response within 0.4 s")
            assertStatus(outputs[1], .ok)
            XCTAssertEqual(outputs[1].text, "Because you watched Up, this one fits.")
            XCTAssertLessThan(elapsed, .milliseconds(2500), "the timeout cut the slow requests short")
            XCTAssertEqual(try server.requests(containing: "hangs").count, 2)
            XCTAssertEqual(try server.requests(containing: "slow once").count, 2)
        }
    }

    func testFaultsFromAScriptFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prism-openai-script-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("faults.json")
        try Data(#"""
            {"rules": [
              {"match": "scripted", "marker": "[[fail:503:times=1:retry-after=0]]"},
              {"match": "shared-budget", "marker": "[[fail:500:times=2]]", "scope": "global"}
            ]}
            """#.utf8).write(to: script)
        try await withServer(["--script", script.path]) { server in
            var config = configuration(server)
            config.maxConcurrentRequests = 1
            let outputs = try await withTeacher(config) { teacher in
                await teacher.generate([prompt("scripted\nHeat"), prompt("shared-budget A\nUp"), prompt("shared-budget B\nJaws")],
                                       decoding: decoding())
            }
            for output in outputs { assertStatus(output, .ok) }
            XCTAssertEqual(try server.requests(containing: "scripted").compactMap { $0["status"] as? Int }, [503, 200])
            // Global scope: the first two requests of either prompt fail, then both succeed.
            let shared = try server.requests(containing: "shared-budget").compactMap { $0["status"] as? Int }
            XCTAssertEqual(shared.filter { $0 == 500 }.count, 2, "\(shared)")
            XCTAssertEqual(shared.filter { $0 == 200 }.count, 2, "\(shared)")
        }
    }

    func testCancellationEndsPromptlyWithCancelled() async throws {
        try await withServer { server in
            let teacher = try OpenAITeacher(configuration: configuration(server, timeout: .seconds(10)))
            let prompts = [prompt("stuck [[slow:5000]]\nHeat"), prompt("failing [[fail:500:times=always]]\nUp")]
            var config = configuration(server)
            config.initialBackoff = .seconds(5)
            config.maxBackoff = .seconds(10)
            let slowBackoff = try OpenAITeacher(configuration: config)
            let plain = decoding()
            let start = ContinuousClock.now
            let task = Task {
                async let waiting = teacher.generate(Array(prompts[0..<1]), decoding: plain)
                async let backingOff = slowBackoff.generate(Array(prompts[1...]), decoding: plain)
                return await (waiting, backingOff)
            }
            try await Task.sleep(for: .milliseconds(300))
            task.cancel()
            let (waiting, backingOff) = await task.value
            XCTAssertLessThan(ContinuousClock.now - start, .seconds(3), "cancellation cut the request and the back-off short")
            await teacher.shutdown()
            await slowBackoff.shutdown()
            assertStatus(waiting[0], .cancelled)
            assertStatus(backingOff[0], .cancelled, containing: "during back-off")
            XCTAssertEqual(try server.requests(containing: "stuck").count, 1)
            XCTAssertEqual(try server.requests(containing: "failing").count, 1)
        }
    }

    // MARK: Answers

    func testMalformedResponsesAreInternalAndNotRetried() async throws {
        for api in OpenAIConfiguration.API.allCases {
            try await withServer { server in
                let outputs = try await withTeacher(configuration(server, api: api)) { teacher in
                    await teacher.generate([prompt("garbage [[badjson]]"), prompt("empty [[badjson:nochoices]]"),
                                            prompt("missing [[badjson:notext]]")], decoding: decoding())
                }
                assertStatus(outputs[0], .internal, containing: "not valid JSON")
                assertStatus(outputs[1], .internal, containing: "no \"choices\"")
                assertStatus(outputs[2], .internal, containing: api == .chat ? "no \"message\"" : "no \"text\"")
                XCTAssertEqual(try server.requests().count, 3, "malformed answers are not retried")
            }
        }
    }

    func testLengthIsPassedThrough() async throws {
        try await withServer { server in
            let markedPrompts = [prompt("cut [[length]]\nHeat")], shortPrompts = [prompt("short\nHeat")]
            let plain = decoding(), three = decoding(maxNewTokens: 3)
            let outputs = try await withTeacher(configuration(server, api: .chat)) { teacher in
                async let marked = teacher.generate(markedPrompts, decoding: plain)
                async let short = teacher.generate(shortPrompts, decoding: three)
                return await marked + short
            }
            assertStatus(outputs[0], .ok)
            XCTAssertEqual(outputs[0].finishReason, "length")
            XCTAssertEqual(outputs[0].text, "Chat: because you watched Heat, this one fits.")
            assertStatus(outputs[1], .ok)
            XCTAssertEqual(outputs[1].finishReason, "length")
            XCTAssertEqual(outputs[1].text, "Chat: because you")
            XCTAssertEqual(outputs[1].completionTokens, 3)
        }
    }

    func testEmptyPromptIsInvalidWithoutARequest() async throws {
        try await withServer { server in
            let outputs = try await withTeacher(configuration(server)) { teacher in
                await teacher.generate([prompt("  \n"), prompt("ok\nHeat")], decoding: decoding())
            }
            assertStatus(outputs[0], .invalidArgument, containing: "empty")
            assertStatus(outputs[1], .ok)
            XCTAssertEqual(try server.requests().count, 1)
            let empty = try await withTeacher(configuration(server)) { teacher in await teacher.generate([], decoding: decoding()) }
            XCTAssertEqual(empty, [])
        }
    }

    // MARK: Concurrency

    func testConcurrencyCapHoldsAcrossGenerateCalls() async throws {
        try await withServer { server in
            var config = configuration(server)
            config.maxConcurrentRequests = 3
            let start = ContinuousClock.now
            let prompts = (0..<12).map { prompt("slow [[slow:400]]\nFilm \($0)") }
            let plain = decoding()
            let outputs = try await withTeacher(config) { teacher in
                // 12 slow prompts in two shards at once, sharing one cap of 3.
                async let first = teacher.generate(Array(prompts[0..<6]), decoding: plain)
                async let second = teacher.generate(Array(prompts[6..<12]), decoding: plain)
                return await first + second
            }
            let elapsed = ContinuousClock.now - start
            XCTAssertEqual(outputs.count, 12)
            for (index, output) in outputs.enumerated() {
                assertStatus(output, .ok)
                XCTAssertEqual(output.text, "Because you watched Film \(index), this one fits.", "outputs stay in prompt order")
            }
            XCTAssertEqual(try server.requests().count, 12)
            XCTAssertEqual(try server.maxInFlight(), 3, "the cap is reached and never exceeded")
            XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(1550), "12 × 400 ms at 3 at a time: at least 4 waves")
        }
    }

    // MARK: Through the teacher service

    func testTeacherHandlerEndToEnd() async throws {
        try await withServer { server in
            var config = configuration(server, api: .chat)
            config.systemPrompt = "Explain briefly."
            let teacher = try OpenAITeacher(configuration: config)
            let handler = TeacherHandler(backend: teacher)
            var shard = TeacherShard()
            shard.shardID = "shard-7"
            shard.decoding = decoding(maxNewTokens: 64, temperature: 0.2, seed: 9)
            shard.prompts = [
                prompt("Recommend.\nThe Godfather", id: "u1:i1"),
                prompt("Recommend.\nAmélie — 日本語 ✓", id: "u2:i2"),
                prompt("Recommend. [[fail:500:times=1]]\nSeven", id: "u3:i3"),
                prompt("Recommend. [[fail:400]]\nFargo", id: "u4:i4"),
                prompt("Recommend. [[length]]\nBrazil", id: "u5:i5"),
            ]
            var envelope = Envelope()
            envelope.requestID = "r-1"
            envelope.service = "teacher"
            envelope.body = try shard.serializedData()
            let result = try await handler.handle(WorkRequest(envelope: envelope))
            await teacher.shutdown()

            XCTAssertEqual(result.status.code, .ok, result.status.message)
            let decoded = try TeacherShardResult(serializedBytes: result.body)
            XCTAssertEqual(decoded.shardID, "shard-7")
            XCTAssertEqual(decoded.results.map(\.sampleID), ["u1:i1", "u2:i2", "u3:i3", "u4:i4", "u5:i5"])
            XCTAssertEqual(decoded.results.map(\.status.code), [.ok, .ok, .ok, .invalidArgument, .ok])
            XCTAssertEqual(decoded.results.map(\.explanation), [
                "Chat: because you watched The Godfather, this one fits.",
                "Chat: because you watched Amélie — 日本語 ✓, this one fits.",
                "Chat: because you watched Seven, this one fits.",
                "",
                "Chat: because you watched Brazil, this one fits.",
            ])
            XCTAssertEqual(decoded.results.map(\.finishReason), ["stop", "stop", "stop", "error", "length"])
            XCTAssertTrue(decoded.results.allSatisfy { $0.teacherID == "openai-chat:tiny-teacher@127.0.0.1:\(server.port)" })
            XCTAssertEqual(decoded.results[0].promptTokens, 5)  // "Explain briefly." + "Recommend.\nThe Godfather"
            XCTAssertEqual(decoded.results[0].completionTokens, 9)
            let log = try server.requests()
            XCTAssertEqual(log.count, 6, "five prompts, one retried once")
            for entry in log {
                XCTAssertEqual(body(entry)["max_tokens"] as? Int, 64)
                XCTAssertEqual(body(entry)["seed"] as? Int, 9)
                XCTAssertEqual(body(entry)["temperature"] as? Double ?? -1, 0.2, accuracy: 1e-6)
            }
        }
    }
}
