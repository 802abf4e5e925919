/// The SentencePiece unigram model (T5, ALBERT, XLNet, …): each piece has a log-probability
/// and a word is segmented into the pieces with the highest total score (Viterbi).
final class UnigramModel: TokenizationModel {
    /// Penalty below the lowest piece score for a character no piece covers.
    private static let unknownPenalty = 10.0

    private let pieces: [String]
    private let scores: [Double]
    private let vocab: [ExactString: Int]
    private let trie: PieceTrie
    private let unkId: Int
    private let unknownScore: Double
    private let byteFallback: Bool

    init(_ node: JSONNode) throws(TokenizerError) {
        var pieces: [String] = [], scores: [Double] = []
        var vocab: [ExactString: Int] = [:]
        var trie = PieceTrie()
        for (id, entry) in try node["vocab"].array().enumerated() {
            let pair = try entry.array()
            guard pair.count == 2 else { throw .invalidField(path: entry.path, reason: "expected [piece, score]") }
            let piece = try pair[0].string()
            pieces.append(piece)
            scores.append(try pair[1].double())
            if vocab[exact: piece] == nil { vocab[exact: piece] = id }
            trie.insert(Array(piece.unicodeScalars), id: id)
        }
        guard !pieces.isEmpty else { throw .invalidField(path: node["vocab"].path, reason: "empty vocabulary") }
        let unkNode = node["unk_id"]
        guard let unkId = try unkNode.optionalInt() else {
            throw .missingField(path: unkNode.path)  // Hugging Face would fail on the first unknown character
        }
        guard pieces.indices.contains(unkId) else { throw .invalidField(path: unkNode.path, reason: "out of range") }
        self.pieces = pieces
        self.scores = scores
        self.vocab = vocab
        self.trie = trie
        self.unkId = unkId
        unknownScore = (scores.min() ?? 0) - Self.unknownPenalty
        byteFallback = try node["byte_fallback"].bool(default: false)
    }

    var vocabularySize: Int { pieces.count }
    var unknownTokenId: Int? { unkId }
    func tokenToId(_ token: String) -> Int? { vocab[exact: token] }
    func idToToken(_ id: Int) -> String? { pieces.indices.contains(id) ? pieces[id] : nil }

    func tokenize(_ word: [Unicode.Scalar], into ids: inout [Int]) {
        let count = word.count
        if count == 0 { return }
        // best[i]: the best segmentation of word[0..<i]: its score, last piece and where it starts.
        var bestScore = [Double](repeating: 0, count: count + 1)
        var bestId = [Int](repeating: -1, count: count + 1)
        var bestStart = [Int](repeating: -1, count: count + 1)
        for start in 0..<count where start == 0 || bestStart[start] >= 0 {
            let base = bestScore[start]
            var coversOne = false
            trie.forEachPrefix(of: word, from: start) { id, end in
                let score = base + scores[id]
                if bestStart[end] < 0 || score > bestScore[end] {
                    bestScore[end] = score
                    bestStart[end] = start
                    bestId[end] = id
                }
                if end == start + 1 { coversOne = true }
            }
            if !coversOne {
                let score = base + unknownScore
                if bestStart[start + 1] < 0 || score > bestScore[start + 1] {
                    bestScore[start + 1] = score
                    bestStart[start + 1] = start
                    bestId[start + 1] = unkId
                }
            }
        }
        // Walk back; consecutive unknown characters fuse into one unknown piece.
        var segments: [(id: Int, range: Range<Int>)] = []
        var end = count
        while end > 0 {
            let start = bestStart[end]
            let id = bestId[end]
            if id == unkId, let last = segments.last, last.id == unkId, last.range.lowerBound == end {
                segments[segments.count - 1] = (unkId, start..<last.range.upperBound)
            } else {
                segments.append((id, start..<end))
            }
            end = start
        }
        for segment in segments.reversed() {
            appendIds(for: segment, word: word, into: &ids)
        }
    }

    private func appendIds(for segment: (id: Int, range: Range<Int>), word: [Unicode.Scalar], into ids: inout [Int]) {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: word[segment.range])
        let text = String(view)
        if let id = vocab[exact: text] {
            ids.append(id)
            return
        }
        if byteFallback {
            let byteIds = text.utf8.map { vocab[exact: byteToken($0)] }
            if byteIds.allSatisfy({ $0 != nil }) {
                ids.append(contentsOf: byteIds.compactMap { $0 })
                return
            }
        }
        ids.append(unkId)
    }
}

/// A trie over the pieces' scalars, for finding every piece that starts at a position.
struct PieceTrie: Sendable {
    /// Child links: (node << 21 | scalar) → child node. Node 0 is the root.
    private var children: [Int: Int32] = [:]
    /// The piece id ending at each node, or -1.
    private var terminal: [Int32] = [-1]

    mutating func insert(_ piece: [Unicode.Scalar], id: Int) {
        guard !piece.isEmpty else { return }
        var node = 0
        for scalar in piece {
            let key = node << 21 | Int(scalar.value)
            if let child = children[key] {
                node = Int(child)
            } else {
                terminal.append(-1)
                let child = terminal.count - 1
                children[key] = Int32(child)
                node = child
            }
        }
        if terminal[node] < 0 { terminal[node] = Int32(id) }
    }

    /// Calls `body(id, end)` for each piece equal to `word[start..<end]`, shortest first.
    func forEachPrefix(of word: [Unicode.Scalar], from start: Int, _ body: (Int, Int) -> Void) {
        var node = 0
        var index = start
        while index < word.count, let child = children[node << 21 | Int(word[index].value)] {
            node = Int(child)
            index += 1
            if terminal[node] >= 0 { body(Int(terminal[node]), index) }
        }
    }
}
