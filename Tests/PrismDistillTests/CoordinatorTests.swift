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
