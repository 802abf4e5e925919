import Foundation
import PrismBench
import XCTest

/// The real `prism` binary refuses bad arguments with a usage error (exit 64) instead of trapping.
final class CommandLineTests: XCTestCase {
    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessFleet.prismPath)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testBadCountsAreUsageErrors() throws {
        for (arguments, message) in [
            (["replay", "--count", "0"], "--count must be at least 1"),
            (["replay", "--count=-5"], "--count must be at least 1"),
            (["replay", "--count", "4", "--unknown-users", "9"], "--unknown-users must be between 0 and --count"),
            (["replay", "--concurrency", "0"], "--concurrency must be at least 1"),
            (["eval", "--count=-1"], "--count must not be negative"),
            (["eval", "--unknown-users", "1.5"], "--unknown-users is a share between 0 and 1"),
            (["eval", "--split", "nope"], "unknown split 'nope'"),
            (["eval", "--service", "a/b=prism.explain"], "the system name 'a/b' names files"),
            (["eval", "--service", "x=prism.explain", "--service", "x=prism.explain.b"], "the system name 'x' is given twice"),
            (["eval", "--service", "prism.explain", "--service", "prism.explain.b"], "the system name 'prism' is given twice"),
            (["eval", "--service", "=prism.explain"], "--service must be SERVICE or NAME=SERVICE"),
            (["distill", "--top-p", "1.5"], "--top-p must be in 0...1"),
            (["distill", "--temperature", "3"], "--temperature must be in 0...2"),
            (["distill", "--unmarkable", "maybe"], "--unmarkable must be keep or drop"),
            (["worker", "--service", "teacher", "--teacher", "rule", "--oracle-style", "loud"], "--oracle-style must be one of sample, user, not 'loud'"),
            (["worker", "--service", "teacher", "--teacher", "t5"], "--teacher t5 needs --model DIR"),
            (["worker", "--service", "teacher", "--teacher", "gpt"], "unknown teacher 'gpt' (rule, sleep, openai, t5)"),
            (["bench", "t5", "--model", "/nonexistent", "--runs", "0"], "--input-length, --new-tokens, --runs and --threads must be ≥ 1"),
        ] {
            let (status, output) = try run(arguments)
            XCTAssertEqual(status, 64, "\(arguments): \(output)")
            XCTAssertTrue(output.contains(message), "\(arguments): \(output)")
        }
    }

    /// A prompt cap beyond what the encoder's quadratic scratch should hold is refused.
    func testT5PromptCapIsBounded() throws {
        let (status, output) = try run(["worker", "--service", "teacher", "--teacher", "t5", "--model", "/nonexistent",
                                        "--max-input-tokens", "100000", "--broker", "tcp://127.0.0.1:1"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("max input tokens in 2...8192"), output)
    }

    /// A broken T5 folder stops the worker at once with the reason (not a usage error, not a trap).
    func testABrokenT5FolderIsRefusedClearly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("t5-none-\(UUID().uuidString)").path
        let (status, output) = try run(["worker", "--service", "teacher", "--teacher", "t5", "--model", folder, "--broker", "tcp://127.0.0.1:1"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("t5: missing file \(folder)/config.json"), output)
    }
}
