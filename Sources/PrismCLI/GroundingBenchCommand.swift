import ArgumentParser
import Foundation
import PrismData
import PrismExplain

/// The cost of grounded decoding: the same held-out requests explained by one marked student with and
/// without its grounding constraints, interleaved in one run (batch 1, greedy, no guard).
struct GroundingBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grounding",
        abstract: "Latency of a marked student's explanations with and without grounding constraints, side by side in one run.")

    @Option(help: "The exported student folder (trained with grounding marks).") var model: String
    @Option(help: "Folder with samples.jsonl and catalog.jsonl.") var data: String
    @Option(help: "Test requests (spread over the test split).") var count = 100
    @Option(help: "Passes over the requests (medians over all of them).") var runs = 3
    @Option(help: "BLAS threads.") var threads = 1

    func run() throws {
        let folder = URL(fileURLWithPath: data)
        let samples = try SampleIO.readSamples(from: folder.appendingPathComponent("samples.jsonl")).filter { $0.split == .test }
        let catalog = try SampleIO.readCatalog(from: folder.appendingPathComponent("catalog.jsonl"))
        guard !samples.isEmpty else { throw ValidationError("no test samples in \(folder.path)") }
        let student = try StudentModel(folder: model, blasThreads: threads)
        guard student.isMarked else { throw ValidationError("\(model) was not trained with grounding marks") }
        let step = max(1, samples.count / max(1, count))
        let chosen = stride(from: 0, to: samples.count, by: step).prefix(count).map { samples[$0] }
        let jobs = chosen.map { s in
            ExplainJob(userID: s.userID, history: s.history.map(catalog.itemOrPlaceholder), item: catalog.itemOrPlaceholder(s.itemID),
                       maxNewTokens: student.manifest.maxTargetTokens, numBeams: 1, arrivedNs: 0)
        }
        var ms: [Bool: [Double]] = [true: [], false: []], perToken: [Bool: [Double]] = [true: [], false: []]
        var tokens: [Bool: Int] = [true: 0, false: 0]
        for run in 0..<max(1, runs) {
            for (k, job) in jobs.enumerated() {
                // Alternate which goes first, so neither always runs on a warmer cache.
                for constrained in (k + run) % 2 == 0 ? [true, false] : [false, true] {
                    var j = job
                    j.unconstrained = !constrained
                    guard case .success(let outcome) = student.explain([j])[0] else { continue }
                    let total = Double(outcome.encodeUs + outcome.decodeUs) / 1000
                    ms[constrained]!.append(total)
                    perToken[constrained]!.append(Double(outcome.decodeUs) / 1000 / Double(max(1, outcome.generatedTokens)))
                    tokens[constrained]! += outcome.generatedTokens
                }
            }
        }
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s.isEmpty ? 0 : s[s.count / 2] }
        print("requests \(jobs.count) × \(runs) runs, batch 1, greedy, \(threads) BLAS thread(s), model \(student.modelID)")
        print("                 p50 ms   p50 ms/token   mean tokens")
        for constrained in [false, true] {
            let name = (constrained ? "constrained" : "unconstrained").padding(toLength: 15, withPad: " ", startingAt: 0)
            print(name + String(format: " %7.2f   %12.3f   %11.1f", median(ms[constrained]!),
                         median(perToken[constrained]!), Double(tokens[constrained]!) / Double(max(1, ms[constrained]!.count))))
        }
        print(String(format: "constrained / unconstrained: p50 %.3fx, p50 per token %.3fx",
                     median(ms[true]!) / max(1e-9, median(ms[false]!)), median(perToken[true]!) / max(1e-9, median(perToken[false]!))))
    }
}
