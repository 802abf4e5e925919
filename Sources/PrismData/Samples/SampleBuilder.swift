/// Orders each user's interactions in time and turns every interaction after the first into a sample.
///
/// Ties in time are broken by item id (natural order), then rating, so the result does not depend on
/// the order of the input lines. Users are emitted in natural id order, each user's samples oldest first.
/// Throws `DataError.invalidOption` for a history length below 1 or split fractions outside [0, 1].
public func buildSamples(from interactions: [Interaction], options: SampleOptions = SampleOptions()) throws -> [Sample] {
    guard options.historyLength >= 1 else {
        throw DataError.invalidOption("history length must be at least 1, got \(options.historyLength)")
    }
    try validate(options.split)

    let timelines = userTimelines(interactions)
    var samples: [Sample] = []
    samples.reserveCapacity(max(0, interactions.count - timelines.count))
    var seenIDs: [String: Int] = [:]

    for (user, events) in timelines where events.count > 1 {
        let count = events.count - 1
        let items = events.map { $0.itemID }
        for k in 1..<events.count {
            let e = events[k]
            let from = max(0, k - options.historyLength)
            var split = Split.train
            if case .lastOut = options.split, count >= 3 {
                if k == events.count - 1 { split = .test } else if k == events.count - 2 { split = .valid }
            }
            var id = "u\(user)-i\(e.itemID)-t\(e.timestamp)"
            let repeats = seenIDs[id, default: 0] + 1
            seenIDs[id] = repeats
            if repeats > 1 { id += "-\(repeats)" }
            samples.append(Sample(sampleID: id, userID: user, itemID: e.itemID,
                                  history: Array(items[from..<k]), split: split,
                                  timestamp: e.timestamp, rating: e.rating))
        }
    }

    switch options.split {
    case .lastOut:
        break
    case .timeCut(let train, let valid):
        assignByTime(&samples, train: train, valid: valid)
    case .random(let train, let valid):
        for i in samples.indices {
            let u = unitHash(samples[i].sampleID, seed: options.seed)
            samples[i].split = u < train ? .train : (u < train + valid ? .valid : .test)
        }
    }
    return samples
}

/// Each user's interactions sorted by (timestamp, item id, rating), users in natural id order.
public func userTimelines(_ interactions: [Interaction]) -> [(user: String, events: [Interaction])] {
    var byUser: [String: [Interaction]] = [:]
    for i in interactions { byUser[i.userID, default: []].append(i) }
    return byUser.keys.sorted(by: naturalIDLess).map { user in
        (user, (byUser[user] ?? []).sorted(by: chronological))
    }
}

/// The deterministic event order: time, then item id (natural), then rating (missing first).
func chronological(_ a: Interaction, _ b: Interaction) -> Bool {
    if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
    if a.itemID != b.itemID { return naturalIDLess(a.itemID, b.itemID) }
    return (a.rating ?? -.infinity) < (b.rating ?? -.infinity)
}

private func validate(_ split: SplitStrategy) throws {
    switch split {
    case .lastOut:
        return
    case .timeCut(let train, let valid), .random(let train, let valid):
        guard train >= 0, valid >= 0, train + valid <= 1 + 1e-9 else {
            throw DataError.invalidOption("split fractions must be ≥ 0 with train + valid ≤ 1 (got \(train), \(valid))")
        }
    }
}

/// Global time cut: thresholds are the timestamps at the train and train+valid quantiles;
/// samples before the first threshold are train, before the second valid, the rest test.
private func assignByTime(_ samples: inout [Sample], train: Double, valid: Double) {
    guard !samples.isEmpty else { return }
    let times = samples.map { $0.timestamp }.sorted()
    func threshold(_ fraction: Double) -> Int64 {
        let index = Int((Double(times.count) * fraction).rounded(.down))
        return index >= times.count ? Int64.max : times[index]
    }
    let trainEnd = threshold(train), validEnd = threshold(train + valid)
    for i in samples.indices {
        let t = samples[i].timestamp
        samples[i].split = t < trainEnd ? .train : (t < validEnd ? .valid : .test)
    }
}

/// A stable hash of (seed, text) mapped to [0, 1): FNV-1a over the UTF-8 bytes, then a
/// SplitMix64 finalizer. Unlike `Hasher`, identical in every run and on every platform.
public func unitHash(_ text: String, seed: UInt64) -> Double {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ (seed &* 0x9E37_79B9_7F4A_7C15)
    for b in text.utf8 {
        h ^= UInt64(b)
        h = h &* 0x0000_0100_0000_01B3
    }
    h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
    h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
    h ^= h >> 31
    return Double(h >> 11) / Double(UInt64(1) << 53)
}
