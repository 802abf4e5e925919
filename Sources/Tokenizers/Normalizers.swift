import Foundation

/// The first stage of the pipeline: rewrites text before added tokens (marked `normalized`)
/// are matched and before pre-tokenization. Parsed from the `normalizer` section.
protocol Normalizer: Sendable {
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar]
}

/// Builds the normalizer described by `node` (`nil` for JSON `null`).
func makeNormalizer(_ node: JSONNode) throws(TokenizerError) -> (any Normalizer)? {
    if node.isNull { return nil }
    switch try node.componentType() {
    case "Sequence":
        var steps: [any Normalizer] = []
        for child in try node["normalizers"].array() {
            if let step = try makeNormalizer(child) { steps.append(step) }
        }
        return SequenceNormalizer(steps: steps)
    case "NFC": return UnicodeFormNormalizer(form: .nfc)
    case "NFD": return UnicodeFormNormalizer(form: .nfd)
    case "NFKC": return UnicodeFormNormalizer(form: .nfkc)
    case "NFKD": return UnicodeFormNormalizer(form: .nfkd)
    case "Lowercase": return LowercaseNormalizer()
    case "Nmt": return NmtNormalizer()
    case "StripAccents": return StripAccentsNormalizer()
    case "Strip":
        return StripNormalizer(left: try node["strip_left"].bool(default: true),
                               right: try node["strip_right"].bool(default: true))
    case "Prepend": return PrependNormalizer(prefix: Array(try node["prepend"].string().unicodeScalars))
    case "Replace": return try ReplaceNormalizer(node)
    case "Precompiled": return try PrecompiledNormalizer(node)
    case "BertNormalizer": return try BertNormalizer(node)
    case let other: throw .unsupportedComponent(component: "normalizer", type: other)
    }
}

struct SequenceNormalizer: Normalizer {
    let steps: [any Normalizer]
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        steps.reduce(text) { $1.normalize($0) }
    }
}

/// NFC, NFD, NFKC or NFKD (via Foundation).
struct UnicodeFormNormalizer: Normalizer {
    enum Form { case nfc, nfd, nfkc, nfkd }
    let form: Form

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        if text.allSatisfy({ $0.isASCII }) { return text }
        var string = String.UnicodeScalarView()
        string.append(contentsOf: text)
        let source = String(string)
        let result: String
        switch form {
        case .nfc: result = source.precomposedStringWithCanonicalMapping
        case .nfd: result = source.decomposedStringWithCanonicalMapping
        case .nfkc: result = source.precomposedStringWithCompatibilityMapping
        case .nfkd: result = source.decomposedStringWithCompatibilityMapping
        }
        return Array(result.unicodeScalars)
    }
}

/// Full Unicode lowercasing, scalar by scalar (like Rust's `char::to_lowercase`: no
/// context rules, so a word-final Σ becomes σ, not ς).
struct LowercaseNormalizer: Normalizer {
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for scalar in text {
            if scalar.isASCII {
                out.append(scalar.properties.isUppercase ? Unicode.Scalar(scalar.value + 32) ?? scalar : scalar)
            } else {
                out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }
}

/// The SentencePiece "nmt" cleanup: drops control characters and maps a few others to a space.
struct NmtNormalizer: Normalizer {
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for scalar in text {
            switch scalar.value {
            case 0x01...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x8F, 0x9F:
                continue
            case 0x09, 0x0A, 0x0C, 0x0D, 0x1680, 0x200B...0x200F, 0x2028, 0x2029, 0x2581, 0xFEFF, 0xFFFD:
                out.append(" ")
            default:
                out.append(scalar)
            }
        }
        return out
    }
}

/// Removes combining marks (use after NFD).
struct StripAccentsNormalizer: Normalizer {
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        text.filter { $0.properties.generalCategory != .nonspacingMark }
    }
}

/// Trims White_Space on the left and/or right.
struct StripNormalizer: Normalizer {
    let left: Bool
    let right: Bool
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var start = 0, end = text.count
        if left { while start < end, text[start].isSpace { start += 1 } }
        if right { while end > start, text[end - 1].isSpace { end -= 1 } }
        return Array(text[start..<end])
    }
}

/// Prepends a fixed string to non-empty text.
struct PrependNormalizer: Normalizer {
    let prefix: [Unicode.Scalar]
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        text.isEmpty ? text : prefix + text
    }
}
