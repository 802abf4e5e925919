import Foundation
import PrismTestSupport
import XCTest
@testable import PrismData

final class SampleTests: XCTestCase {
    /// Three users; user "2" has ties in time; user "10" has a single interaction.
    let interactions: [Interaction] = [
        Interaction(userID: "1", itemID: "a", timestamp: 100, rating: 4),
        Interaction(userID: "1", itemID: "b", timestamp: 200, rating: 3),
        Interaction(userID: "1", itemID: "c", timestamp: 300),
        Interaction(userID: "1", itemID: "d", timestamp: 400),
        Interaction(userID: "1", itemID: "e", timestamp: 500),
        Interaction(userID: "2", itemID: "10", timestamp: 150),
        Interaction(userID: "2", itemID: "9", timestamp: 150),
        Interaction(userID: "2", itemID: "x", timestamp: 50),
        Interaction(userID: "2", itemID: "y", timestamp: 600),
        Interaction(userID: "10", itemID: "a", timestamp: 700),
    ]

    func testEveryInteractionAfterTheFirstIsASampleInTimeOrder() throws {
        let samples = try buildSamples(from: interactions)
        XCTAssertEqual(samples.count, interactions.count - 3)
        XCTAssertEqual(samples.map(\.userID), ["1", "1", "1", "1", "2", "2", "2"])
        let user2 = samples.filter { $0.userID == "2" }
        // Ties at t=150 broken by natural item order: "9" before "10".
        XCTAssertEqual(user2.map(\.itemID), ["9", "10", "y"])
        XCTAssertEqual(user2.map(\.history), [["x"], ["x", "9"], ["x", "9", "10"]])
        XCTAssertEqual(samples[0].sampleID, "u1-ib-t200")
        XCTAssertEqual(samples[0].rating, 3)
    }

    func testHistoryIsTruncatedToTheMostRecentN() throws {
        let long = (0..<120).map { Interaction(userID: "u", itemID: "i\($0)", timestamp: Int64($0)) }
        let samples = try buildSamples(from: long, options: SampleOptions(historyLength: 50))
        XCTAssertEqual(samples.count, 119)
        XCTAssertEqual(samples.map(\.history.count).max(), 50)
        let last = try XCTUnwrap(samples.last)
        XCTAssertEqual(last.history.first, "i69")
        XCTAssertEqual(last.history.last, "i118")
        XCTAssertEqual(samples[9].history, (0..<10).map { "i\($0)" })
        let short = try buildSamples(from: long, options: SampleOptions(historyLength: 3))
        XCTAssertEqual(short.last?.history, ["i116", "i117", "i118"])
        XCTAssertThrowsError(try buildSamples(from: long, options: SampleOptions(historyLength: 0)))
    }

    func testLastOutSplit() throws {
        let samples = try buildSamples(from: interactions, options: SampleOptions(split: .lastOut))
        let user1 = samples.filter { $0.userID == "1" }
        XCTAssertEqual(user1.map(\.split), [.train, .train, .valid, .test])
        XCTAssertEqual(samples.filter { $0.userID == "2" }.map(\.split), [.train, .valid, .test])
    }

    func testTimeCutSplit() throws {
        let samples = try buildSamples(from: interactions, options: SampleOptions(split: .timeCut(train: 0.5, valid: 0.25)))
        // Sample times sorted: 150 150 200 300 400 500 600 → train < t[3]=300, valid < t[5]=500.
        for s in samples {
            let expected: Split = s.timestamp < 300 ? .train : (s.timestamp < 500 ? .valid : .test)
            XCTAssertEqual(s.split, expected, s.sampleID)
        }
        XCTAssertThrowsError(try buildSamples(from: interactions, options: SampleOptions(split: .timeCut(train: 0.9, valid: 0.2))))
    }

