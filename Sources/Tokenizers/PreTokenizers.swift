/// A piece of text on its way to the model.
struct PreToken {
    var scalars: [Unicode.Scalar]
    /// Whether the piece starts at the very beginning of the input (Metaspace's `first` scheme).
    var atStart: Bool
}

/// The second stage: splits each piece of (normalized) text into the words the model sees.
/// Parsed from the `pre_tokenizer` section.
protocol PreTokenizer: Sendable {
    /// Appends the pieces `piece` splits into to `output`; empty pieces are never appended.
    func split(_ piece: PreToken, into output: inout [PreToken])
}

/// Builds the pre-tokenizer described by `node` (`nil` for JSON `null`).
func makePreTokenizer(_ node: JSONNode) throws(TokenizerError) -> (any PreTokenizer)? {
    if node.isNull { return nil }
    switch try node.componentType() {
    case "Sequence":
        var steps: [any PreTokenizer] = []
        for child in try node["pretokenizers"].array() {
            if let step = try makePreTokenizer(child) { steps.append(step) }
        }
        return SequencePreTokenizer(steps: steps)
    case "ByteLevel":
        return ByteLevelPreTokenizer(addPrefixSpace: try node["add_prefix_space"].bool(default: true),
                                     useRegex: try node["use_regex"].bool(default: true))
    case "Metaspace": return try MetaspacePreTokenizer(node)
    case "WhitespaceSplit": return WhitespaceSplitPreTokenizer()
    case "Whitespace": return WhitespacePreTokenizer()
    case "BertPreTokenizer": return BertPreTokenizer()
    case "Split": return try SplitPreTokenizer(node)
    case "Digits": return DigitsPreTokenizer(individualDigits: try node["individual_digits"].bool(default: false))
    case let other: throw .unsupportedComponent(component: "pre_tokenizer", type: other)
    }
}

extension PreToken {
    /// The sub-piece `range` of this piece (it keeps `atStart` only when it starts at 0).
    func slice(_ range: Range<Int>) -> PreToken {
        PreToken(scalars: Array(scalars[range]), atStart: atStart && range.lowerBound == 0)
    }
}

struct SequencePreTokenizer: PreTokenizer {
    let steps: [any PreTokenizer]
    func split(_ piece: PreToken, into output: inout [PreToken]) {
        var pieces = [piece]
        for step in steps {
            var next: [PreToken] = []
            for piece in pieces { step.split(piece, into: &next) }
            pieces = next
        }
        output.append(contentsOf: pieces.filter { !$0.scalars.isEmpty })
    }
}

/// GPT-2 style: optional prefix space, the GPT-2 pattern, then every UTF-8 byte mapped to its
/// printable stand-in. (`trim_offsets` only affects offsets, which this module does not report.)
struct ByteLevelPreTokenizer: PreTokenizer {
    let addPrefixSpace: Bool
    let useRegex: Bool

    func split(_ piece: PreToken, into output: inout [PreToken]) {
        var text = piece.scalars
        if text.isEmpty { return }
        if addPrefixSpace, text[0] != " " { text.insert(" ", at: 0) }
        if !useRegex {
            output.append(PreToken(scalars: ByteLevelAlphabet.encode(text[...]), atStart: piece.atStart))
            return
        }
        for range in GPT2Splitter.split(text) {
            output.append(PreToken(scalars: ByteLevelAlphabet.encode(text[range]),
                                   atStart: piece.atStart && range.lowerBound == 0))
        }
    }
}

/// Splits on White_Space, dropping it.
struct WhitespaceSplitPreTokenizer: PreTokenizer {
    func split(_ piece: PreToken, into output: inout [PreToken]) {
        splitRuns(piece, into: &output) { $0.isSpace ? nil : 0 }
    }
}

/// `\w+|[^\w\s]+`: runs of word characters and runs of other non-space characters.
struct WhitespacePreTokenizer: PreTokenizer {
    func split(_ piece: PreToken, into output: inout [PreToken]) {
        splitRuns(piece, into: &output) { $0.isSpace ? nil : ($0.isWordCharacter ? 0 : 1) }
    }
}

/// BERT: splits on White_Space (dropped) and isolates every punctuation character.
struct BertPreTokenizer: PreTokenizer {
    func split(_ piece: PreToken, into output: inout [PreToken]) {
        var counter = 1
        splitRuns(piece, into: &output) { scalar in
            if scalar.isSpace { return nil }
            if Self.isPunctuation(scalar) {
                counter += 1
                return counter  // a fresh class each time: never joins a run
            }
            return 0
        }
    }

    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 33...47, 58...64, 91...96, 123...126: return true
        default: break
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }
}

/// Splits `piece` into maximal runs of scalars with the same class; scalars whose class is
/// `nil` separate runs and are dropped.
private func splitRuns(_ piece: PreToken, into output: inout [PreToken], classOf: (Unicode.Scalar) -> Int?) {
    let text = piece.scalars
    var start = 0
    var current: Int? = nil
    for (index, scalar) in text.enumerated() {
        let cls = classOf(scalar)
        if cls != current || cls == nil {
            if let current, current >= 0, start < index { output.append(piece.slice(start..<index)) }
            start = index
            current = cls
        }
    }
    if current != nil, start < text.count { output.append(piece.slice(start..<text.count)) }
}
