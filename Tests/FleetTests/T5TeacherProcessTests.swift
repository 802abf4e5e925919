import Foundation
import PrismBench
import XCTest

/// Teacher workers that host a T5 model (the tiny random v1.1 fixture, FLAN-T5's architecture) distil a
/// dataset through a real broker, with one of them SIGKILLed mid-run: one result per sample, written by
/// the T5 teacher, none lost or duplicated.
final class T5TeacherProcessTests: XCTestCase {
    static let t5Folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/t5/v1_1").path

    func testT5TeacherWorkersDistilExactlyOncePastAWorkerKill() throws {
        let helper = DistillFixtures.self
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-t5-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data"), output = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let sampleIDs = try helper.writeSyntheticDataset(to: data, users: 24, perUser: 6)
        XCTAssertEqual(sampleIDs.count, 120)

        let fleet = try ProcessFleet()
        defer { fleet.stop() }
        func teacher(_ id: String) throws -> ChildProcess {
            try fleet.startWorker(service: "teacher", handler: "teacher", capacity: 2, id: id,
                                  extra: ["--teacher", "t5", "--model", Self.t5Folder, "--teacher-batch", "4", "--max-input-tokens", "256"])
        }
        let workers = try (0..<2).map { try teacher("t5-\($0)") }
        let results = output.appendingPathComponent("results.jsonl")
        let coordinator = try ChildProcess(executable: ProcessFleet.prismPath, arguments: [
            "distill", "--data", data.path, "--output", output.path, "--broker", fleet.frontend, "--shard-size", "8",
            "--in-flight", "4", "--shard-timeout-ms", "20000", "--max-new-tokens", "12", "--log-level", "error"])
        try helper.waitUntil(timeout: 60) { helper.lineCount(results) >= 24 }
        workers[0].kill()  // a T5 teacher dies holding shards
        _ = try teacher("t5-new")
        try helper.waitUntil(timeout: 120) { !coordinator.process.isRunning }
        XCTAssertEqual(coordinator.process.terminationStatus, 0)

        let records = try helper.jsonLines(results)
        var perSample: [String: Int] = [:]
        for record in records { perSample[record["sample_id"] as? String ?? "", default: 0] += 1 }
        XCTAssertEqual(Set(perSample.keys), Set(sampleIDs), "lost samples")
        XCTAssertEqual(perSample.values.filter { $0 != 1 }.count, 0, "duplicated samples")
        XCTAssertTrue(records.allSatisfy { $0["status"] as? String == "OK" }, "\(records.first { $0["status"] as? String != "OK" } ?? [:])")
        XCTAssertTrue(records.allSatisfy { $0["teacher_id"] as? String == "t5:v1_1" }, "\(records.first ?? [:])")
        // A random model's answers: some end at once (empty), most say something.
        XCTAssertGreaterThan(records.filter { !($0["explanation"] as? String ?? "").isEmpty }.count, records.count / 2)
        let finishes = Set(records.compactMap { $0["finish_reason"] as? String })
        XCTAssertTrue(finishes.isSubset(of: ["stop", "length"]), "\(finishes)")
    }
}
