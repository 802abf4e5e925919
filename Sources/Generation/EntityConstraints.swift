/// Constrained decoding of marked entity spans (Sources/PrismGrounding/GROUNDING.md): per request, one
/// prefix trie of token ids per span kind; inside a span only tokens that continue an allowed form may
/// follow, and the closing mark only where a form is complete.
///
/// The state of a row is read from its tokens so far in one pass (the last opening mark without a
/// closing one after it, the forms closed spans wrote), so it needs no bookkeeping when beam search reorders rows or a batch drops finished
/// ones, and a step allocates nothing.
public struct EntityConstraints: Sendable, Equatable {
    /// The token id of each span kind's opening mark (in the order of `tries`) and of the closing mark.
    public struct Marks: Sendable, Equatable {
        public var opens: [Int]
        public var close: Int
        /// The index in `opens` of the span that must be closed before the end of sequence (the
        /// recommended item), if any.
        public var required: Int?
        /// Per kind: a form of it is written at most once per sequence.
        public var unique: [Bool]

        public init(opens: [Int], close: Int, required: Int? = nil, unique: [Bool]? = nil) {
            self.opens = opens
            self.close = close
            self.required = required
            self.unique = unique ?? [Bool](repeating: false, count: opens.count)
        }
    }

    /// What the vocabulary's tokens look like as text, for the capitalisation rule outside spans (shared
    /// by every request of a model).
    public struct WordShapes: Sendable, Equatable {
        /// Tokens whose text starts a capitalised word (an optional space, then A–Z), ascending.
        public var capitalised: [Int]
        /// Per token: its text, trailing spaces removed, ends a sentence (`.`, `!`, `?`).
        public var sentenceEnd: [Bool]
        /// Per token: not text (special tokens and marks).
        public var ignored: [Bool]

        public init(capitalised: [Int], sentenceEnd: [Bool], ignored: [Bool]) {
            self.capitalised = capitalised
            self.sentenceEnd = sentenceEnd
            self.ignored = ignored
        }
    }

    public let marks: Marks
    public let tries: [SpanTrie]
    /// nil: no capitalisation rule.
    public let shapes: WordShapes?

    /// `forms[k][f]`: the token sequences (variants) of form `f` of span kind `k` (empty ones are ignored).
    public init(marks: Marks, forms: [[[[Int]]]], shapes: WordShapes? = nil) {
        precondition(forms.count == marks.opens.count && marks.unique.count == marks.opens.count, "one list of forms per opening mark")
        self.marks = marks
        tries = forms.map(SpanTrie.init(forms:))
        self.shapes = shapes
    }

    /// Each sequence its own form.
    public init(marks: Marks, sequences: [[[Int]]], shapes: WordShapes? = nil) {
        self.init(marks: marks, forms: sequences.map { $0.map { [$0] } }, shapes: shapes)
    }

    /// Applies the constraints to one row's scores, from its tokens `history[0..<length]` (the decoder
    /// start token first). Returns whether the row is inside a span (where no-repeat-n-gram does not apply).
    @inline(__always)
    func apply(_ scores: UnsafeMutablePointer<Float>, vocab: Int, history: UnsafePointer<Int>, length: Int, eos: Int?) -> Bool {
        let kinds = marks.opens.count
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: kinds) { used in
            used.initialize(repeating: 0)
            // One pass over the row: the open span and the trie node it has reached (-1: it left its trie),
            // the forms each kind's closed spans wrote, and whether the item was named.
            var open = -1, node = 0, cited = false
            var p = 1
            while p < length {
                let t = history[p]
                if t == marks.close {
                    if open >= 0 {
                        if open == marks.required { cited = true }
                        if node >= 0, tries[open].terminal[node] >= 0 { used[open] |= SpanTrie.bit(tries[open].terminal[node]) }
                    }
                    open = -1
                } else if let k = openKind(t) {
                    open = k
                    node = 0
                } else if open >= 0 && node >= 0 {
                    node = tries[open].child(of: node, token: t)
                }
                p += 1
            }
            if open >= 0 {
                let trie = tries[open]
                if node < 0 || trie.isEmpty {
                    // Not a prefix of any form (cannot happen under these constraints): only close the span.
                    for t in 0..<vocab where t != marks.close { scores[t] = -.infinity }
                } else {
                    trie.keepOnlyContinuations(of: node, close: marks.close, used: marks.unique[open] ? used[open] : 0,
                                               scores: scores, vocab: vocab)
                }
                return true
            }
            if marks.close >= 0 && marks.close < vocab { scores[marks.close] = -.infinity }
            for k in 0..<kinds {
                // A kind with no forms, or (written once) with every form written already, cannot open.
                let exhausted = tries[k].isEmpty || (marks.unique[k] && tries[k].forms[0] & ~(used[k] & ~SpanTrie.usable) == 0)
                let t = marks.opens[k]
                if exhausted && t >= 0 && t < vocab { scores[t] = -.infinity }
            }
            if let required = marks.required, !cited, !tries[required].isEmpty, let eos, eos >= 0, eos < vocab {
                scores[eos] = -.infinity
            }
            if let shapes, !Self.atSentenceStart(history: history, length: length, shapes: shapes) {
                for t in shapes.capitalised where t < vocab { scores[t] = -.infinity }
            }
            return false
        }
    }

    /// The span kind a token opens, if it is an opening mark.
    @inline(__always)
    func openKind(_ token: Int) -> Int? {
        for k in 0..<marks.opens.count where marks.opens[k] == token { return k }
        return nil
    }

    /// Whether the next word may be capitalised: no text token yet, or the last one ends a sentence.
    static func atSentenceStart(history: UnsafePointer<Int>, length: Int, shapes: WordShapes) -> Bool {
        var p = length - 1
        while p >= 1 {
            let t = history[p]
            if t >= 0 && t < shapes.ignored.count && !shapes.ignored[t] { return shapes.sentenceEnd[t] }
            p -= 1
        }
        return true
    }
}

