import Synchronization

/// Byte-pair encoding (GPT-2, RoBERTa, BART, …): a word starts as single characters, then the
/// adjacent pair with the lowest merge rank is merged, repeatedly, until no known pair is left.
final class BPEModel: TokenizationModel {
    private let vocab: [ExactString: Int]
    private let tokens: [String?]
    /// Single-scalar tokens, for the common first step of every word.
    private let scalarIds: [Unicode.Scalar: Int]
    private let merges: MergeTable
    private let unkId: Int?
    private let continuingSubwordPrefix: String?
    private let endOfWordSuffix: String?
    private let fuseUnknown: Bool
    private let byteFallback: Bool
    private let ignoreMerges: Bool
    private let cache = WordCache()

    init(_ node: JSONNode) throws(TokenizerError) {
        (vocab, tokens) = try readVocabulary(node["vocab"])
        var scalarIds: [Unicode.Scalar: Int] = [:]
        for (token, id) in vocab where token.string.utf8.count <= 4 {
            var scalars = token.string.unicodeScalars.makeIterator()
            if let scalar = scalars.next(), scalars.next() == nil { scalarIds[scalar] = id }
        }
        self.scalarIds = scalarIds
        if let dropout = try? node["dropout"].double(), dropout > 0 {
            throw .invalidField(path: node["dropout"].path, reason: "BPE dropout is random; only null or 0 is supported")
        }
        if let unk = try node["unk_token"].optionalString() {
            guard let id = vocab[exact: unk] else { throw .unknownToken(unk, context: "model.unk_token") }
            unkId = id
        } else {
            unkId = nil
        }
        continuingSubwordPrefix = try node["continuing_subword_prefix"].optionalString()
        endOfWordSuffix = try node["end_of_word_suffix"].optionalString()
        fuseUnknown = try node["fuse_unk"].bool(default: false)
        byteFallback = try node["byte_fallback"].bool(default: false)
        ignoreMerges = try node["ignore_merges"].bool(default: false)
        merges = try MergeTable(node["merges"], vocab: vocab, prefix: continuingSubwordPrefix)
    }

    var vocabularySize: Int { vocab.count }
    var unknownTokenId: Int? { unkId }
    func tokenToId(_ token: String) -> Int? { vocab[exact: token] }
    func idToToken(_ id: Int) -> String? { id >= 0 && id < tokens.count ? tokens[id] : nil }

    func tokenize(_ word: [Unicode.Scalar], into ids: inout [Int]) {
        if word.isEmpty { return }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: word)
        let key = String(view)
        if ignoreMerges, let id = vocab[exact: key] {
            ids.append(id)
            return
        }
        if let cached = cache.lookup(key) {
            ids.append(contentsOf: cached)
            return
        }
        var symbols = initialSymbols(word)
        merges.mergeAll(&symbols)
        cache.store(key, symbols)
        ids.append(contentsOf: symbols)
    }

    /// The word as one id per character (with prefix/suffix, unknown and byte fallback handling).
    private func initialSymbols(_ word: [Unicode.Scalar]) -> [Int] {
        var symbols: [Int] = []
        symbols.reserveCapacity(word.count)
        var pendingUnknown = false
        let plain = continuingSubwordPrefix == nil && endOfWordSuffix == nil
        for (index, scalar) in word.enumerated() {
            let id: Int?
            var piece = String(scalar)
            if plain {
                id = scalarIds[scalar]
            } else {
                if index > 0, let prefix = continuingSubwordPrefix { piece = prefix + piece }
                if index == word.count - 1, let suffix = endOfWordSuffix { piece += suffix }
                id = vocab[exact: piece]
            }
            if let id {
                if pendingUnknown, let unkId { symbols.append(unkId) }
                pendingUnknown = false
                symbols.append(id)
                continue
            }
            if byteFallback {
                let byteIds = piece.utf8.map { vocab[exact: byteToken($0)] }
                if byteIds.allSatisfy({ $0 != nil }) {
                    symbols.append(contentsOf: byteIds.compactMap { $0 })
                    continue
                }
            }
            guard let unkId else { continue }  // no unknown token: the character is dropped
            if pendingUnknown && !fuseUnknown { symbols.append(unkId) }
            pendingUnknown = true
        }
        if pendingUnknown, let unkId { symbols.append(unkId) }
        return symbols
    }
}

/// The `<0xXX>` token for a byte.
func byteToken(_ byte: UInt8) -> String {
    let hex = String(byte, radix: 16, uppercase: true)
    return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
}

/// A bounded, thread-safe cache of word → ids, keyed by the word's exact scalars (a precomposed and a
/// decomposed spelling are different words with different ids).
final class WordCache: Sendable {
    private static let capacity = 10_000
    private let storage = Mutex<[ExactString: [Int]]>([:])

    func lookup(_ word: String) -> [Int]? {
        storage.withLock { $0[exact: word] }
    }

    func store(_ word: String, _ ids: [Int]) {
        storage.withLock { cache in
            if cache.count >= Self.capacity { cache.removeAll(keepingCapacity: true) }
            cache[exact: word] = ids
        }
    }
}
