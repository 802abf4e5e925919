import Foundation

/// The project's Python (scripts/setup-python.sh) for tests that compare against reference packages.
public enum ProjectPython {
    /// The repository root.
    public static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Tests run under CI (the CI variable is set): a missing interpreter is a failure there, a skip elsewhere.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false }

    /// PRISM_PYTHON, else <repo>/.venv/bin/python; nil when neither is an executable.
    public static func locate() -> URL? {
        if let explicit = ProcessInfo.processInfo.environment["PRISM_PYTHON"], !explicit.isEmpty {
            return FileManager.default.isExecutableFile(atPath: explicit) ? URL(fileURLWithPath: explicit) : nil
        }
        let venv = repoRoot.appendingPathComponent(".venv/bin/python")
        return FileManager.default.isExecutableFile(atPath: venv.path) ? venv : nil
    }

    public struct Run: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: String
    }

    /// Runs `script` (a path under the repository) with `input` on standard input; waits for it.
    public static func run(_ python: URL, script: String, arguments: [String] = [], input: Data) throws -> Run {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prism-py-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let inURL = directory.appendingPathComponent("in"), outURL = directory.appendingPathComponent("out")
        let errURL = directory.appendingPathComponent("err")
        try input.write(to: inURL)
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = python
        process.arguments = [repoRoot.appendingPathComponent(script).path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        process.environment = environment
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: try Data(contentsOf: outURL),
                   stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
