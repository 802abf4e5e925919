import Foundation
import XCTest
@testable import PrismData

final class PrepareTests: XCTestCase {
    func testPrepareML100KWithTitleJoinWritesFiles() throws {
        let dir = try TempDir()
        let input = try dir.subdirectory("ml-100k")
        var data = ""
        for user in 1...3 {
            for (k, item) in [1, 2, 3, 4].enumerated() { data += "\(user)\t\(item)\t\(k + 1)\t\(1000 * user + k)\n" }
        }
        try dir.write("ml-100k/u.data", data)
        try dir.write("ml-100k/u.item", bytes: latin1([
            "1|Toy Story (1995)|01-Jan-1995||u|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0",
            "2|Usual Suspects, The (1995)|14-Aug-1995||u|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|1|0|0",
            "3|Postino, Il (1994)|01-Jan-1994||u|0|0|0|0|0|0|0|0|1|0|0|0|0|0|1|0|0|0|0",
            "4|Obscure Film (1990)|01-Jan-1990||u|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0",
        ].joined(separator: "\n") + "\n"))
        let meta = try dir.write("meta/movies_extrainfos.dat", EnrichmentTests.extraInfos)
        try dir.write("meta/movies.dat", bytes: latin1("1::Toy Story (1995)::Animation\n50::Usual Suspects, The (1995)::Crime\n58::Postino, Il (The Postman) (1994)::Drama\n"))
        let output = dir.url.appendingPathComponent("out")

        let summary = try prepareDataset(PrepareOptions(kind: .ml100k, input: input, output: output, metadata: meta,
                                                        historyLength: 2))
        XCTAssertEqual(summary.statistics, DatasetStatistics(dataset: "ml-100k", users: 3, items: 4, interactions: 12,
                                                             train: 3, valid: 3, test: 3))
        XCTAssertEqual(summary.enrichment?.enriched, 3)
        XCTAssertEqual(summary.enrichment?.unmatchedExamples, ["4"])
        let samples = try SampleIO.readSamples(from: summary.samplesFile)
        XCTAssertEqual(samples.count, 9)
        XCTAssertEqual(samples.last?.history, ["2", "3"])
        let catalog = try SampleIO.readCatalog(from: summary.catalogFile)
        XCTAssertEqual(catalog["3"]?.actors, ["Philippe Noiret", "Massimo Troisi"])
        XCTAssertEqual(catalog["2"]?.directors, ["Bryan Singer"])
        let stats = try String(contentsOf: summary.statsFile, encoding: .utf8)
        XCTAssertEqual(stats, summary.text)
        XCTAssertTrue(stats.contains("| ml-100k |"), stats)
        XCTAssertTrue(stats.contains("enriched 3 of 4 items"), stats)

        // Same inputs, same outputs.
        let again = try prepareDataset(PrepareOptions(kind: .ml100k, input: input, output: output, metadata: meta,
                                                      historyLength: 2))
        XCTAssertEqual(try SampleIO.readSamples(from: again.samplesFile), samples)
    }

    func testPrepareLenientReportsSkips() throws {
        let dir = try TempDir()
        let input = try dir.subdirectory("csv")
        try dir.write("csv/interactions.csv", "user,item,timestamp\na,x,1\na,y,oops\na,z,3\n")
        let output = dir.url.appendingPathComponent("out")
        XCTAssertThrowsError(try prepareDataset(PrepareOptions(kind: .csv, input: input, output: output)))
        let summary = try prepareDataset(PrepareOptions(kind: .csv, input: input, output: output, lenient: true))
        XCTAssertEqual(summary.loadReport.totalSkipped, 1)
        XCTAssertEqual(summary.statistics.interactions, 2)
        XCTAssertTrue(summary.text.contains("skipped 1 of 4 lines"), summary.text)
    }
}
