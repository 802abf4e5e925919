/// The last stage of decoding: turns token strings back into text. Parsed from the `decoder`
/// section. Like Hugging Face, a decoder maps the list of tokens to a list of strings, which
/// the tokenizer then concatenates.
protocol TokenDecoder: Sendable {
    func decodeChain(_ tokens: [String]) -> [String]
}

/// Builds the decoder described by `node` (`nil` for JSON `null`).
func makeDecoder(_ node: JSONNode) throws(TokenizerError) -> (any TokenDecoder)? {
    if node.isNull { return nil }
    switch try node.componentType() {
    case "Sequence":
        var steps: [any TokenDecoder] = []
        for child in try node["decoders"].array() {
            if let step = try makeDecoder(child) { steps.append(step) }
        }
        return SequenceDecoder(steps: steps)
    case "ByteLevel": return ByteLevelDecoder()
    case "Metaspace": return try MetaspaceDecoder(node)
    case "ByteFallback": return ByteFallbackDecoder()
    case "Fuse": return FuseDecoder()
    case "Strip":
        let content = try node["content"].string().unicodeScalars
        guard content.count == 1, let scalar = content.first else {
            throw .invalidField(path: node["content"].path, reason: "expected a single character")
        }
        return StripDecoder(content: scalar, start: try node["start"].int(), stop: try node["stop"].int())
    case "Replace": return ReplaceDecoder(replace: try ReplaceNormalizer(node))
    case "WordPiece":
        return WordPieceDecoder(prefix: try node["prefix"].optionalString() ?? "##", cleanup: try node["cleanup"].bool(default: true))
    case let other: throw .unsupportedComponent(component: "decoder", type: other)
    }
}

struct SequenceDecoder: TokenDecoder {
    let steps: [any TokenDecoder]
    func decodeChain(_ tokens: [String]) -> [String] {
        steps.reduce(tokens) { $1.decodeChain($0) }
    }
}

/// Maps byte-level stand-ins back to bytes and decodes them as UTF-8 (invalid sequences become
/// U+FFFD). A token with any scalar outside the byte alphabet contributes its own UTF-8 bytes.
struct ByteLevelDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] {
        var bytes: [UInt8] = []
        for token in tokens {
            let start = bytes.count
            for scalar in token.unicodeScalars {
                guard let byte = ByteLevelAlphabet.bytes[scalar.value] else {
                    bytes.removeSubrange(start...)
                    bytes.append(contentsOf: token.utf8)
                    break
                }
                bytes.append(byte)
            }
        }
        return [String(decoding: bytes, as: UTF8.self)]
    }
}

/// Turns runs of `<0xXX>` tokens into the text their bytes encode; a run that is not valid
/// UTF-8 becomes one U+FFFD per byte.
struct ByteFallbackDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] {
        var out: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let text = String(validating: pending, as: UTF8.self) {
                out.append(text)
            } else {
                out.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
            }
            pending.removeAll()
        }
        for token in tokens {
            let utf8 = Array(token.utf8)
            if utf8.count == 6, token.hasPrefix("<0x"), token.hasSuffix(">"),
               let byte = UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16) {
                pending.append(byte)
            } else {
                flush()
                out.append(token)
            }
        }
        flush()
        return out
    }
}

/// Joins all tokens into one.
struct FuseDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] { [tokens.joined()] }
}

/// Removes up to `start` leading and `stop` trailing occurrences of `content` from each token.
struct StripDecoder: TokenDecoder {
    let content: Unicode.Scalar
    let start: Int
    let stop: Int

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { token in
            let scalars = Array(token.unicodeScalars)
            var lower = 0
            while lower < min(start, scalars.count), scalars[lower] == content { lower += 1 }
            var upper = scalars.count
            while scalars.count - upper < stop, upper > lower, scalars[upper - 1] == content { upper -= 1 }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[lower..<upper])
            return String(view)
        }
    }
}

/// Applies a Replace (literal or regex) to each token.
struct ReplaceDecoder: TokenDecoder {
    let replace: ReplaceNormalizer
    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { token in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: replace.normalize(Array(token.unicodeScalars)))
            return String(view)
        }
    }
}
