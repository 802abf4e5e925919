/// A string that is equal to another only when their Unicode scalars are the same, in the same order.
///
/// Swift's `String` equality is canonical equivalence: ";" equals U+037E GREEK QUESTION MARK, and
/// "na\u{EF}ve" equals "nai\u{308}ve". A vocabulary keyed on `String` therefore merges tokens that a
/// tokenizer must keep apart (Gemma-3's 262k vocabulary has both semicolons), and a cache keyed on it
/// answers one form with the other's ids. Every table that maps token text to ids uses this key.
struct ExactString: Hashable, Sendable {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        var left = lhs.string, right = rhs.string
        guard left.utf8.count == right.utf8.count else { return false }
        return left.withUTF8 { a in right.withUTF8 { b in a.elementsEqual(b) } }
    }

    func hash(into hasher: inout Hasher) {
        var text = string
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

extension Dictionary where Key == ExactString {
    /// The value for exactly this text (no canonical equivalence).
    subscript(exact text: String) -> Value? {
        get { self[ExactString(text)] }
        set { self[ExactString(text)] = newValue }
    }
}
