/// Which part of the data a sample belongs to.
public enum Split: String, Sendable, Codable, CaseIterable {
    case train, valid, test
}

/// One (user history, recommended item) pair: the item the user actually interacted with next,
/// and the items before it.
///
/// JSON form (one object per line in `samples.jsonl`):
/// `{"sample_id":"u1-i61-t878542420","user_id":"1","item_id":"61","history":["168","172"],"split":"train","timestamp":878542420,"rating":4}`
/// (`rating` only when the source has one).
public struct Sample: Sendable, Codable, Hashable {
    /// Stable id: "u{user}-i{item}-t{timestamp}", with "-{k}" appended to the k-th repeat (k ≥ 2)
    /// of the same triple. Independent of input order and of the run.
    public var sampleID: String
    public var userID: String
    public var itemID: String
    /// Earlier item ids, oldest first, at most `SampleOptions.historyLength` of them.
    public var history: [String]
    public var split: Split
    /// Unix seconds of the interaction with `itemID`.
    public var timestamp: Int64
    public var rating: Double?

    public init(sampleID: String, userID: String, itemID: String, history: [String], split: Split,
                timestamp: Int64, rating: Double? = nil) {
        self.sampleID = sampleID
        self.userID = userID
        self.itemID = itemID
        self.history = history
        self.split = split
        self.timestamp = timestamp
        self.rating = rating
    }

    enum CodingKeys: String, CodingKey {
        case sampleID = "sample_id", userID = "user_id", itemID = "item_id", history, split, timestamp, rating
    }
}

/// How samples are divided into train, valid and test.
public enum SplitStrategy: Sendable, Hashable {
    /// Per user: the last sample is test, the second-last valid, the rest train.
    /// Users with fewer than 3 samples contribute only training samples.
    case lastOut
    /// By global time: the earliest `train` fraction of samples (by timestamp) is train, the next
    /// `valid` fraction valid, the rest test. Samples sharing a timestamp always land together.
    case timeCut(train: Double, valid: Double)
    /// Each sample independently, by a seeded stable hash of its id: deterministic for a seed and
    /// independent of input order.
    case random(train: Double, valid: Double)

    /// Parses "last-out" (also "loo", "leave-one-out"), "time" (80/10/10) or "random" (80/10/10).
    public init?(argument: String) {
        switch argument.lowercased() {
        case "last-out", "lastout", "loo", "leave-one-out": self = .lastOut
        case "time", "time-cut", "temporal": self = .timeCut(train: 0.8, valid: 0.1)
        case "random": self = .random(train: 0.8, valid: 0.1)
        default: return nil
        }
    }
}

/// Options for `buildSamples`.
public struct SampleOptions: Sendable, Hashable {
    /// How many previous interactions a sample's history keeps (the most recent ones). The paper uses 50.
    public var historyLength: Int
    /// The split strategy.
    public var split: SplitStrategy
    /// Seed for strategies that use randomness (`.random`).
    public var seed: UInt64

    public init(historyLength: Int = 50, split: SplitStrategy = .lastOut, seed: UInt64 = 0) {
        self.historyLength = historyLength
        self.split = split
        self.seed = seed
    }
}