/// A prefix trie of token-id sequences, flattened: node `n`'s children are `tokens[starts[n]..<starts[n + 1]]`
/// (ascending) leading to `targets[…]`; node 0 is the root. A sequence belongs to a form (its variants
/// share one): `terminal[n]` is the form a sequence ending at `n` writes (-1: none), `forms[n]` the bit set
/// of the forms below `n` (form `f` → bit `min(f, 63)`; bit 63 is never counted as used).
public struct SpanTrie: Sendable, Equatable {
    var starts: [Int]
    var tokens: [Int]
    var targets: [Int]
    var terminal: [Int]
    var forms: [UInt64]

    /// Each sequence its own form.
    public init(_ sequences: [[Int]]) {
        self.init(forms: sequences.map { [$0] })
    }

    /// `forms[f]`: the variants (token sequences) of form `f`.
    public init(forms variants: [[[Int]]]) {
        // Build with per-node child maps, then flatten breadth-first with sorted edges.
        var children: [[Int: Int]] = [[:]]
        var ends: [Int] = [-1]
        for (form, sequences) in variants.enumerated() {
            for sequence in sequences where !sequence.isEmpty {
                var node = 0
                for token in sequence {
                    if let next = children[node][token] {
                        node = next
                    } else {
                        children.append([:])
                        ends.append(-1)
                        children[node][token] = children.count - 1
                        node = children.count - 1
                    }
                }
                if ends[node] < 0 { ends[node] = form }
            }
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
                targets.append(index[child] ?? 0)
            }
            starts.append(tokens.count)
        }
        // Children come after their parent (breadth-first), so one backward pass fills the subtree sets.
        forms = terminal.map { $0 >= 0 ? Self.bit($0) : 0 }
        for n in stride(from: order.count - 1, through: 0, by: -1) {
            for e in starts[n]..<starts[n + 1] { forms[n] |= forms[targets[e]] }
        }
    }

    /// The bit of form `f`.
    @inline(__always)
    static func bit(_ f: Int) -> UInt64 { 1 << UInt64(min(f, 63)) }

    /// Bit 63 stands for every form from 63 on and is never taken as used.
    static let usable: UInt64 = 1 << 63

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

    /// Sets every score to −∞ except the tokens that continue towards a form not in `used`, and `close`
    /// when such a form ends at `node`. When every reachable form is used, `used` is ignored (the span
    /// still ends on a real form).
    @inline(__always)
    func keepOnlyContinuations(of node: Int, close: Int, used: UInt64, scores: UnsafeMutablePointer<Float>, vocab: Int) {
        let free = ~(used & ~Self.usable)
        let blocked = forms[node] & free == 0
        let mask = blocked ? ~UInt64(0) : free
        var e = starts[node]
        let end = starts[node + 1]
        let closing = terminal[node] >= 0 && Self.bit(terminal[node]) & mask != 0
        for t in 0..<vocab {
            while e < end && tokens[e] < t { e += 1 }
            if e < end && tokens[e] == t && forms[targets[e]] & mask != 0 { continue }
            if closing && t == close { continue }
            scores[t] = -.infinity
        }
    }
}
