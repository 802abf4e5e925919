import Foundation
import XCTest
@testable import PrismDistill

final class ResultStoreTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func record(_ id: String, status: String = "OK", text: String = "a fine explanation") -> ResultRecord {
        ResultRecord(sampleID: id, userID: "u", itemID: "i", split: "train", teacherID: "t", decoding: "d", status: status,
                     message: "", explanation: text, finishReason: "stop", filtered: nil, latencyMs: 1, attempts: 1)
    }

    func testKeysAreStoredOnceAndSurviveReopening() throws {
        let url = dir.appendingPathComponent("r.jsonl")
        do {
            let store = try ResultStore(url: url)
            XCTAssertEqual(try store.append([record("a"), record("b"), record("a", text: "dup")]), 2)
            XCTAssertEqual(try store.append([record("b", text: "again")]), 0)
        }
        let reopened = try ResultStore(url: url)
        XCTAssertEqual(reopened.count, 2)
        XCTAssertEqual(reopened.record(sampleID: "a", decoding: "d")?.explanation, "a fine explanation")
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8).split(separator: "\n").count, 2)
    }

    func testATornLastLineIsCutOffAndTheRestKept() throws {
        let url = dir.appendingPathComponent("r.jsonl")
        try ResultStore(url: url).append([record("a"), record("b")])
        let handle = try FileHandle(forWritingTo: url)
        handle.seekToEndOfFile()
        handle.write(Data("{\"sample_id\":\"c\",\"expl".utf8))  // a crash in the middle of a write
        try handle.close()
        let store = try ResultStore(url: url)
        XCTAssertEqual(store.count, 2)
        XCTAssertGreaterThan(store.repairedBytes, 0)
        XCTAssertEqual(try store.append([record("c")]), 1)
        XCTAssertEqual(try ResultStore(url: url).count, 3)
    }

    func testCorruptionBeforeTheLastLineIsAnError() throws {
        let url = dir.appendingPathComponent("r.jsonl")
        try ResultStore(url: url).append([record("a")])
        var text = try String(contentsOf: url, encoding: .utf8)
        text = "garbage\n" + text
        try text.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ResultStore(url: url)) { error in
            XCTAssertTrue("\(error)".contains(":1:"), "\(error)")
        }
    }

    func testAFailureCanBeSupersededButAnAnswerCannot() throws {
        let url = dir.appendingPathComponent("r.jsonl")
        let store = try ResultStore(url: url)
        try store.append([record("a", status: "UNAVAILABLE")])
        XCTAssertEqual(try store.append([record("a")]), 1)
        XCTAssertEqual(try store.append([record("a", status: "INTERNAL")]), 0)
        XCTAssertEqual(try ResultStore(url: url).record(sampleID: "a", decoding: "d")?.status, "OK")
    }

    func testGoldenFilters() {
        let filter = GoldenFilter()
        let prompt = "Generate a short, personalized, and persuasive explanation for the following recommendation.\n- History: {history}"
        XCTAssertEqual(filter.rejection(text: "  ", finishReason: "stop", template: prompt), "empty")
        XCTAssertEqual(filter.rejection(text: "You will like this film a lot.", finishReason: "length", template: prompt), "truncated")
        XCTAssertEqual(filter.rejection(text: "it is good it is good it is good it is good", finishReason: "stop", template: prompt), "repetition")
        XCTAssertEqual(filter.rejection(text: "Generate a short, personalized, and persuasive explanation for the following recommendation.",
                                        finishReason: "stop", template: prompt), "prompt_echo")
        XCTAssertNil(filter.rejection(text: "Heat stars Al Pacino, whom you saw in The Godfather.", finishReason: "stop", template: prompt))
        // A long title quoted from the filled-in history is not an echo of the template.
        XCTAssertNil(filter.rejection(text: "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb is a war film.",
                                      finishReason: "stop", template: prompt))
    }
}
