import Foundation

/// A child process of the benchmark (a broker, a worker), with its first stdout line captured.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let output = Pipe()

    public init(executable: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Reads stdout until a line containing `marker` (e.g. the broker's "ready" line).
    public func waitForLine(containing marker: String, timeout: TimeInterval = 10) throws -> String {
        let handle = output.fileHandleForReading
        var buffer = Data()
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") where line.contains(marker) {
                return String(line)
            }
        }
        throw BenchError.childFailed("no line with '\(marker)' from \(process.executableURL?.lastPathComponent ?? "?") \(process.arguments ?? [])")
    }

    public func terminate() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    public func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Every failure of the benchmark module.
public enum BenchError: Error, CustomStringConvertible {
    case childFailed(String)
    case notReady(String)

    public var description: String {
        switch self {
        case .childFailed(let text): return "child process failed: \(text)"
        case .notReady(let text): return "not ready: \(text)"
        }
    }
}

/// The path of the running executable (to start more of the same `prism`).
public func currentExecutablePath() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

/// Starts `prism broker` on the given endpoints and waits for its "ready" line; returns the
/// process and the endpoints it bound (wildcard ports resolved).
func startBroker(executable: String, frontend: String = "tcp://127.0.0.1:*", backend: String = "tcp://127.0.0.1:*")
    throws -> (process: ChildProcess, frontend: String, backend: String) {
    let broker = try ChildProcess(executable: executable, arguments: [
        "broker", "--frontend", frontend, "--backend", backend, "--log-level", "error"])
    let ready = try broker.waitForLine(containing: "prism broker ready")
    guard let boundFrontend = field("frontend", in: ready), let boundBackend = field("backend", in: ready) else {
        broker.terminate()
        throw BenchError.notReady("broker said: \(ready)")
    }
    return (broker, boundFrontend, boundBackend)
}

/// Parses `key=value` words of a "ready" line.
func field(_ key: String, in line: String) -> String? {
    for word in line.split(separator: " ") where word.hasPrefix(key + "=") {
        return String(word.dropFirst(key.count + 1))
    }
    return nil
}
