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
        abstract: "Evaluate explanation systems (run: the default), make and score human-evaluation sheets, corrupt goldens for the noise experiment.",
        subcommands: [EvalRunCommand.self, HumanSheetCommand.self, HumanScoreCommand.self, NoiseCommand.self],
        defaultSubcommand: EvalRunCommand.self
    )
}

struct EvalRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Measure systems on a test split: grounding against each request's facts, ROUGE/BLEU against the goldens, diversity, personalization, latency.",
        discussion: """
        Systems: the goldens themselves (the teacher), JSON-lines files of outputs (--candidate NAME=FILE, objects with \
        sample_id and explanation), and live services on the fleet (--service SERVICE, or NAME=SERVICE, repeatable: \
        several students side by side). Writes report.json, report.md, details-<system>.jsonl (the checker's \
        evidence per case) and outputs-<system>.jsonl into --output.
        """
    )

    @Option(help: "Folder with samples.jsonl and catalog.jsonl.") var data = "out/data"
    @Option(help: "distilled.jsonl: the goldens (references); also evaluated as the system 'teacher'.") var references: String?
    @Option(name: .customLong("candidate"), help: "NAME=FILE: a system's outputs as JSON lines (repeatable).") var candidates: [String] = []
    @Option(name: .customLong("service"), help: "A live service to call for every case, e.g. prism.explain, or NAME=SERVICE to name its system (repeatable; at most one without a name, which --service-name names).")
    var services: [String] = []
    @Option(help: "A ranker's rankings.jsonl (scripts/ranker/train_ranker.py): each case's item becomes the ranker's top unseen item for that sample (no goldens exist for those: grounding, diversity and latency only).")
    var ranked: String?
    @Option(help: "The name in the report of the live service given without NAME=.") var serviceName = "prism"
    @Option(help: "How to call the service, comma-separated: served (the replies as served, the grounding guard on), student (allow_ungrounded: the student's own first explanations, named NAME-student) and free (the student's own text decoded without grounding constraints, named NAME-free; the same as student for an unmarked student).")
    var modes = "served,student"
    @Option(help: "The broker's frontend endpoint (with --service).") var broker = "tcp://127.0.0.1:5555"
    @OptionGroup var curve: CurveOptions
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
        _ = try namedServices()
    }

    func run() async throws {
        Telemetry.bootstrap(logLevel: .warning)
        guard let wanted = Split(rawValue: split) else { throw ValidationError("unknown split '\(split)' (train, valid, test)") }
        let folder = URL(fileURLWithPath: data)
        var samples = try SampleIO.readSamples(from: folder.appendingPathComponent("samples.jsonl"))
        if let ranked {
            guard references == nil else { throw ValidationError("--ranked items have no goldens: leave out --references") }
            samples = try RankedPicks.read(URL(fileURLWithPath: ranked)).apply(to: samples)
        }
        let catalog = try SampleIO.readCatalog(from: folder.appendingPathComponent("catalog.jsonl"))
        let goldens = try references.map { try EvalInputs.readOutputs(URL(fileURLWithPath: $0)) } ?? [:]
        let cases = EvalInputs.cases(samples: samples, catalog: catalog, split: wanted, references: goldens, count: count)
        guard !cases.isEmpty else { throw ValidationError("no \(split) samples in \(data)") }
        let named = try parsePairs(candidates, what: "--candidate")
        let live = try namedServices()
        guard !named.isEmpty || !live.isEmpty || !goldens.isEmpty else {
            throw ValidationError("nothing to evaluate: give --references, --candidate NAME=FILE or --service")
        }
        let outputFolder = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true)

        var systems: [SystemOutputs] = []
        if !goldens.isEmpty && !noTeacher { systems.append(SystemOutputs(name: "teacher", texts: goldens)) }
        for (name, path) in named.sorted(by: { $0.key < $1.key }) {
            systems.append(SystemOutputs(name: name, texts: try EvalInputs.readOutputs(URL(fileURLWithPath: path))))
        }
        for (systemName, service) in live {
            let caller = ServiceCaller(broker: broker, curve: try curve.clientKeys(), service: service, timeoutMs: timeoutMs, concurrency: concurrency)
            for mode in modes.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard ["served", "student", "free"].contains(mode) else { throw ValidationError("unknown mode '\(mode)' (served, student, free)") }
                let name = mode == "served" ? systemName : "\(systemName)-\(mode)"
                let live = try await caller.collect(cases, name: name, unknownShare: unknownUsers, probes: mode == "served" ? 0 : probes,
                                                    allowUngrounded: mode != "served", unconstrained: mode == "free")
                try EvalInputs.writeOutputs(live.outputs.texts, users: live.users, cases: cases,
                                            to: outputFolder.appendingPathComponent("outputs-\(name).jsonl"))
                if live.failures > 0 { print("\(name): \(live.failures) calls failed; first: \(live.firstFailure ?? "")") }
                systems.append(live.outputs)
            }
        }

        // The goldens outside the evaluated split give the vocabulary of the unknown-word figure.
        let vocabulary = goldens.isEmpty ? nil : WordVocabulary(goldens: goldens, samples: samples, split: wanted, catalog: catalog)
        let evaluator = Evaluator(checker: GroundingChecker(catalog: catalog), vocabulary: vocabulary)
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

    /// (system name, service) per --service, in the order given: NAME=SERVICE, or SERVICE named --service-name.
    func namedServices() throws -> [(name: String, service: String)] {
        var result: [(name: String, service: String)] = []
        for entry in services {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let pair = parts.count == 2 ? (name: parts[0], service: parts[1]) : (name: serviceName, service: entry)
            guard !pair.name.isEmpty, !pair.service.isEmpty else { throw ValidationError("--service must be SERVICE or NAME=SERVICE, got '\(entry)'") }
            guard pair.name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw ValidationError("--service: the system name '\(pair.name)' names files: letters, digits, - _ . only")
            }
            guard !result.contains(where: { $0.name == pair.name }) else { throw ValidationError("--service: the system name '\(pair.name)' is given twice") }
            result.append(pair)
        }
        return result
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
