import ArgumentParser
import Foundation
import TensorKernels
import Logging

@main
struct Prism: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prism",
        abstract: "Prism: fast, faithful natural-language explanations for any recommender.",
        subcommands: [BrokerCommand.self, WorkerCommand.self, CallCommand.self, HealthCommand.self, GatewayCommand.self, DataCommand.self,
                      DistillCommand.self, ExplainCommand.self, ReplayCommand.self, EvalCommand.self, BenchCommand.self, KeygenCommand.self, ProbeCommand.self]
    )

    /// Checks the CPU before any kernel code can run, then parses and runs the command.
    static func main() async {
        #if PRISM_KERNELS_NEED_AVX2
        let missing = CPUFeatures.missing(["avx2", "fma"])
        if !missing.isEmpty {
            FileHandle.standardError.write(Data((
                "prism: this build's kernels need AVX2 and FMA; this CPU lacks \(missing.joined(separator: ", ")). "
                    + "Rebuild with PRISM_PORTABLE_BUILD=1 swift build -c release\n").utf8))
            Foundation.exit(78)  // EX_CONFIG
        }
        #endif
        restartWithBetterBLASKernels()
        await main(nil)
    }

    /// Starts this process again (same pid, arguments and descriptors) with `OPENBLAS_CORETYPE` set when
    /// OpenBLAS chose kernels older than the CPU supports (`BLASKernels`); the variable is set before the
    /// exec, so the new image never does it again. A user's own `OPENBLAS_CORETYPE` is left alone, and
    /// when the exec fails the command runs with the kernels it has.
    static func restartWithBetterBLASKernels() {
        guard getenv("OPENBLAS_CORETYPE") == nil, let flags = CPUFeatures.flags(),
              let core = BLASKernels.betterCore(than: BLASKernels.coreName, flags: flags) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", arguments)
        arguments.forEach { free($0) }
    }
}

/// CPU feature flags as Linux reports them in `/proc/cpuinfo`.
enum CPUFeatures {
    /// The flags in `required` the CPU does not report; empty when all are present or when the flags
    /// cannot be read (not Linux): then nothing is claimed missing.
    static func missing(_ required: [String]) -> [String] {
        guard let flags = flags() else { return [] }
        return required.filter { !flags.contains($0) }
    }

    /// The first CPU's flags, or nil when they cannot be read.
    static func flags() -> Set<String>? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return nil }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }
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
