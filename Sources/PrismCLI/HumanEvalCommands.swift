import ArgumentParser
import Foundation
import PrismData
import PrismEval

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
