/// The core stage: turns one pre-tokenized word into token ids. Parsed from the `model` section.
protocol TokenizationModel: Sendable {
    /// Appends the ids for `word` (never empty) to `ids`.
    func tokenize(_ word: [Unicode.Scalar], into ids: inout [Int])
    func tokenToId(_ token: String) -> Int?
    func idToToken(_ id: Int) -> String?
    /// The number of entries in the model's own vocabulary (added tokens not included).
    var vocabularySize: Int { get }
    /// The id used for text the model cannot represent, if any.
    var unknownTokenId: Int? { get }
}

/// Builds the model described by `node`.
func makeModel(_ node: JSONNode) throws(TokenizerError) -> any TokenizationModel {
    if node.isNull { throw .missingField(path: node.path) }
    // Very old files have no `type` for BPE models; recognise them by their merges.
    let type = try node["type"].optionalString() ?? (node["merges"].isNull ? "" : "BPE")
    switch type {
    case "BPE": return try BPEModel(node)
    case "Unigram": return try UnigramModel(node)
    case "WordPiece": return try WordPieceModel(node)
    case "": throw .missingField(path: node["type"].path)
    default: throw .unsupportedComponent(component: "model", type: type)
    }
}

/// Reads a `{token: id}` vocabulary object, checking that ids are non-negative. Tokens are keyed by
/// their exact scalars (`ExactString`): canonically equivalent tokens keep their own ids.
func readVocabulary(_ node: JSONNode) throws(TokenizerError) -> (ids: [ExactString: Int], tokens: [String?]) {
    var ids: [ExactString: Int] = [:]
    var maxId = -1
    let members = try node.members()
    ids.reserveCapacity(members.count)
    for (token, entry) in members {
        let id: Int
        if let int = entry.value as? Int { id = int } else { id = try entry.int() }
        guard id >= 0 else { throw .invalidField(path: entry.path, reason: "negative id") }
        ids[exact: token] = id
        maxId = max(maxId, id)
    }
    guard maxId < 16 * max(members.count, 1024) else {
        throw .invalidField(path: node.path, reason: "ids are far larger than the vocabulary")
    }
    var tokens = [String?](repeating: nil, count: maxId + 1)
    for (token, id) in ids {
        tokens[id] = token.string
    }
    return (ids, tokens)
}
