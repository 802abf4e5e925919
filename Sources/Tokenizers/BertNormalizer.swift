/// BERT's normalizer, in Hugging Face's order: clean the text (drop NUL, U+FFFD and every character of
/// Unicode category C except tab, newline and carriage return; every White_Space character becomes a
/// space), put spaces around CJK ideographs, strip accents (NFD, then nonspacing marks dropped; by
/// default exactly when lowercasing), lowercase.
struct BertNormalizer: Normalizer {
    let cleanText: Bool
    let handleChineseChars: Bool
    let stripAccents: Bool
    let lowercase: Bool

    init(_ node: JSONNode) throws(TokenizerError) {
        cleanText = try node["clean_text"].bool(default: true)
        handleChineseChars = try node["handle_chinese_chars"].bool(default: true)
        lowercase = try node["lowercase"].bool(default: true)
        stripAccents = try node["strip_accents"].bool(default: lowercase)
    }

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out = text
        if cleanText {
            out = out.compactMap { scalar in
                if scalar.value == 0 || scalar.value == 0xFFFD || Self.isOther(scalar) { return nil }
                return scalar.isSpace ? " " : scalar
            }
        }
        if handleChineseChars {
            var spaced: [Unicode.Scalar] = []
            spaced.reserveCapacity(out.count)
            for scalar in out {
                if Self.isChineseCharacter(scalar) {
                    spaced += [" ", scalar, " "]
                } else {
                    spaced.append(scalar)
                }
            }
            out = spaced
        }
        if stripAccents {
            out = StripAccentsNormalizer().normalize(UnicodeFormNormalizer(form: .nfd).normalize(out))
        }
        if lowercase { out = LowercaseNormalizer().normalize(out) }
        return out
    }

    /// Unicode category C (control, format, surrogate, private use, unassigned), except the three
    /// controls BERT counts as whitespace.
    static func isOther(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\t", "\n", "\r": return false
        default: break
        }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT pads with spaces (not Hangul, Hiragana or Katakana).
    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
