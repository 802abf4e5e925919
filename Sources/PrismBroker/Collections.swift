/// The routing identity of a peer on a ROUTER socket (a client or a worker).
public struct PeerID: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    /// The bytes in one call: `[UInt8]`'s own hashing feeds the hasher a byte at a time, and every
    /// message looks a peer up (a routing id is 5 bytes, or up to 255 when a peer names itself).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.count)
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
    public var description: String { bytes.map { byte in
        let hex = String(byte, radix: 16)
        return hex.count == 1 ? "0" + hex : hex
    }.joined() }
}

/// A FIFO of request ids that can also take an id back at the front (a re-dispatched request
/// keeps its place ahead of newer ones). Entries may be stale (answered while queued): the
/// broker skips them when it pops, so removal from the middle costs nothing here.
struct RequestQueue: Sendable {
    private var items: [String] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }

    mutating func pushBack(_ id: String) { items.append(id) }

    mutating func pushFront(_ id: String) {
        if head > 0 {
            head -= 1
            items[head] = id
        } else {
            items.insert(id, at: 0)
        }
    }

    mutating func popFront() -> String? {
        guard head < items.count else { return nil }
        let id = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return id
    }

    /// The entries from oldest to newest (stale ones included).
    var entries: ArraySlice<String> { items[head...] }
}

/// A binary min-heap of (time, request id) timers; entries are checked when they fire, so a
/// timer for a request that was answered meanwhile is simply ignored.
struct TimerHeap: Sendable {
    private(set) var items: [(at: Int64, id: String)] = []

    var next: Int64? { items.first?.at }
    var count: Int { items.count }

    mutating func push(at: Int64, id: String) {
        items.append((at, id))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].at < items[parent].at else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    /// Keeps only the timers `keep` accepts, in heap order again (O(n)).
    mutating func retain(_ keep: (Int64, String) -> Bool) {
        items.removeAll { !keep($0.at, $0.id) }
        var parent = items.count / 2 - 1
        while parent >= 0 {
            siftDown(from: parent)
            parent -= 1
        }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && items[left].at < items[smallest].at { smallest = left }
            if right < items.count && items[right].at < items[smallest].at { smallest = right }
            if smallest == parent { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }

    /// Removes and returns the earliest timer if it is due at `now`.
    mutating func popDue(now: Int64) -> String? {
        guard let first = items.first, first.at <= now else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            siftDown(from: 0)
        }
        return first.id
    }
}

/// Replies already given, by request id, so that a client's retry of an answered request gets
/// the same reply again instead of a second execution. Bounded: the oldest are forgotten first.
/// What a cached value costs in memory, in bytes (its payload plus a fixed overhead).
protocol ReplayCost { var replayBytes: Int { get } }

/// Answered replies by request id, oldest evicted first, bounded by count and by bytes.
struct ReplayCache<Value: Sendable & ReplayCost>: Sendable {
    private var values: [String: Value] = [:]
    private var order = RequestQueue()
    let capacity: Int
    let maxBytes: Int
    private(set) var bytes = 0

    init(capacity: Int, maxBytes: Int = Int.max) {
        self.capacity = max(0, capacity)
        self.maxBytes = max(0, maxBytes)
        // Full size from the start: growing it rehashes every id at each doubling, which showed up as
        // 2–3 % of a busy broker's first minute under perf (a few MB for the default 50,000).
        values.reserveCapacity(self.capacity + 1)
    }

    var count: Int { values.count }

    subscript(id: String) -> Value? { values[id] }

    mutating func insert(_ value: Value, for id: String) {
        guard capacity > 0, value.replayBytes <= maxBytes else { return }
        if let old = values.updateValue(value, forKey: id) {
            bytes -= old.replayBytes
        } else {
            order.pushBack(id)
        }
        bytes += value.replayBytes
        while values.count > capacity || bytes > maxBytes, let oldest = order.popFront() {
            if let gone = values.removeValue(forKey: oldest) { bytes -= gone.replayBytes }
        }
    }
}
