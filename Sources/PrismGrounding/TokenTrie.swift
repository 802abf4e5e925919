/// A prefix tree over sequences of folded word keys: finds the longest name that starts at a word.
struct TokenTrie<Value: Hashable & Sendable>: Sendable {
    private var children: [[String: Int32]] = [[:]]
    private var values: [[Value]] = [[]]

    var isEmpty: Bool { children.count == 1 }

    /// Adds `value` under the key sequence `keys` (empty sequences are ignored).
    mutating func insert(_ keys: [String], _ value: Value) {
        guard !keys.isEmpty else { return }
        var node = 0
        for key in keys {
            if let next = children[node][key] {
                node = Int(next)
            } else {
                children.append([:])
                values.append([])
                let next = children.count - 1
                children[node][key] = Int32(next)
                node = next
            }
        }
        if !values[node].contains(value) { values[node].append(value) }
    }

    /// The longest sequence of `tokens` from `start` that ends a stored name: (end, values), or nil.
    func longestMatch(_ tokens: [WordToken], from start: Int) -> (end: Int, values: [Value])? {
        var node = 0
        var best: (Int, [Value])?
        var i = start
        while i < tokens.count, let next = children[node][tokens[i].key] {
            node = Int(next)
            i += 1
            if !values[node].isEmpty { best = (i, values[node]) }
        }
        return best
    }
}
