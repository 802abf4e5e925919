import Foundation
import PrismBench
import PrismData
import XCTest

/// A distillation of several thousand samples through a broker and 3 teacher workers, with a
/// worker and then the coordinator SIGKILLed mid-run: the output holds exactly one result per
/// sample — none lost, none duplicated.
final class DistillFaultTests: XCTestCase {
    func testCoordinatorAndWorkerKilledMidRunExactlyOneResultPerSample() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data"), output = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let sampleIDs = try DistillFixtures.writeSyntheticDataset(to: data, users: 250, perUser: 17)
        XCTAssertEqual(sampleIDs.count, 4_000)

        let fleet = try ProcessFleet()
        defer { fleet.stop() }
        // The sleep teacher takes 3 ms a prompt, so the run lasts long enough to be interrupted.
        var workers = try (0..<3).map { i in try fleet.startTeacher(sleepMs: 3, id: "teacher\(i)") }

        func coordinator() throws -> ChildProcess {
            try ChildProcess(executable: ProcessFleet.prismPath, arguments: [
                "distill", "--data", data.path, "--output", output.path, "--broker", fleet.frontend,
                "--shard-size", "16", "--in-flight", "6", "--shard-timeout-ms", "4000", "--log-level", "error"])
        }
        let results = output.appendingPathComponent("results.jsonl")
        let first = try coordinator()
        try DistillFixtures.waitUntil(timeout: 30) { DistillFixtures.lineCount(results) >= 600 }
        workers[0].kill()  // a teacher dies holding a shard
        workers.append(try fleet.startTeacher(sleepMs: 3, id: "teacher-new"))
        try DistillFixtures.waitUntil(timeout: 30) { DistillFixtures.lineCount(results) >= 1_800 }
        first.kill()  // the coordinator dies mid-run
        let afterKill = DistillFixtures.lineCount(results)
        XCTAssertLessThan(afterKill, sampleIDs.count, "the coordinator should have died before finishing")

        let second = try coordinator()
        try DistillFixtures.waitUntil(timeout: 90) { !second.process.isRunning }
        XCTAssertEqual(second.process.terminationStatus, 0)

        // The store: one record per sample, no failures.
        let records = try DistillFixtures.jsonLines(results)
        var perSample: [String: Int] = [:]
        for record in records { perSample[record["sample_id"] as? String ?? "", default: 0] += 1 }
        XCTAssertEqual(Set(perSample.keys), Set(sampleIDs), "lost samples")
        XCTAssertEqual(perSample.values.filter { $0 != 1 }.count, 0, "duplicated samples")
        XCTAssertTrue(records.allSatisfy { $0["status"] as? String == "OK" })
        // The training set: exactly one golden per sample, in sample order.
        let goldens = try DistillFixtures.jsonLines(output.appendingPathComponent("distilled.jsonl")).map { $0["sample_id"] as? String ?? "" }
        XCTAssertEqual(goldens, sampleIDs)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("summary.json"))) as? [String: Any]
        XCTAssertEqual(summary?["alreadyDone"] as? Int, afterKill, "the restart skipped exactly what was stored")
    }
}

/// Datasets and file checks shared by the distillation process tests.
enum DistillFixtures {
    /// `users` × `perUser` interactions over 300 synthetic items (history 50).
    static func writeSyntheticDataset(to folder: URL, users: Int, perUser: Int) throws -> [String] {
        let genres = ["Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi", "Thriller"]
        let people = ["Ann Lee", "Bo Kim", "Cy Ray", "Di Fox", "Eve Moss", "Fay Ng"]
        let catalog = ItemCatalog((1...300).map { i in
            CatalogItem(id: "\(i)", title: "Film \(i)", year: 1960 + i % 40, genres: [genres[i % 7], genres[(i / 7) % 7]],
                        directors: [people[i % 6]], actors: [people[(i + 2) % 6], people[(i + 4) % 6]], plot: i % 5 == 0 ? "a war story" : "a love story")
        })
        var interactions: [Interaction] = []
        for u in 1...users {
            for k in 0..<perUser {
                interactions.append(Interaction(userID: "\(u)", itemID: "\((u * 7 + k * 13) % 300 + 1)", timestamp: Int64(1_000 + k), rating: 4))
            }
        }
        let samples = try buildSamples(from: interactions, options: SampleOptions(historyLength: 50))
        try SampleIO.writeSamples(samples, to: folder.appendingPathComponent("samples.jsonl"))
        try SampleIO.writeCatalog(catalog, to: folder.appendingPathComponent("catalog.jsonl"))
        return samples.map(\.sampleID)
    }

    static func lineCount(_ url: URL) -> Int {
        guard let data = FileManager.default.contents(atPath: url.path) else { return 0 }
        return data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    static func jsonLines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }

    static func waitUntil(timeout: TimeInterval, _ condition: () -> Bool) throws {
        let end = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > end {
                XCTFail("timed out waiting")
                throw CocoaError(.executableLoad)
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }
}

extension ProcessFleet {
    func startTeacher(sleepMs: Int, id: String) throws -> ChildProcess {
        try startWorker(service: "teacher", handler: "teacher", sleepMs: sleepMs, id: id, extra: ["--teacher", "sleep"])
    }
}
