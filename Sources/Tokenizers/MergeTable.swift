/// The BPE merges: for each pair of ids, its rank (lower merges first) and the merged token's id.
struct MergeTable: Sendable {
    private struct Merge { let rank: Int32; let newId: Int32 }
    private let table: [UInt64: Merge]

    /// Reads `merges`, given either as `"left right"` strings or as `[left, right]` pairs.
    init(_ node: JSONNode, vocab: [ExactString: Int], prefix: String?) throws(TokenizerError) {
        let entries = try node.optionalArray() ?? []
        var table: [UInt64: Merge] = [:]
        table.reserveCapacity(entries.count)
        let prefixLength = prefix?.utf8.count ?? 0
        for (rank, entry) in entries.enumerated() {
            let left: String, right: String
            if let pair = entry.value as? [Any], pair.count == 2, let first = pair[0] as? String,
               let second = pair[1] as? String {
                (left, right) = (first, second)
            } else if let line = entry.value as? String {
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw .invalidField(path: entry.path, reason: "a merge must be two tokens separated by one space")
                }
                (left, right) = (String(parts[0]), String(parts[1]))
            } else {
                throw .invalidField(path: entry.path, reason: "a merge must be \"left right\" or [left, right]")
            }
            guard let leftId = vocab[exact: left] else { throw .unknownToken(left, context: entry.path) }
            guard let rightId = vocab[exact: right] else { throw .unknownToken(right, context: entry.path) }
            var merged = left + right
            if prefixLength > 0 {
                let rightUTF8 = Array(right.utf8)
                guard rightUTF8.count >= prefixLength,
                      let rest = String(validating: rightUTF8[prefixLength...], as: UTF8.self) else {
                    throw .invalidField(path: entry.path, reason: "the right token is shorter than the subword prefix")
                }
                merged = left + rest
            }
            guard let newId = vocab[exact: merged] else { throw .unknownToken(merged, context: entry.path) }
            table[Self.key(leftId, rightId)] = Merge(rank: Int32(rank), newId: Int32(newId))
        }
        self.table = table
    }

    private static func key(_ left: Int, _ right: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
    }

    private func lookup(_ left: Int, _ right: Int) -> Merge? {
        table[Self.key(left, right)]
    }

    /// Merges `symbols` in place: repeatedly the known pair with the lowest rank (leftmost on
    /// ties), like Hugging Face's priority-queue loop. O(n log n) in the word length.
    func mergeAll(_ symbols: inout [Int]) {
        let count = symbols.count
        guard count > 1 else { return }
        // A doubly linked list over the symbols; `alive[i] == false` once merged into its left.
        var prev = Array(-1..<(count - 1))
        var next = Array(1...count)
        var alive = [Bool](repeating: true, count: count)
        var queue = MergeQueue()
        for i in 0..<(count - 1) {
            if let merge = lookup(symbols[i], symbols[i + 1]) {
                queue.push(.init(rank: merge.rank, position: Int32(i), newId: merge.newId))
            }
        }
        while let top = queue.pop() {
            let pos = Int(top.position)
            guard alive[pos], next[pos] < count else { continue }
            let right = next[pos]
            // Skip stale entries: the pair at `pos` must still merge into the same token.
            guard let merge = lookup(symbols[pos], symbols[right]), merge.newId == top.newId else { continue }
            symbols[pos] = Int(merge.newId)
            alive[right] = false
            next[pos] = next[right]
            if next[right] < count { prev[next[right]] = pos }
            if prev[pos] >= 0, let left = lookup(symbols[prev[pos]], symbols[pos]) {
                queue.push(.init(rank: left.rank, position: Int32(prev[pos]), newId: left.newId))
            }
            if next[pos] < count, let after = lookup(symbols[pos], symbols[next[pos]]) {
                queue.push(.init(rank: after.rank, position: Int32(pos), newId: after.newId))
            }
        }
        var result: [Int] = []
        result.reserveCapacity(count)
        for i in 0..<count where alive[i] { result.append(symbols[i]) }
        symbols = result
    }
}

/// A binary min-heap of candidate merges, ordered by rank, then position.
struct MergeQueue {
    struct Entry {
        let rank: Int32
        let position: Int32
        let newId: Int32

        func precedes(_ other: Entry) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }

    private var heap: [Entry] = []

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if heap.isEmpty { return first }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < heap.count, heap[left].precedes(heap[best]) { best = left }
            if right < heap.count, heap[right].precedes(heap[best]) { best = right }
            if best == parent { break }
            heap.swapAt(parent, best)
            parent = best
        }
        return first
    }
}
