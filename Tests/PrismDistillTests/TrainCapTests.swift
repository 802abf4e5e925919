import PrismData
import PrismDistill
import XCTest

/// `--max-train-samples` keeps a share of every user's train samples, not the first users' only.
final class TrainCapTests: XCTestCase {
    /// 40 users × 25 train samples each (listed user by user, as `prism data prepare` writes them), plus
    /// one valid and one test sample per user.
    let samples: [Sample] = (0..<40).flatMap { u -> [Sample] in
        (0..<25).map { k in Sample(sampleID: "u\(u)-\(k)", userID: "u\(u)", itemID: "i\(k)", history: [], split: .train, timestamp: Int64(k)) }
            + [Sample(sampleID: "u\(u)-v", userID: "u\(u)", itemID: "v", history: [], split: .valid, timestamp: 100),
               Sample(sampleID: "u\(u)-t", userID: "u\(u)", itemID: "t", history: [], split: .test, timestamp: 101)]
    }

    func testTheCapSpreadsOverEveryUserAndKeepsValidAndTest() {
        let capped = Coordinator.cappingTrainSamples(samples, at: 200)
        let train = capped.filter { $0.split == .train }
        XCTAssertEqual(train.count, 200)
        XCTAssertEqual(Set(train.map(\.userID)).count, 40, "every user keeps train samples")
        XCTAssertEqual(Dictionary(grouping: train, by: \.userID).values.map(\.count).max(), 5, "an even share each")
        XCTAssertEqual(capped.filter { $0.split != .train }.count, 80, "valid and test samples all stay")
        let order = samples.map(\.sampleID)
        let positions = capped.map { order.firstIndex(of: $0.sampleID)! }
        XCTAssertEqual(positions, positions.sorted(), "the file order is kept")
        XCTAssertEqual(Coordinator.cappingTrainSamples(samples, at: 200).map(\.sampleID), capped.map(\.sampleID), "deterministic")
    }

    func testCapsAtOrAboveTheTrainCountAndZero() {
        XCTAssertEqual(Coordinator.cappingTrainSamples(samples, at: 1_000).count, samples.count)
        XCTAssertEqual(Coordinator.cappingTrainSamples(samples, at: 0).map(\.split), Array(repeating: Split.valid, count: 0)
            + samples.filter { $0.split != .train }.map(\.split))
    }
}
