import Foundation

/// Everything `prism data prepare` needs.
public struct PrepareOptions: Sendable {
    public var kind: DatasetKind
    /// The dataset directory.
    public var input: URL
    /// Where `samples.jsonl`, `catalog.jsonl` and `stats.txt` go (created if missing).
    public var output: URL
    /// `movies_extrainfos.dat`, to enrich the catalog; nil for none.
    public var metadata: URL?
    /// An ML-1M `movies.dat` whose MovieLens titles bridge title joins to the metadata ids.
    /// Nil means: use the `movies.dat` next to `metadata` when there is one.
    public var metadataTitles: URL?
    /// How items meet metadata; nil means `EnrichmentJoin.default(for: kind)`.
    public var join: EnrichmentJoin?
    /// History length per sample (the paper: 50).
    public var historyLength: Int
    public var split: SplitStrategy
    public var seed: UInt64
    /// Skip and count malformed lines instead of failing.
    public var lenient: Bool
    /// Dataset name for the table; the loader's default when nil.
    public var name: String?

    public init(kind: DatasetKind, input: URL, output: URL, metadata: URL? = nil, metadataTitles: URL? = nil,
                join: EnrichmentJoin? = nil, historyLength: Int = 50, split: SplitStrategy = .lastOut,
                seed: UInt64 = 0, lenient: Bool = false, name: String? = nil) {
        self.kind = kind
        self.input = input
        self.output = output
        self.metadata = metadata
        self.metadataTitles = metadataTitles
        self.join = join
        self.historyLength = historyLength
        self.split = split
        self.seed = seed
        self.lenient = lenient
        self.name = name
    }
}

/// What `prepareDataset` produced.
public struct PrepareSummary: Sendable {
    public var statistics: DatasetStatistics
    /// Lines read and skipped while loading the dataset and the metadata.
    public var loadReport: LoadReport
    /// Enrichment counts, when metadata was given.
    public var enrichment: EnrichmentReport?
    public var samplesFile: URL
    public var catalogFile: URL
    public var statsFile: URL

    /// The statistics table followed by enrichment and skipped-line counts (the content of `stats.txt`).
    public var text: String {
        var out = statistics.table
        if let enrichment { out += "\n" + enrichment.summary + "\n" }
        out += "\n" + loadReport.summary + "\n"
        return out
    }
}

/// Loads a dataset, enriches its catalog, builds samples and splits, and writes
/// `samples.jsonl`, `catalog.jsonl` and `stats.txt` into `options.output`.
public func prepareDataset(_ options: PrepareOptions) throws -> PrepareSummary {
    var dataset = try loadDataset(kind: options.kind, directory: options.input,
                                  options: LoadOptions(lenient: options.lenient, name: options.name))
    guard !dataset.interactions.isEmpty else { throw DataError.emptyDataset("no interactions in \(options.input.path)") }
    var report = dataset.report

    var enrichment: EnrichmentReport?
    if let metadataURL = options.metadata {
        var table = try MovieMetadataTable.load(metadataURL, lenient: options.lenient, report: &report)
        let join = options.join ?? .default(for: options.kind)
        if join == .byTitleYear {
            let sibling = metadataURL.deletingLastPathComponent().appendingPathComponent("movies.dat")
            let bridge = options.metadataTitles
                ?? (FileManager.default.fileExists(atPath: sibling.path) ? sibling : nil)
            if let bridge {
                table.addTitles(from: try MovieLens1MLoader.loadMovies(bridge, lenient: options.lenient, report: &report))
            }
        }
        enrichment = enrich(&dataset.catalog, with: table, join: join)
    }

    let samples = try buildSamples(
        from: dataset.interactions,
        options: SampleOptions(historyLength: options.historyLength, split: options.split, seed: options.seed))
    let statistics = DatasetStatistics(dataset: dataset.name, interactions: dataset.interactions, samples: samples)

    do {
        try FileManager.default.createDirectory(at: options.output, withIntermediateDirectories: true)
    } catch {
        throw DataError.writeFailed(path: options.output.path, reason: "\(error)")
    }
    let summary = PrepareSummary(
        statistics: statistics, loadReport: report, enrichment: enrichment,
        samplesFile: options.output.appendingPathComponent("samples.jsonl"),
        catalogFile: options.output.appendingPathComponent("catalog.jsonl"),
        statsFile: options.output.appendingPathComponent("stats.txt"))
    try SampleIO.writeSamples(samples, to: summary.samplesFile)
    try SampleIO.writeCatalog(dataset.catalog, to: summary.catalogFile)
    do {
        try Data(summary.text.utf8).write(to: summary.statsFile)
    } catch {
        throw DataError.writeFailed(path: summary.statsFile.path, reason: "\(error)")
    }
    return summary
}
