/// Constrained decoding of marked entity spans (Sources/PrismGrounding/GROUNDING.md): per request, one
/// prefix trie of token ids per span kind; inside a span only tokens that continue an allowed form may
/// follow, and the closing mark only where a form is complete.
///
/// The state of a row is read from its tokens so far (the last opening mark without a closing one
/// after it), so it needs no bookkeeping when beam search reorders rows or a batch drops finished
/// ones, and a step allocates nothing.
public struct EntityConstraints: Sendable, Equatable {
    /// The token id of each span kind's opening mark (in the order of `tries`) and of the closing mark.
    public struct Marks: Sendable, Equatable {
        public var opens: [Int]
        public var close: Int
        /// The index in `opens` of the span that must be closed before the end of sequence (the
        /// recommended item), if any.
        public var required: Int?

        public init(opens: [Int], close: Int, required: Int? = nil) {
            self.opens = opens
            self.close = close
            self.required = required
        }
    }

    public let marks: Marks
    public let tries: [TokenTrie]

    /// `forms[k]`: the token sequences span kind `k` allows (empty sequences are ignored).
    public init(marks: Marks, forms: [[[Int]]]) {
        precondition(forms.count == marks.opens.count, "one list of forms per opening mark")
        self.marks = marks
        tries = forms.map(TokenTrie.init)
    }

    /// Where a row stands, from its tokens `history[0..<length]` (the decoder start token first).
    @inline(__always)
    func state(history: UnsafePointer<Int>, length: Int) -> (open: Int, spanStart: Int, cited: Bool) {
        var open = -1
        var spanStart = 0
        var cited = false
        var p = 1
        while p < length {
            let t = history[p]
            if t == marks.close {
                if open >= 0 && open == marks.required { cited = true }
                open = -1
            } else {
                for k in 0..<marks.opens.count where marks.opens[k] == t {
                    open = k
                    spanStart = p + 1
                    break
                }
            }
            p += 1
        }
        return (open, spanStart, cited)
    }

    /// Applies the constraints to one row's scores. Returns whether the row is inside a span (where
    /// no-repeat-n-gram does not apply).
    @inline(__always)
    func apply(_ scores: UnsafeMutablePointer<Float>, vocab: Int, history: UnsafePointer<Int>, length: Int, eos: Int?) -> Bool {
        let (open, spanStart, cited) = state(history: history, length: length)
        if open >= 0 {
            let trie = tries[open]
            var node = 0
            var p = spanStart
            while p < length, node >= 0 {
                node = trie.child(of: node, token: history[p])
                p += 1
            }
            if node < 0 || trie.isEmpty {
                // Not a prefix of any form (cannot happen under these constraints): only close the span.
                for t in 0..<vocab where t != marks.close { scores[t] = -.infinity }
                return true
            }
            trie.keepOnlyContinuations(of: node, close: marks.close, scores: scores, vocab: vocab)
            return true
        }
        if marks.close >= 0 && marks.close < vocab { scores[marks.close] = -.infinity }
        for k in 0..<marks.opens.count where tries[k].isEmpty {
            let t = marks.opens[k]
            if t >= 0 && t < vocab { scores[t] = -.infinity }
        }
        if let required = marks.required, !cited, !tries[required].isEmpty, let eos, eos >= 0, eos < vocab {
            scores[eos] = -.infinity
        }
        return false
    }
}

/// A prefix trie of token-id sequences, flattened: node `n`'s children are `tokens[starts[n]..<starts[n + 1]]`
/// (ascending) leading to `targets[…]`; node 0 is the root.
public struct TokenTrie: Sendable, Equatable {
    var starts: [Int]
    var tokens: [Int]
    var targets: [Int]
    var terminal: [Bool]

    public init(_ sequences: [[Int]]) {
        // Build with per-node child maps, then flatten breadth-first with sorted edges.
        var children: [[Int: Int]] = [[:]]
        var ends: [Bool] = [false]
        for sequence in sequences where !sequence.isEmpty {
            var node = 0
            for token in sequence {
                if let next = children[node][token] {
                    node = next
                } else {
                    children.append([:])
                    ends.append(false)
                    children[node][token] = children.count - 1
                    node = children.count - 1
                }
            }
            ends[node] = true
        }
        var order = [0]
        var index = [0: 0]
        var head = 0
        while head < order.count {
            for (_, child) in children[order[head]].sorted(by: { $0.key < $1.key }) {
                index[child] = order.count
                order.append(child)
            }
            head += 1
        }
        starts = [0]
        tokens = []
        targets = []
        terminal = order.map { ends[$0] }
        for old in order {
            for (token, child) in children[old].sorted(by: { $0.key < $1.key }) {
                tokens.append(token)
                targets.append(index[child]!)
            }
            starts.append(tokens.count)
        }
    }

    /// No sequence at all.
    public var isEmpty: Bool { tokens.isEmpty }

    /// The child of `node` by `token`, or -1.
    @inline(__always)
    func child(of node: Int, token: Int) -> Int {
        var lo = starts[node]
        var hi = starts[node + 1]
        while lo < hi {
            let mid = (lo + hi) / 2
            let t = tokens[mid]
            if t == token { return targets[mid] }
            if t < token { lo = mid + 1 } else { hi = mid }
        }
        return -1
    }

    /// Sets every score to −∞ except the tokens that continue a sequence from `node`, and `close`
    /// when a sequence ends at `node`.
    @inline(__always)
    func keepOnlyContinuations(of node: Int, close: Int, scores: UnsafeMutablePointer<Float>, vocab: Int) {
        var e = starts[node]
        let end = starts[node + 1]
        let closing = terminal[node]
        for t in 0..<vocab {
            while e < end && tokens[e] < t { e += 1 }
            if e < end && tokens[e] == t { continue }
            if closing && t == close { continue }
            scores[t] = -.infinity
        }
    }
}
