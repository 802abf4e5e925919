/// The Unicode character classes the Hugging Face regular expressions use, on scalars.
extension Unicode.Scalar {
    /// `\s`: the Unicode White_Space property (what Oniguruma and Rust's `regex` use).
    var isSpace: Bool { properties.isWhitespace }

    /// `\p{L}`: any letter (Lu, Ll, Lt, Lm, Lo).
    var isLetter: Bool {
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    /// `\p{N}`: any number (Nd, Nl, No).
    var isNumber: Bool {
        switch properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// `\w` as in Rust's `regex` crate: Alphabetic, marks, decimal digits, connector
    /// punctuation and the join controls.
    var isWordCharacter: Bool {
        let props = properties
        if props.isAlphabetic || props.isJoinControl { return true }
        switch props.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }
}
