import ArgumentParser
import Foundation
import PrismClient
import PrismData
import PrismEval
import PrismExplain
import PrismGrounding
import PrismTelemetry
import PrismWire

struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate explanation systems (run: the default), or make and score human-evaluation sheets.",
        subcommands: [EvalRunCommand.self, HumanSheetCommand.self, HumanScoreCommand.self],
        defaultSubcommand: EvalRunCommand.self
    )
}

struct EvalRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Measure systems on a test split: grounding against each request's facts, ROUGE/BLEU against the goldens, diversity, personalization, latency.",
        discussion: """
        Systems: the goldens themselves (the teacher), JSON-lines files of outputs (--candidate NAME=FILE, objects with \
        sample_id and explanation), and a live service on the fleet (--service). Writes report.json, report.md, \
        details-<system>.jsonl (the checker's evidence per case) and outputs-<service>.jsonl into --output.
        """
    )

    @Option(help: "Folder with samples.jsonl and catalog.jsonl.") var data = "out/data"
    @Option(help: "distilled.jsonl: the goldens (references); also evaluated as the system 'teacher'.") var references: String?
    @Option(name: .customLong("candidate"), help: "NAME=FILE: a system's outputs as JSON lines (repeatable).") var candidates: [String] = []
    @Option(help: "A live service to call for every case, e.g. prism.explain.") var service: String?
    @Option(help: "The name of the live service's system in the report.") var serviceName = "prism"
    @Option(help: "How to call the service, comma-separated: served (the replies as served, the grounding guard on) and student (allow_ungrounded: the student's own first explanations, named NAME-student).")
    var modes = "served,student"
    @Option(help: "The broker's frontend endpoint (with --service).") var broker = "tcp://127.0.0.1:5555"
    @Option(help: "Which split.") var split = "test"
    @Option(help: "Cases, spread over the split (0: all).") var count = 300
    @Option(help: "Share of the service's cases sent as users nobody has seen (cold start), 0–1.") var unknownUsers = 0.2
    @Option(help: "(history, item) pairs also explained for an unknown and another real user (user sensitivity of the student's own text).") var probes = 50
    @Option(help: "Concurrent calls to the service.") var concurrency = 8
    @Option(help: "Deadline per call in milliseconds.") var timeoutMs: Int64 = 30_000
    @Option(help: "Output folder.") var output = "out/eval"
    @Option(help: "Print a warning when a candidate's fully grounded share is below this percentage.") var warnBelow = 95.0
    @Flag(help: "Leave the teacher (the goldens) out of the systems.") var noTeacher = false
    @Option(help: "Python with matplotlib for the PNG charts (scripts/eval/charts.py) and, with --semantic, PyTorch; default: $PRISM_PYTHON, else .venv/bin/python.")
    var python: String?
    @Flag(help: "Also BERTScore-F1 and GPTScore (scripts/eval/semantic_scores.py: bert-score, transformers; offline models from scripts/requirements-train.txt).")
    var semantic = false

    func validate() throws {
        guard Split(rawValue: split) != nil else { throw ValidationError("unknown split '\(split)' (train, valid, test)") }
        guard (0...1).contains(unknownUsers) else { throw ValidationError("--unknown-users is a share between 0 and 1") }
        guard count >= 0 else { throw ValidationError("--count must not be negative (0: all)") }
        guard probes >= 0 else { throw ValidationError("--probes must not be negative") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard timeoutMs > 0 else { throw ValidationError("--timeout-ms must be positive") }
    }

    func run() async throws {
        Telemetry.bootstrap(logLevel: .warning)
        guard let wanted = Split(rawValue: split) else { throw ValidationError("unknown split '\(split)' (train, valid, test)") }
        let folder = URL(fileURLWithPath: data)
        let samples = try SampleIO.readSamples(from: folder.appendingPathComponent("samples.jsonl"))
        let catalog = try SampleIO.readCatalog(from: folder.appendingPathComponent("catalog.jsonl"))
        let goldens = try references.map { try EvalInputs.readOutputs(URL(fileURLWithPath: $0)) } ?? [:]
        let cases = EvalInputs.cases(samples: samples, catalog: catalog, split: wanted, references: goldens, count: count)
        guard !cases.isEmpty else { throw ValidationError("no \(split) samples in \(data)") }
        let named = try parsePairs(candidates, what: "--candidate")
        guard !named.isEmpty || service != nil || !goldens.isEmpty else {
            throw ValidationError("nothing to evaluate: give --references, --candidate NAME=FILE or --service")
        }
        let outputFolder = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true)

        var systems: [SystemOutputs] = []
        if !goldens.isEmpty && !noTeacher { systems.append(SystemOutputs(name: "teacher", texts: goldens)) }
        for (name, path) in named.sorted(by: { $0.key < $1.key }) {
            systems.append(SystemOutputs(name: name, texts: try EvalInputs.readOutputs(URL(fileURLWithPath: path))))
        }
        if let service {
            let caller = ServiceCaller(broker: broker, service: service, timeoutMs: timeoutMs, concurrency: concurrency)
            for mode in modes.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard mode == "served" || mode == "student" else { throw ValidationError("unknown mode '\(mode)' (served, student)") }
                let name = mode == "served" ? serviceName : "\(serviceName)-student"
                let live = try await caller.collect(cases, name: name, unknownShare: unknownUsers, probes: mode == "student" ? probes : 0,
                                                    allowUngrounded: mode == "student")
                try EvalInputs.writeOutputs(live.outputs.texts, users: live.users, cases: cases,
                                            to: outputFolder.appendingPathComponent("outputs-\(name).jsonl"))
                if live.failures > 0 { print("\(name): \(live.failures) calls failed; first: \(live.firstFailure ?? "")") }
                systems.append(live.outputs)
            }
        }

        let evaluator = Evaluator(checker: GroundingChecker(catalog: catalog))
        var reports: [SystemReport] = [], details: [String: [CaseDetail]] = [:]
        for system in systems {
            let (report, rows) = evaluator.evaluate(cases, system, lexical: system.name != "teacher")
            reports.append(report)
            details[system.name] = rows
        }
        var report = EvalReport(dataset: folder.lastPathComponent, split: split, cases: cases.count,
                                references: cases.filter { $0.reference != nil }.count, systems: reports,
                                command: (["prism"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
        if semantic {
            report.external = try await semanticScores(cases: cases, systems: systems, folder: outputFolder)
            for (name, figures) in report.external.sorted(by: { $0.key < $1.key }) {
                for (figure, value) in figures.sorted(by: { $0.key < $1.key }) { print(String(format: "%@: %@ %.4f", name, figure, value)) }
            }
        }
        try ReportWriter.write(report, details: details, to: outputFolder)
        print(ReportWriter.summaryTable(report))
        for s in reports {
            if let u = s.userSensitivity {
                print(String(format: "%@: explanation changes for an unknown user in %.0f%% of %d probes, for another user in %.0f%%",
                             s.name, u.changedUnknown, u.probes, u.changedOther))
            }
            if s.name != "teacher", s.faithfulness.fullyGrounded < warnBelow {
                print(String(format: "WARNING: %@: only %.1f%% of explanations are fully grounded (below %.0f%%); see %@",
                             s.name, s.faithfulness.fullyGrounded, warnBelow, outputFolder.appendingPathComponent("report.md").path))
            }
        }
        print("report: \(outputFolder.appendingPathComponent("report.md").path)")
        await drawCharts(report: outputFolder.appendingPathComponent("report.json"))
    }

    /// The interpreter for the Python helpers: --python, $PRISM_PYTHON, or .venv/bin/python.
    var interpreter: String { python ?? ProcessInfo.processInfo.environment["PRISM_PYTHON"] ?? ".venv/bin/python" }

    /// Runs scripts/eval/semantic_scores.py on every system's outputs (the context of each case is its
    /// student input text): figure name → value per system.
    func semanticScores(cases: [EvalCase], systems: [SystemOutputs], folder: URL) async throws -> [String: [String: Double]] {
        let script = "scripts/eval/semantic_scores.py"
        guard FileManager.default.isExecutableFile(atPath: interpreter), FileManager.default.fileExists(atPath: script) else {
            throw ValidationError("--semantic needs \(script) and a Python with PyTorch (scripts/setup-python.sh --train): --python or $PRISM_PYTHON")
        }
        let renderer = StudentInputRenderer()
        var input: [String: [[String: Any]]] = [:]
        for system in systems {
            input[system.name] = cases.compactMap { c in
                guard let text = system.texts[c.sample.sampleID] else { return nil }
                let context = renderer.render(history: c.facts.history, item: c.facts.item).text
                // The goldens are the teacher's own text: no reference for it.
                let reference: Any = system.name == "teacher" ? NSNull() : (c.reference.map { $0 as Any } ?? NSNull())
                return ["context": context, "reference": reference, "candidate": text]
            }
        }
        let inURL = folder.appendingPathComponent("semantic-input.json"), outURL = folder.appendingPathComponent("semantic.json")
        try JSONSerialization.data(withJSONObject: ["systems": input]).write(to: inURL)
        let status = await runPython([script, inURL.path, outURL.path])
        guard status == 0 else { throw ValidationError("\(script) failed (exit \(status))") }
        struct Output: Decodable { var systems: [String: [String: Double]] }
        return try JSONDecoder().decode(Output.self, from: Data(contentsOf: outURL)).systems
    }

    /// Runs the interpreter with `arguments` off the cooperative pool; its exit status (-1: did not start).
    func runPython(_ arguments: [String]) async -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: interpreter)
        process.arguments = arguments
        return await withCheckedContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(returning: -1)
            }
        }
    }

    /// Runs scripts/eval/charts.py on the report when a Python and the script are at hand; says why not otherwise.
    func drawCharts(report: URL) async {
        let script = "scripts/eval/charts.py"
        guard FileManager.default.isExecutableFile(atPath: interpreter), FileManager.default.fileExists(atPath: script) else {
            print("charts: skipped (needs \(script) and a Python with matplotlib: --python, $PRISM_PYTHON or .venv/bin/python)")
            return
        }
        let status = await runPython([script, report.path])
        if status != 0 { print("charts: \(script) failed (exit \(status)); the report itself is complete") }
    }
}