    func testRandomSplitIsDeterministicPerSeed() throws {
        let many = (0..<400).map { Interaction(userID: "u\($0 % 20)", itemID: "i\($0)", timestamp: Int64($0)) }
        let a = try buildSamples(from: many, options: SampleOptions(split: .random(train: 0.8, valid: 0.1), seed: 7))
        let b = try buildSamples(from: many.reversed(), options: SampleOptions(split: .random(train: 0.8, valid: 0.1), seed: 7))
        let c = try buildSamples(from: many, options: SampleOptions(split: .random(train: 0.8, valid: 0.1), seed: 8))
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.map(\.split), c.map(\.split))
        let trainShare = Double(a.filter { $0.split == .train }.count) / Double(a.count)
        XCTAssertEqual(trainShare, 0.8, accuracy: 0.08)
        XCTAssertEqual(Set(a.map(\.split)), [.train, .valid, .test])
    }

    func testInputOrderDoesNotChangeIDsOrSplits() throws {
        var shuffled = interactions
        var rng = TestRandom(seed: 42)
        for strategy in [SplitStrategy.lastOut, .timeCut(train: 0.6, valid: 0.2), .random(train: 0.5, valid: 0.25)] {
            let reference = try buildSamples(from: interactions, options: SampleOptions(split: strategy, seed: 3))
            for _ in 0..<5 {
                shuffled.shuffle(using: &rng)
                XCTAssertEqual(try buildSamples(from: shuffled, options: SampleOptions(split: strategy, seed: 3)), reference)
            }
        }
    }

    func testShuffledInputFileGivesSameSamples() throws {
        var lines: [String] = []
        for user in 1...6 {
            for k in 0..<8 { lines.append("\(user)\t\(100 + (user * 7 + k * 3) % 20)\t\(1 + k % 5)\t\(1000 + k / 2)") }
        }
        var rng = TestRandom(seed: 9)
        var results: [[Sample]] = []
        for order in [lines, lines.reversed(), lines.shuffled(using: &rng)] {
            let dir = try TempDir()
            try dir.write("u.data", order.joined(separator: "\n") + "\n")
            let ds = try loadDataset(kind: .ml100k, directory: dir.url)
            results.append(try buildSamples(from: ds.interactions, options: SampleOptions(historyLength: 3)))
        }
        XCTAssertEqual(results[0].count, 6 * 7)
        XCTAssertEqual(results[1], results[0])
        XCTAssertEqual(results[2], results[0])
    }

    func testRepeatedTriplesGetDistinctIDs() throws {
        let dup = [
            Interaction(userID: "u", itemID: "a", timestamp: 1),
            Interaction(userID: "u", itemID: "b", timestamp: 2, rating: 5),
            Interaction(userID: "u", itemID: "b", timestamp: 2, rating: 1),
        ]
        let samples = try buildSamples(from: dup)
        XCTAssertEqual(samples.map(\.sampleID), ["uu-ib-t2", "uu-ib-t2-2"])
        XCTAssertEqual(samples.map(\.rating), [1, 5])
    }

    func testJSONLinesRoundTripAndPythonReadableShape() throws {
        let dir = try TempDir()
        let samples = try buildSamples(from: interactions)
        let url = dir.url.appendingPathComponent("samples.jsonl")
        try SampleIO.writeSamples(samples, to: url)
        XCTAssertEqual(try SampleIO.readSamples(from: url), samples)
        let firstLine = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").first.map(String.init)
        XCTAssertEqual(firstLine,
                       #"{"sample_id":"u1-ib-t200","user_id":"1","item_id":"b","history":["a"],"split":"train","timestamp":200,"rating":3}"#)

        var catalog = ItemCatalog()
        catalog.insert(CatalogItem(id: "2", title: "Say \"Hi\"\n\\ Amélie", year: 2001, genres: ["Comedy"],
                                   directors: ["Jean-Pierre Jeunet"], actors: ["Audrey Tautou"], plot: "Tab\there",
                                   attributes: ["mpaa": "R", "imdb_title": "Amélie", "url": "http://x/y"]))
        catalog.insert(CatalogItem(id: "10", title: "Bare"))
        let catalogURL = dir.url.appendingPathComponent("catalog.jsonl")
        try SampleIO.writeCatalog(catalog, to: catalogURL)
        XCTAssertEqual(try SampleIO.readCatalog(from: catalogURL), catalog)
        let lines = try String(contentsOf: catalogURL, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasPrefix(#"{"id":"2","title":"Say \"Hi\"\n\\ Amélie","year":2001"#), String(lines[0]))
        XCTAssertEqual(lines[1], #"{"id":"10","title":"Bare","genres":[],"directors":[],"writers":[],"actors":[],"attributes":{}}"#)
        // Every line is a standalone JSON object.
        for line in lines {
            XCTAssertTrue(try JSONSerialization.jsonObject(with: Data(line.utf8)) is [String: Any])
        }
    }

    func testReadingMalformedSamplesNamesLine() throws {
        let dir = try TempDir()
        let url = try dir.write("samples.jsonl", #"{"sample_id":"a","user_id":"1","item_id":"2","history":[],"split":"train","timestamp":1}"#
                                + "\n{\"sample_id\":\"b\"}\n")
        assertMalformed(file: "samples.jsonl", line: 2) { _ = try SampleIO.readSamples(from: url) }
    }

    func testStatisticsTable() throws {
        let samples = try buildSamples(from: interactions)
        let stats = DatasetStatistics(dataset: "toy", interactions: interactions, samples: samples)
        XCTAssertEqual(stats.users, 3)
        XCTAssertEqual(stats.items, 9)
        XCTAssertEqual(stats.interactions, 10)
        XCTAssertEqual([stats.train, stats.valid, stats.test], [3, 2, 2])
        let big = DatasetStatistics(dataset: "big", users: 6040, items: 3706, interactions: 1_000_209,
                                    train: 988_089, valid: 6040, test: 6040)
        let table = DatasetStatistics.table([stats, big])
        XCTAssertEqual(table, """
            | Dataset | Users | Items | Interactions |   Train | Valid |  Test |
            |---------|------:|------:|-------------:|--------:|------:|------:|
            | toy     |     3 |     9 |           10 |       3 |     2 |     2 |
            | big     | 6,040 | 3,706 |    1,000,209 | 988,089 | 6,040 | 6,040 |

            """)
    }
}

