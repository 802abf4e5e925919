/// The `pattern` of a Replace or Split component: `{"String": …}` matched literally on scalars, or
/// `{"Regex": …}` compiled once, at load, with Swift's `Regex` in scalar semantics (the simple patterns
/// found in tokenizer files, such as `" {2,}"`, behave as in Hugging Face's Oniguruma; exotic syntax may not).
struct TextPattern: @unchecked Sendable {
    // `Regex` holds no shared mutable state; it is only read after construction.
    enum Kind {
        case literal([Unicode.Scalar])
        case regex(Regex<AnyRegexOutput>)
    }

    let kind: Kind

    init(_ node: JSONNode) throws(TokenizerError) {
        if let literal = try node["String"].optionalString() {
            kind = .literal(Array(literal.unicodeScalars))
        } else if let source = try node["Regex"].optionalString() {
            do {
                kind = .regex(try Regex(source).matchingSemantics(.unicodeScalar))
            } catch {
                throw .invalidField(path: node.path + ".Regex", reason: "unsupported regular expression")
            }
        } else {
            throw .missingField(path: node.path + ".String")
        }
    }

    /// The non-overlapping matches in `text`, left to right, as scalar ranges.
    func matches(in text: [Unicode.Scalar]) -> [Range<Int>] {
        var found: [Range<Int>] = []
        switch kind {
        case .literal(let needle):
            guard !needle.isEmpty else { return [] }
            var i = 0
            while i + needle.count <= text.count {
                if text[i..<(i + needle.count)].elementsEqual(needle) {
                    found.append(i..<(i + needle.count))
                    i += needle.count
                } else {
                    i += 1
                }
            }
        case .regex(let regex):
            var view = String.UnicodeScalarView()
            view.append(contentsOf: text)
            let string = String(view)
            let scalars = string.unicodeScalars
            for match in string.matches(of: regex) {
                let lower = scalars.distance(from: scalars.startIndex, to: match.range.lowerBound)
                found.append(lower..<(lower + scalars.distance(from: match.range.lowerBound, to: match.range.upperBound)))
            }
        }
        return found
    }
}
