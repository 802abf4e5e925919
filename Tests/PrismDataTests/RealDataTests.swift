import Foundation
import XCTest
@testable import PrismData

/// Runs against the real MovieLens 100K files in `../shared/data/ml-100k` (relative to the repo root)
/// when they are present; skipped otherwise.
final class RealDataTests: XCTestCase {
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    func testML100KKnownCounts() throws {
        let dir = Self.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/ml-100k")
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("u.data").path) else {
            throw XCTSkip("ml-100k not found at \(dir.path)")
        }
        let ds = try loadDataset(kind: .ml100k, directory: dir)
        XCTAssertEqual(ds.interactions.count, 100_000)
        XCTAssertEqual(ds.userCount, 943)
        XCTAssertEqual(ds.interactedItemCount, 1682)
        XCTAssertEqual(ds.catalog.count, 1682)
        XCTAssertEqual(ds.users.count, 943)
        XCTAssertEqual(ds.report.totalSkipped, 0)
        XCTAssertEqual(ds.catalog["1"]?.title, "Toy Story")
        XCTAssertEqual(ds.catalog["64"]?.title, "The Shawshank Redemption")

        let samples = try buildSamples(from: ds.interactions)
        XCTAssertEqual(samples.count, 100_000 - 943)
        XCTAssertEqual(Set(samples.map { $0.sampleID }).count, samples.count)
        XCTAssertLessThanOrEqual(samples.map { $0.history.count }.max() ?? 0, 50)
        let stats = DatasetStatistics(dataset: ds.name, interactions: ds.interactions, samples: samples)
        XCTAssertEqual(stats.test, 943)
        XCTAssertEqual(stats.valid, 943)
        XCTAssertEqual(stats.train, 100_000 - 3 * 943)
    }
}
