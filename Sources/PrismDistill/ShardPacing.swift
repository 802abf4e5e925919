/// How many shards the coordinator keeps in flight and how long each may take, from what the fleet and
/// the teacher show: at most two shards per slot of the teacher workers (one running, one waiting, so a
/// shard's deadline is not spent queued behind many others), and a deadline that follows the teacher's measured speed (a slow
/// server gets longer deadlines, not cancelled and re-sent shards). A value type without I/O.
struct ShardPacing: Sendable {
    /// The most shards in flight (`--in-flight`).
    let maxInFlight: Int
    /// The shortest deadline of a shard (`--shard-timeout-ms`).
    let floorTimeoutMs: Int64
    /// The teacher service's total worker capacity, from the broker's health answer (nil: not known).
    private(set) var workerCapacity: Int?
    /// Seconds per prompt of recent shards, from send to reply (an exponential average).
    private(set) var secondsPerPrompt: Double?

    /// Deadline = this many times the expected time of the shard.
    static let slack = 4.0

    init(maxInFlight: Int, floorTimeoutMs: Int64) {
        self.maxInFlight = max(1, maxInFlight)
        self.floorTimeoutMs = max(1, floorTimeoutMs)
    }

    /// Shards to keep in flight now: two per worker slot (one while none is registered yet), never
    /// more than `maxInFlight`.
    var limit: Int {
        guard let capacity = workerCapacity else { return maxInFlight }
        return max(1, min(maxInFlight, 2 * capacity))
    }

    /// The deadline of a shard of `prompts` prompts.
    func timeoutMs(prompts: Int) -> Int64 {
        guard let perPrompt = secondsPerPrompt else { return floorTimeoutMs }
        let expected = Self.slack * perPrompt * Double(max(1, prompts)) * 1000
        return max(floorTimeoutMs, Int64(min(expected, 86_400_000)))
    }

    mutating func observeCapacity(_ capacity: Int) { workerCapacity = max(0, capacity) }

    /// A shard that came back in `seconds` for `prompts` prompts.
    mutating func observeShard(seconds: Double, prompts: Int) {
        guard seconds.isFinite, seconds >= 0, prompts > 0 else { return }
        let sample = seconds / Double(prompts)
        secondsPerPrompt = secondsPerPrompt.map { 0.7 * $0 + 0.3 * sample } ?? sample
    }
}
