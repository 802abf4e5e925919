import ArgumentParser
import Foundation
import PrismData

struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Datasets: load an interaction log, enrich items, build samples and splits.",
        subcommands: [PrepareCommand.self]
    )
}

struct PrepareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Write samples.jsonl, catalog.jsonl and stats.txt for a dataset."
    )

    @Option(help: "ml-100k, ml-1m, ml-latest, yelp, recbole, csv.") var dataset = "ml-100k"
    @Option(help: "The dataset's folder.") var input = "../shared/data/ml-100k"
    @Option(help: "Output folder.") var output = "out/data"
    @Option(help: "movies_extrainfos.dat to enrich MovieLens items (default: ../shared/data/ml-1m-meta/movies_extrainfos.dat when present).")
    var metadata: String?
    @Option(help: "Interactions of history per sample (the most recent).") var history = 50
    @Option(help: "Split: last-out, time, random.") var split = "last-out"
    @Option(help: "Seed for splits that draw.") var seed: UInt64 = 0
    @Flag(help: "Skip malformed lines (and count them) instead of failing.") var lenient = false

    func run() async throws {
        guard let kind = DatasetKind(argument: dataset) else { throw ValidationError("unknown dataset '\(dataset)'") }
        guard let strategy = SplitStrategy(argument: split) else { throw ValidationError("unknown split '\(split)'") }
        var metadataURL = metadata.map { URL(fileURLWithPath: $0) }
        let defaultMetadata = "../shared/data/ml-1m-meta/movies_extrainfos.dat"
        if metadata == nil, [.ml100k, .ml1m, .mlLatest].contains(kind), FileManager.default.fileExists(atPath: defaultMetadata) {
            metadataURL = URL(fileURLWithPath: defaultMetadata)
        }
        let summary = try prepareDataset(PrepareOptions(
            kind: kind, input: URL(fileURLWithPath: input), output: URL(fileURLWithPath: output), metadata: metadataURL,
            historyLength: history, split: strategy, seed: seed, lenient: lenient))
        print(summary.text)
        print("wrote \(summary.samplesFile.path), \(summary.catalogFile.path)")
    }
}
