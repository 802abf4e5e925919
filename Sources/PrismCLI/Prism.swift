import ArgumentParser
import Foundation
import Logging

@main
struct Prism: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prism",
        abstract: "Prism: fast, faithful natural-language explanations for any recommender.",
        subcommands: [BrokerCommand.self, WorkerCommand.self, CallCommand.self, HealthCommand.self, DataCommand.self,
                      DistillCommand.self, ExplainCommand.self, ReplayCommand.self, BenchCommand.self]
    )
}

/// Options every long-running command shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    var level: Logger.Level { Logger.Level(rawValue: logLevel) ?? .info }
}

/// Parses `key=value` pairs.
func parsePairs(_ pairs: [String], what: String) throws -> [String: String] {
    var result: [String: String] = [:]
    for pair in pairs {
        guard let eq = pair.firstIndex(of: "=") else { throw ValidationError("\(what) must look like key=value, got '\(pair)'") }
        result[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
    }
    return result
}

/// Writes one line to stdout at once (unbuffered), for parents that wait for it on a pipe.
func emitLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
