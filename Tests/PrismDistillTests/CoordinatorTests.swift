import Foundation
import PrismClient
import PrismData
import PrismTeacher
import PrismWire
import XCTest
@testable import PrismDistill

/// The coordinator's bookkeeping for what comes back from a shard, without a fleet.
final class CoordinatorTests: XCTestCase {
    let samples = (0..<8).map { Sample(sampleID: "s\($0)", userID: "u", itemID: "i\($0)", history: [], split: .train, timestamp: Int64($0)) }

    func coordinator(attempts: Int = 4) -> Coordinator {
        var options = DistillOptions(samples: URL(fileURLWithPath: "/x"), catalog: URL(fileURLWithPath: "/x"),
                                     output: URL(fileURLWithPath: "/x"), broker: "tcp://x")
        options.maxShardAttempts = attempts
        return Coordinator(options: options)
    }

    func result(_ id: String, _ code: StatusCode = .ok, text: String = "A perfectly good explanation here.", finish: String = "stop") -> TeacherResult {
        var r = TeacherResult()
        r.sampleID = id; r.status = Status(code, code == .ok ? "" : "teacher said no"); r.explanation = text
        r.teacherID = "t"; r.finishReason = finish
        return r
    }

    func testFailedShardIsRetriedThenHalvedThenRecordedAsFailed() {
        let c = coordinator(attempts: 3)
        let failure = Result<TeacherShardResult, PrismClientError>.failure(.status(.deadlineExceeded, message: "late", requestID: "r"))
        let unit = Coordinator.Unit(indices: Array(0..<8), attempts: 0)
        let (none, again) = c.settle(unit, prompts: [], outcome: failure, samples: samples, decoding: "d")
        XCTAssertTrue(none.isEmpty)
        XCTAssertEqual(again?.map(\.indices), [Array(0..<8)], "first failure: the same shard again")
        let (_, halves) = c.settle(again![0], prompts: [], outcome: failure, samples: samples, decoding: "d")
        XCTAssertEqual(halves?.map(\.indices), [Array(0..<4), Array(4..<8)], "second failure: split in two")
        let (failed, over) = c.settle(halves![0], prompts: [], outcome: failure, samples: samples, decoding: "d")
        XCTAssertNil(over)
        XCTAssertEqual(failed.map(\.sampleID), ["s0", "s1", "s2", "s3"])
        XCTAssertTrue(failed.allSatisfy { $0.status == "DEADLINE_EXCEEDED" && $0.message.contains("late") && $0.attempts == 3 })
    }

    func testPerPromptStatusesFiltersAndMissingResults() {
        var shard = TeacherShardResult()
        shard.results = [result("s0"), result("s1", .invalidArgument), result("s2", text: ""), result("s3", finish: "length")]
        let unit = Coordinator.Unit(indices: Array(0..<5), attempts: 0)
        let (records, again) = coordinator().settle(unit, prompts: [], outcome: .success(shard), samples: samples, decoding: "d")
        XCTAssertEqual(records.map(\.sampleID), ["s0", "s1", "s2", "s3"])
        XCTAssertEqual(records.map(\.status), ["OK", "INVALID_ARGUMENT", "OK", "OK"])
        XCTAssertEqual(records[1].message, "teacher said no")
        XCTAssertEqual(records.map(\.filtered), [nil, nil, "empty", "truncated"])
        XCTAssertEqual(again?.map(\.indices), [[4]], "a sample the teacher skipped is asked again")
    }
}

/// `distilled.jsonl` carries each golden marked for a grounded student (GROUNDING.md), and goldens the
/// checker does not find fully grounded are kept or dropped as asked, and counted.
final class GoldenMarkingTests: XCTestCase {
    let catalog = ItemCatalog([
        CatalogItem(id: "6", title: "Heat", year: 1995, genres: ["Action", "Crime"], directors: ["Michael Mann"], actors: ["Robert De Niro"]),
        CatalogItem(id: "16", title: "Casino", year: 1995, genres: ["Crime", "Drama"], directors: ["Martin Scorsese"], actors: ["Robert De Niro"]),
    ])
    let samples = [
        Sample(sampleID: "a", userID: "u", itemID: "16", history: ["6"], split: .train, timestamp: 1),
        Sample(sampleID: "b", userID: "u", itemID: "16", history: ["6"], split: .train, timestamp: 2),
    ]

    func export(_ policy: UnmarkablePolicy) async throws -> ([[String: Any]], DistillSummary) {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("prism-marks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        let store = try ResultStore(url: out.appendingPathComponent("results.jsonl"))
        let texts = ["Casino stars Robert De Niro, whom you saw in Heat.", "Casino is a drama like Aphrina and Heat."]
        _ = try store.append(zip(samples, texts).map { sample, text in
            ResultRecord(sampleID: sample.sampleID, userID: "u", itemID: "16", split: "train", teacherID: "llm", decoding: "d",
                         status: "OK", message: "", explanation: text, finishReason: "stop", filtered: nil, latencyMs: 1, attempts: 1)
        })
        var options = DistillOptions(samples: out, catalog: out, output: out, broker: "tcp://x")
        options.unmarkable = policy
        var summary = DistillSummary()
        try await Coordinator(options: options).export(samples: samples, catalog: catalog, store: store, decoding: "d", summary: &summary)
        let lines = try String(contentsOf: out.appendingPathComponent("distilled.jsonl"), encoding: .utf8).split(separator: "\n")
        return (try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }, summary)
    }

