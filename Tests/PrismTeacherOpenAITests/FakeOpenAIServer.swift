import Foundation
import XCTest

/// scripts/fake_openai_server.py as a subprocess on 127.0.0.1 (a free port), with its request log.
final class FakeOpenAIServer: @unchecked Sendable {
    /// The repository root, from this file's path (Tests/PrismTeacherOpenAITests/FakeOpenAIServer.swift).
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = repoRoot.appendingPathComponent("scripts/fake_openai_server.py")
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false }

    let process: Process
    let port: Int
    let directory: URL
    let logURL: URL
    let stdinPipe: Pipe
    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// PRISM_PYTHON, else <repo>/.venv/bin/python, else /work/venv/bin/python. None: a failure under
    /// CI (env CI set), a skip elsewhere.
    static func pythonInterpreter() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["PRISM_PYTHON"], !explicit.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: explicit) else {
                throw Failure("PRISM_PYTHON=\(explicit) is not an executable file")
            }
            return URL(fileURLWithPath: explicit)
        }
        let candidates = [repoRoot.appendingPathComponent(".venv/bin/python").path, "/work/venv/bin/python"]
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return URL(fileURLWithPath: found)
        }
        let message = "no Python interpreter for the fake OpenAI server (tried \(candidates.joined(separator: ", "))); "
            + "create one with scripts/setup-python.sh or set PRISM_PYTHON"
        if isCI { throw Failure(message) }
        throw XCTSkip(message)
    }

    /// Starts the server; `arguments` are passed on (e.g. ["--api-key", "k"]).
    init(arguments: [String] = []) async throws {
        let python = try Self.pythonInterpreter()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("prism-fake-openai-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        logURL = directory.appendingPathComponent("requests.jsonl")
        let errURL = directory.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)

        process = Process()
        process.executableURL = python
        process.arguments = [Self.script.path, "--port", "0", "--log", logURL.path, "--max-lifetime", "120"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()

        // The first stdout line is the port; read it off the concurrency pool.
        let reader = stdoutPipe.fileHandleForReading
        let line: String = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var bytes: [UInt8] = []
                while true {
                    let chunk = reader.readData(ofLength: 1)
                    guard let byte = chunk.first, byte != UInt8(ascii: "\n") else { break }
                    bytes.append(byte)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
        guard let port = Int(line.trimmingCharacters(in: .whitespaces)), port > 0 else {
            process.terminate()
            process.waitUntilExit()
            let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: directory)
            throw Failure("the fake OpenAI server did not print its port (got \(line.debugDescription)); stderr:\n\(stderr)")
        }
        self.port = port
    }

    /// Stops the server and removes its files.
    func stop() {
        try? stdinPipe.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Every logged request, in arrival order.
    func requests() throws -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: logURL.path) else { return [] }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw Failure("log line is not an object: \(line)")
            }
            return object
        }
    }

    /// The logged requests whose prompt (or any message) contains `text`.
    func requests(containing text: String) throws -> [[String: Any]] {
        try requests().filter { entry in
            guard let body = entry["body"] as? [String: Any] else { return false }
            if let prompt = body["prompt"] as? String { return prompt.contains(text) }
            if let messages = body["messages"] as? [[String: Any]] {
                return messages.contains { ($0["content"] as? String)?.contains(text) ?? false }
            }
            return false
        }
    }

    /// The most requests the server was handling at once (from the log's in_flight at arrival).
    func maxInFlight() throws -> Int {
        try requests().compactMap { $0["in_flight"] as? Int }.max() ?? 0
    }
}