/// Calls a prism.explain service for every case (some as unknown users), and for probes the same
/// request as an unknown and as another real user.
struct ServiceCaller {
    var broker: String, service: String, timeoutMs: Int64, concurrency: Int

    struct Collected {
        var outputs: SystemOutputs
        var users: [String: String]
        var failures: Int
        var firstFailure: String?
    }

    func collect(_ cases: [EvalCase], name: String, unknownShare: Double, probes: Int, allowUngrounded: Bool) async throws -> Collected {
        let unknownCount = Int((Double(cases.count) * unknownShare).rounded())
        // Calls: every case (the last `unknownCount` as unknown users), then the probes' two variants.
        var calls: [(sample: Sample, user: String, slot: Slot)] = []
        for (i, c) in cases.enumerated() {
            let unknown = i >= cases.count - unknownCount
            calls.append((c.sample, unknown ? "new-user-\(i)" : c.sample.userID, .main(c.sample.sampleID)))
        }
        let known = cases.prefix(cases.count - unknownCount)
        let probed = Array(known.prefix(max(0, probes)))
        for (k, c) in probed.enumerated() {
            let other = known[(known.startIndex + (k + known.count / 2) % max(1, known.count))].sample.userID
            calls.append((c.sample, c.sample.userID, .probe(k, 0)))
            calls.append((c.sample, "new-user-probe-\(k)", .probe(k, 1)))
            calls.append((c.sample, other == c.sample.userID ? "\(other)-other" : other, .probe(k, 2)))
        }
        let client = try PrismClient(configuration: ClientConfiguration(broker: broker))
        let progress = EvalProgress(total: calls.count)
        var texts: [String: String] = [:], users: [String: String] = [:], latencies: [Double] = []
        var probeTexts = [[String?]](repeating: [nil, nil, nil], count: probed.count)
        var failures = 0, firstFailure: String?, servedAs: [String: Int] = [:]
        await withTaskGroup(of: (Int, Result<(ExplainReply, Double), Error>).self) { group in
            var next = 0
            func submit() {
                guard next < calls.count else { return }
                let index = next, call = calls[index]
                next += 1
                group.addTask {
                    var request = ExplainRequest()
                    request.userID = call.user
                    request.historyItemIds = call.sample.history
                    request.itemID = call.sample.itemID
                    request.allowUngrounded = allowUngrounded
                    let sent = Date()
                    do {
                        let result = try await client.call(service: service, body: try request.serializedData(), timeoutMs: timeoutMs)
                        let reply = try ExplainReply(serializedBytes: result.body)
                        return (index, .success((reply, Date().timeIntervalSince(sent) * 1000)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            for _ in 0..<max(1, concurrency) { submit() }
            while let (index, outcome) = await group.next() {
                switch outcome {
                case .success(let (reply, ms)):
                    let text = reply.explanation
                    switch calls[index].slot {
                    case .main(let id):
                        texts[id] = text
                        servedAs[Self.name(reply.grounding), default: 0] += 1
                        users[id] = calls[index].user
                        latencies.append(ms)
                    case .probe(let k, let variant): probeTexts[k][variant] = text
                    }
                case .failure(let error):
                    failures += 1
                    if firstFailure == nil { firstFailure = "\(error)" }
                }
                progress.step()
                submit()
            }
        }
        progress.finish()
        await client.close()
        let probeResults = probeTexts.compactMap { t -> SensitivityProbe? in
            guard let real = t[0], let unknown = t[1], let other = t[2] else { return nil }
            return SensitivityProbe(real: real, unknown: unknown, other: other)
        }
        return Collected(outputs: SystemOutputs(name: name, texts: texts, latencyMs: latencies, probes: probeResults, servedAs: servedAs),
                         users: users, failures: failures, firstFailure: firstFailure)
    }

    enum Slot { case main(String), probe(Int, Int) }

    static func name(_ grounding: Prism_V1_Grounding) -> String {
        switch grounding {
        case .unchecked: return "unchecked"
        case .grounded: return "grounded"
        case .groundedBeam: return "grounded_beam"
        case .fallback: return "fallback"
        case .ungrounded: return "ungrounded"
        case .UNRECOGNIZED(let n): return "grounding_\(n)"
        }
    }
}

/// A one-line progress bar on a terminal (standard error); silent otherwise.
final class EvalProgress {
    let total: Int
    var done = 0
    let enabled = isatty(2) == 1

    init(total: Int) { self.total = total }

    func step() {
        done += 1
        guard enabled, done == total || done % max(1, total / 100) == 0 else { return }
        let width = 30, filled = total == 0 ? width : width * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data("\r  calling the service \(bar) \(done)/\(total)".utf8))
    }

    func finish() { if enabled { FileHandle.standardError.write(Data("\n".utf8)) } }
}

struct HumanSheetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "human-sheet",
        abstract: "Blind, shuffled rating sheets (sheet.csv, sheet.html) of N cases × systems, and key.csv kept apart.")

    @Option(help: "Folder with samples.jsonl and catalog.jsonl.") var data = "out/data"
    @Option(name: .customLong("system"), help: "NAME=FILE: a system's outputs as JSON lines (repeatable; e.g. the outputs-*.jsonl of prism eval).")
    var systems: [String] = []
    @Option(help: "Which split.") var split = "test"
    @Option(help: "Cases on the sheet (each rated for every system).") var count = 50
    @Option(help: "Shuffle seed.") var seed: UInt64 = 1
    @Option(help: "Output folder.") var output = "out/human"

    func run() async throws {
        guard let wanted = Split(rawValue: split) else { throw ValidationError("unknown split '\(split)'") }
        let folder = URL(fileURLWithPath: data)
        let samples = try SampleIO.readSamples(from: folder.appendingPathComponent("samples.jsonl"))
        let catalog = try SampleIO.readCatalog(from: folder.appendingPathComponent("catalog.jsonl"))
        let named = try parsePairs(systems, what: "--system")
        guard !named.isEmpty else { throw ValidationError("give at least one --system NAME=FILE") }
        let outputs = try named.sorted { $0.key < $1.key }.map { SystemOutputs(name: $0.key, texts: try EvalInputs.readOutputs(URL(fileURLWithPath: $0.value))) }
        let cases = EvalInputs.cases(samples: samples, catalog: catalog, split: wanted, references: [:], count: 0)
        let rows = HumanEvaluation.sheet(cases: cases, systems: outputs, count: count, seed: seed)
        guard !rows.isEmpty else { throw ValidationError("no \(split) case has an output from every system") }
        let out = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data(HumanEvaluation.sheetCSV(rows).utf8).write(to: out.appendingPathComponent("sheet.csv"))
        try Data(HumanEvaluation.sheetHTML(rows).utf8).write(to: out.appendingPathComponent("sheet.html"))
        try Data(HumanEvaluation.keyCSV(rows).utf8).write(to: out.appendingPathComponent("key.csv"))
        print("\(rows.count) rows (\(rows.count / outputs.count) cases × \(outputs.count) systems): \(out.path)/sheet.csv and sheet.html for the annotators; keep key.csv apart")
    }
}

struct HumanScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "human-score",
        abstract: "Score filled sheets: mean/median/sd per system and dimension, Fleiss' kappa, paired t-tests between systems.")

    @Option(help: "key.csv written by human-sheet.") var key: String
    @Argument(help: "Filled sheets, one per annotator (CSV with the sheet's columns).") var sheets: [String]
    @Option(help: "Output folder (human.json, human.md).") var output = "out/human"

    func run() async throws {
        let keyRecords = try readCSVRecords(URL(fileURLWithPath: key))
        let filled = try sheets.map { ($0, try readCSVRecords(URL(fileURLWithPath: $0))) }
        let scores = try HumanScores.score(key: keyRecords, sheets: filled)
        let out = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(scores).write(to: out.appendingPathComponent("human.json"))
        try Data(scores.markdown.utf8).write(to: out.appendingPathComponent("human.md"))
        print(scores.markdown)
    }
}
