/// The stage after the model: adds special tokens around an encoded sequence (only when the
/// caller asks for special tokens). Parsed from the `post_processor` section.
protocol PostProcessor: Sendable {
    /// `ids` with the special tokens for a single sequence added.
    func process(_ ids: [Int]) -> [Int]
    /// How many ids `process` adds; truncation keeps room for them.
    var addedCount: Int { get }
    /// The special token placed first (for `bos`), if any.
    var leadingTokenId: Int? { get }
    /// The special token placed last (for `eos`), if any.
    var trailingTokenId: Int? { get }
}

/// Builds the post-processor described by `node` (`nil` for JSON `null`).
func makePostProcessor(_ node: JSONNode) throws(TokenizerError) -> (any PostProcessor)? {
    if node.isNull { return nil }
    switch try node.componentType() {
    case "RobertaProcessing", "BertProcessing":
        // `cls` and `sep` are [token, id] pairs. (`trim_offsets`/`add_prefix_space` only move offsets.)
        return WrapProcessor(first: try tokenPairId(node["cls"]), last: try tokenPairId(node["sep"]))
    case "TemplateProcessing": return try TemplateProcessor(node)
    case "ByteLevel": return SequenceProcessor(steps: [])  // offsets only
    case "Sequence":
        var steps: [any PostProcessor] = []
        for child in try node["processors"].array() {
            if let step = try makePostProcessor(child) { steps.append(step) }
        }
        return SequenceProcessor(steps: steps)
    case let other: throw .unsupportedComponent(component: "post_processor", type: other)
    }
}

private func tokenPairId(_ node: JSONNode) throws(TokenizerError) -> Int {
    let pair = try node.array()
    guard pair.count == 2 else { throw .invalidField(path: node.path, reason: "expected [token, id]") }
    return try pair[1].int()
}

/// `first A last` (RoBERTa: `<s> A </s>`, BERT: `[CLS] A [SEP]`).
struct WrapProcessor: PostProcessor {
    let first: Int
    let last: Int
    func process(_ ids: [Int]) -> [Int] { [first] + ids + [last] }
    var addedCount: Int { 2 }
    var leadingTokenId: Int? { first }
    var trailingTokenId: Int? { last }
}

/// A template such as `$A </s>` (T5) or `<s> $A </s>`, for single sequences.
struct TemplateProcessor: PostProcessor {
    private enum Item { case sequence, special([Int]) }
    private let items: [Item]

    init(_ node: JSONNode) throws(TokenizerError) {
        var specials: [ExactString: [Int]] = [:]
        let specialsNode = node["special_tokens"]
        if !specialsNode.isNull {
            for (name, entry) in try specialsNode.members() {
                specials[exact: name] = try entry["ids"].array().map { (idNode) throws(TokenizerError) in try idNode.int() }
            }
        }
        var items: [Item] = []
        for piece in try node["single"].array() {
            if !piece["Sequence"].isNull {
                items.append(.sequence)
            } else if !piece["SpecialToken"].isNull {
                let name = try piece["SpecialToken"]["id"].string()
                guard let ids = specials[exact: name] else {
                    throw .unknownToken(name, context: "\(piece.path) (not in special_tokens)")
                }
                items.append(.special(ids))
            } else {
                throw .invalidField(path: piece.path, reason: "expected a Sequence or a SpecialToken")
            }
        }
        self.items = items
    }

    func process(_ ids: [Int]) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(ids.count + addedCount)
        for item in items {
            switch item {
            case .sequence: out.append(contentsOf: ids)
            case let .special(special): out.append(contentsOf: special)
            }
        }
        return out
    }

    var addedCount: Int {
        items.reduce(0) { total, item in
            if case let .special(ids) = item { return total + ids.count }
            return total
        }
    }

    var leadingTokenId: Int? {
        if case let .special(ids)? = items.first { return ids.first }
        return nil
    }

    var trailingTokenId: Int? {
        if case let .special(ids)? = items.last { return ids.last }
        return nil
    }
}

/// Applies several post-processors in turn.
struct SequenceProcessor: PostProcessor {
    let steps: [any PostProcessor]
    func process(_ ids: [Int]) -> [Int] { steps.reduce(ids) { $1.process($0) } }
    var addedCount: Int { steps.reduce(0) { $0 + $1.addedCount } }
    var leadingTokenId: Int? { steps.lazy.compactMap(\.leadingTokenId).last }
    var trailingTokenId: Int? { steps.lazy.compactMap(\.trailingTokenId).last }
}