    func testGoldensAreMarkedAndUnmarkableOnesKeptOrDropped() async throws {
        let (kept, summary) = try await export(.keep)
        XCTAssertEqual(kept.map { $0["marked"] as? String }, [
            "<e:item>Casino</e> stars<e:person> Robert De Niro</e>, whom you saw in<e:title> Heat</e>.",
            "<e:item>Casino</e> is a<e:genre> drama</e> like Aphrina and<e:title> Heat</e>.",
        ])
        XCTAssertEqual(kept.map { $0["grounded"] as? Bool }, [true, false])
        XCTAssertEqual(summary.goldens, 2)
        XCTAssertEqual(summary.unmarkable, 1)
        XCTAssertEqual(summary.unmarkableProblems, ["unsupported span": 1])
        XCTAssertTrue(summary.text.contains("1 not fully grounded (unsupported span 1)"), summary.text)
        let (dropped, dropSummary) = try await export(.drop)
        XCTAssertEqual(dropped.map { $0["sample_id"] as? String }, ["a"])
        XCTAssertEqual(dropSummary.unmarkableDropped, 1)
        XCTAssertEqual(dropSummary.goldens, 1)
    }
}

/// A resumed run asks again for transient failures by default (any failure with `retryFailed`), and the
/// summary reports the failures in the store, not only this run's.
final class ResumeTests: XCTestCase {
    func testTransientFailuresAreAskedAgainAndStoredFailuresReported() async throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("prism-resume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        let samples = (0..<4).map { Sample(sampleID: "s\($0)", userID: "u", itemID: "16", history: [], split: .train, timestamp: Int64($0)) }
        let store = try ResultStore(url: out.appendingPathComponent("results.jsonl"))
        let statuses = ["OK", "UNAVAILABLE", "INVALID_ARGUMENT"]
        _ = try store.append(zip(samples, statuses).map { sample, status in
            ResultRecord(sampleID: sample.sampleID, userID: "u", itemID: "16", split: "train", teacherID: "t", decoding: "d",
                         status: status, message: "", explanation: status == "OK" ? "Casino is a drama." : "", finishReason: "stop",
                         filtered: nil, latencyMs: 1, attempts: 1)
        })
        var options = DistillOptions(samples: out, catalog: out, output: out, broker: "tcp://x")
        XCTAssertEqual(Coordinator(options: options).pendingIndices(samples, store: store, decoding: "d"), [1, 3])
        options.retryFailed = true
        XCTAssertEqual(Coordinator(options: options).pendingIndices(samples, store: store, decoding: "d"), [1, 2, 3])
        options.retryFailed = false
        options.retryTransient = false
        XCTAssertEqual(Coordinator(options: options).pendingIndices(samples, store: store, decoding: "d"), [3])
        var summary = DistillSummary()
        let catalog = ItemCatalog([CatalogItem(id: "16", title: "Casino", genres: ["Drama"])])
        try await Coordinator(options: options).export(samples: samples, catalog: catalog, store: store, decoding: "d", summary: &summary)
        XCTAssertEqual(summary.storedFailures, ["UNAVAILABLE": 1, "INVALID_ARGUMENT": 1])
        XCTAssertTrue(summary.text.contains("stored failures 2 (INVALID_ARGUMENT 1, UNAVAILABLE 1)"), summary.text)
        // A second teacher's golden in the same store: no mixed training set is written.
        _ = try store.append([ResultRecord(sampleID: "s3", userID: "u", itemID: "16", split: "train", teacherID: "other", decoding: "d",
                                           status: "OK", message: "", explanation: "Casino is a drama.", finishReason: "stop",
                                           filtered: nil, latencyMs: 1, attempts: 1)])
        do {
            try await Coordinator(options: options).export(samples: samples, catalog: catalog, store: store, decoding: "d", summary: &summary)
            XCTFail("mixed teachers were exported")
        } catch let error as DistillError {
            XCTAssertTrue(error.description.contains("other (1)") && error.description.contains("t (1)"), error.description)
        }
    }
}

/// Shards in flight fit the teacher workers, and deadlines follow the teacher's measured speed.
final class ShardPacingTests: XCTestCase {
    func testInFlightFollowsWorkerCapacityAndDeadlinesFollowTheTeacher() {
        var pacing = ShardPacing(maxInFlight: 8, floorTimeoutMs: 120_000)
        XCTAssertEqual(pacing.limit, 8, "capacity unknown: as configured")
        pacing.observeCapacity(1)
        XCTAssertEqual(pacing.limit, 2, "one worker of capacity 1: one running, one waiting")
        pacing.observeCapacity(0)
        XCTAssertEqual(pacing.limit, 1, "no worker yet: one shard waits, not all of them")
        pacing.observeCapacity(16)
        XCTAssertEqual(pacing.limit, 8, "never more than --in-flight")
        XCTAssertEqual(pacing.timeoutMs(prompts: 32), 120_000, "no measurement yet: the configured deadline")
        pacing.observeShard(seconds: 320, prompts: 32)  // a slow server: 10 s per prompt
        XCTAssertEqual(pacing.timeoutMs(prompts: 32), 1_280_000, "4 × the measured 320 s")
        XCTAssertEqual(pacing.timeoutMs(prompts: 8), 320_000)
        pacing.observeShard(seconds: 3.2, prompts: 32)  // fast again: the average moves, the floor holds
        XCTAssertEqual(pacing.secondsPerPrompt ?? 0, 7.03, accuracy: 1e-9)
        var fast = ShardPacing(maxInFlight: 8, floorTimeoutMs: 120_000)
        fast.observeShard(seconds: 0.5, prompts: 32)
        XCTAssertEqual(fast.timeoutMs(prompts: 32), 120_000)
    }
}
