import Foundation
import PrismWire
import PrismWorker
import XCTest

/// The Python and C clients (scripts/interop) against an in-process broker and echo worker:
/// each client runs as a subprocess and its exact output is checked. Also checks that protobuf-c,
/// Python's protobuf and swift-protobuf encode the same Envelope byte for byte.
final class InteropTests: XCTestCase {
    /// The repository root, from this file's path (Tests/FleetTests/InteropTests.swift).
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let interopDir = repoRoot.appendingPathComponent("scripts/interop")
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false }

    // MARK: Python

    func testPythonClientEchoesExactBodies() async throws {
        let python = try pythonInterpreter()
        try await withEchoFleet { frontend in
            let bodies = ["hello", "héllo wörld — ✓ 日本語 🚀", "  spaces\tand a tab  ", "", "multi\nline"]
            for body in bodies {
                let run = try await self.runPython(python, ["--broker", frontend, "--service", "echo", "--body=\(body)"])
                XCTAssertEqual(run.status, 0, "python client failed for \(body.debugDescription): \(run.stderrText)")
                assertExactOutput(run, body + "\n")
            }
            // Method and metadata travel too (the echo service ignores them but must still answer).
            let withMetadata = try await self.runPython(python, ["--broker", frontend, "--body", "meta", "--method", "m",
                                                                 "--metadata", "k=v", "--metadata", "trace=✓"])
            XCTAssertEqual(withMetadata.status, 0, withMetadata.stderrText)
            assertExactOutput(withMetadata, "meta\n")

            let health = try await self.runPython(python, ["--broker", frontend, "--health", "--service", "echo"])
            XCTAssertEqual(health.status, 0, health.stderrText)
            let lines = health.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(lines.count, 3, health.stdoutText)
            XCTAssertTrue(lines.first?.hasPrefix("uptime_ms ") ?? false, health.stdoutText)
            XCTAssertEqual(lines.dropFirst().first, "echo workers=1 capacity=2 queued=0 in_flight=0")
        }
    }

    func testPythonClientUnknownServiceIsUnavailable() async throws {
        let python = try pythonInterpreter()
        try await withEchoFleet { frontend in
            let run = try await self.runPython(python, ["--broker", frontend, "--service", "no-such-service", "--body", "x",
                                                        "--timeout-ms", "3000"])
            XCTAssertEqual(run.status, 1, "expected a non-zero exit: \(run.stderrText)")
            XCTAssertEqual(run.stdoutText, "")
            XCTAssertTrue(run.stderrText.hasPrefix("UNAVAILABLE: "), "stderr: \(run.stderrText)")
            XCTAssertTrue(run.stderrText.hasSuffix("\n"))
            XCTAssertEqual(run.stderrText.split(separator: "\n").count, 1, "one line expected: \(run.stderrText)")
        }
    }

    /// The pip-installable Python client (clients/python) reads `prism keygen`'s files and talks CURVE
    /// to a CURVE broker.
    func testPythonClientOverCURVE() async throws {
        let python = try pythonInterpreter()
        let keys = try FleetKeys(clientServices: "echo")
        defer { keys.remove() }
        let fleet = try ProcessFleet(keys: keys)
        defer { fleet.stop() }
        try fleet.startWorker(service: "echo", handler: "echo", id: "echo0")
        let script = """
            import sys
            sys.path.insert(0, sys.argv[1])
            from prism_client import Client, CurveKeys, PrismError
            with Client(sys.argv[2], curve=CurveKeys.from_files(sys.argv[3], sys.argv[4]), timeout_ms=5000) as client:
                print(client.call("echo", "sealed ✓".encode()).body.decode())
                try:
                    client.call("teacher", b"x")
                except PrismError as error:
                    print(error.code_name)
            """
        let run = try await Self.run(python, ["-c", script, Self.repoRoot.appendingPathComponent("clients/python/src").path,
                                              fleet.frontend, keys.path("broker.pub"), keys.path("client.key")])
        XCTAssertEqual(run.status, 0, run.stderrText)
        XCTAssertEqual(run.stdoutText, "sealed ✓\nPERMISSION_DENIED\n")
    }

    func testPythonEnvelopeEncodingMatchesSwift() async throws {
        let python = try pythonInterpreter()
        let script = """
            import sys
            from prism.v1 import fleet_pb2
            e = fleet_pb2.Envelope(request_id="6f1c2a9e-3b4d-4e5f-8a7b-0123456789ab", service="echo",
                                   method="m\\u00e9thode", deadline_unix_ms=1767225600123, attempt=300,
                                   body=bytes([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x68, 0xc3, 0xa9]))
            e.metadata["trace-id"] = "abc\\u2713"
            sys.stdout.write(e.SerializeToString().hex() + "\\n")
            """
        let run = try await Self.run(python, ["-c", script],
                                     environment: ["PYTHONPATH": Self.interopDir.appendingPathComponent("prism_pb").path])
        XCTAssertEqual(run.status, 0, run.stderrText)
        XCTAssertEqual(run.stdoutText, try Self.fixtureEnvelopeHex() + "\n")
    }

    /// Re-sends, attempt counting, duplicate dropping and local deadlines, against a scripted fake
    /// broker (scripts/interop/test_prism_client.py, pytest).
    func testPythonClientSemanticsAgainstFakeBroker() async throws {
        let python = try pythonInterpreter()
        let run = try await Self.run(python, ["-m", "pytest", "-q", "-p", "no:cacheprovider",
                                              Self.interopDir.appendingPathComponent("test_prism_client.py").path])
        XCTAssertEqual(run.status, 0, "pytest failed:\n\(run.stdoutText)\(run.stderrText)")
    }

    // MARK: C

    func testCClientEchoesExactBodies() async throws {
        let (binary, cleanup) = try await compileCClient()
        defer { cleanup() }
        try await withEchoFleet { frontend in
            for body in ["hello", "héllo wörld — ✓ 日本語 🚀", "  spaces\tand a tab  ", ""] {
                let run = try await Self.run(binary, [frontend, "echo", body])
                XCTAssertEqual(run.status, 0, "C client failed for \(body.debugDescription): \(run.stderrText)")
                assertExactOutput(run, body + "\n")
            }
            // 100 sequential calls over one socket, each with its own request id.
            let many = try await Self.run(binary, [frontend, "echo", "ping ✓", "100"])
            XCTAssertEqual(many.status, 0, many.stderrText)
            assertExactOutput(many, String(repeating: "ping ✓\n", count: 100))

            let unknown = try await Self.run(binary, ["--timeout-ms", "3000", frontend, "no-such-service", "x"])
            XCTAssertEqual(unknown.status, 1, unknown.stderrText)
            XCTAssertEqual(unknown.stdoutText, "")
            XCTAssertTrue(unknown.stderrText.hasPrefix("UNAVAILABLE: "), "stderr: \(unknown.stderrText)")

            let usage = try await Self.run(binary, [frontend, "echo"])
            XCTAssertEqual(usage.status, 2)
        }
    }

    func testCEnvelopeEncodingMatchesSwift() async throws {
        let (binary, cleanup) = try await compileCClient()
        defer { cleanup() }
        let run = try await Self.run(binary, ["--encode-only"])
        XCTAssertEqual(run.status, 0, run.stderrText)
        XCTAssertEqual(run.stdoutText, try Self.fixtureEnvelopeHex() + "\n")
    }

    /// The Envelope that `prism_echo_client --encode-only` and the Python snippet above encode.
    /// One metadata entry, so map ordering cannot differ between implementations.
    static func fixtureEnvelopeHex() throws -> String {
        var envelope = Envelope()
        envelope.requestID = "6f1c2a9e-3b4d-4e5f-8a7b-0123456789ab"
        envelope.service = "echo"
        envelope.method = "méthode"
        envelope.deadlineUnixMs = 1_767_225_600_123
        envelope.attempt = 300
        envelope.metadata = ["trace-id": "abc✓"]
        envelope.body = Data([0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF]) + Data("hé".utf8)
        let bytes: [UInt8] = try envelope.serializedBytes()
        return bytes.map { String(format: "%02x", $0) }.joined()
    }

    // MARK: Helpers

    /// Byte-exact stdout (String equality would treat canonically equivalent Unicode as equal) and no stderr.
    func assertExactOutput(_ run: ProcessRun, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        if run.stdout != Data(expected.utf8) {
            XCTFail("stdout \(run.stdoutText.debugDescription) (\(run.stdout.count) bytes), expected \(expected.debugDescription) "
                    + "(\(expected.utf8.count) bytes)", file: file, line: line)
        }
        XCTAssertEqual(run.stderrText, "", "stderr", file: file, line: line)
    }

    /// Runs `body` against a broker with one echo worker ("interop-echo", capacity 2), then stops the fleet.
    func withEchoFleet(_ body: (String) async throws -> Void) async throws {
        let fleet = try await InProcessFleet()
        do {
            try fleet.addWorker(service: "echo", handler: EchoHandler(), capacity: 2, name: "interop-echo")
            try await fleet.waitForWorkers("echo", count: 1)
            try await body(fleet.endpoints.frontend)
        } catch {
            await fleet.stop()
            throw error
        }
        await fleet.stop()
    }

    /// PRISM_PYTHON, else <repo>/.venv/bin/python, else /work/venv/bin/python. None: a failure under
    /// CI (env CI set), a skip elsewhere.
    func pythonInterpreter() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["PRISM_PYTHON"], !explicit.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: explicit) else {
                throw InteropTestError("PRISM_PYTHON=\(explicit) is not an executable file")
            }
            return URL(fileURLWithPath: explicit)
        }
        let candidates = [Self.repoRoot.appendingPathComponent(".venv/bin/python").path, "/work/venv/bin/python"]
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return URL(fileURLWithPath: found)
        }
        let message = "no Python interpreter for the interop tests (tried \(candidates.joined(separator: ", "))); "
            + "create one with scripts/setup-python.sh or set PRISM_PYTHON"
        if Self.isCI {
            throw InteropTestError(message)
        }
        throw XCTSkip(message)
    }

    func runPython(_ python: URL, _ arguments: [String]) async throws -> ProcessRun {
        try await Self.run(python, [Self.interopDir.appendingPathComponent("prism_client.py").path] + arguments)
    }

    /// Compiles scripts/interop/c into a fresh temporary directory; returns the binary and a cleanup.
    func compileCClient() async throws -> (URL, () -> Void) {
        guard let cc = Self.findExecutable("cc") else {
            let message = "no C compiler (cc) on PATH for the C interop client"
            if Self.isCI {
                throw InteropTestError(message)
            }
            throw XCTSkip(message)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prism-interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cleanup = { _ = try? FileManager.default.removeItem(at: directory) }
        let source = Self.interopDir.appendingPathComponent("c")
        let binary = directory.appendingPathComponent("prism_echo_client")
        let run = try await Self.run(cc, ["-std=c11", "-O1", "-Wall", "-Wextra",
                                          "-I", source.appendingPathComponent("generated").path,
                                          source.appendingPathComponent("prism_echo_client.c").path,
                                          source.appendingPathComponent("generated/prism/v1/fleet.pb-c.c").path,
                                          "-lzmq", "-lprotobuf-c", "-o", binary.path])
        guard run.status == 0 else {
            cleanup()
            throw InteropTestError("compiling the C client failed (needs libzmq3-dev, libprotobuf-c-dev):\n\(run.stderrText)")
        }
        return (binary, cleanup)
    }

    static func findExecutable(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    struct ProcessRun {
        var status: Int32
        var stdout: Data
        var stderr: Data
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    struct InteropTestError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Runs a program to completion without blocking a concurrency thread; output goes through
    /// temporary files (no pipe to fill). Killed after `timeout` seconds.
    static func run(_ executable: URL, _ arguments: [String], environment extra: [String: String] = [:],
                    timeout: TimeInterval = 15) async throws -> ProcessRun {
        let directory = FileManager.default.temporaryDirectory
        let outURL = directory.appendingPathComponent("prism-interop-\(UUID().uuidString).out")
        let errURL = directory.appendingPathComponent("prism-interop-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outHandle
        process.standardError = errHandle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                if process.isRunning { process.terminate() }
            }
        }
        try? outHandle.close()
        try? errHandle.close()
        return ProcessRun(status: status, stdout: try Data(contentsOf: outURL), stderr: try Data(contentsOf: errURL))
    }
}
