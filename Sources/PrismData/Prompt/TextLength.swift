/// A pluggable measure of text length, used to fit prompts into a budget.
///
/// Use `.characters` (Unicode scalars, which is what Python's `len(str)` counts) when no tokenizer
/// is loaded, or wrap the teacher's tokenizer: `TextLength(name: "tokens") { tokenizer.encode($0).count }`.
public struct TextLength: Sendable {
    /// A label for logs ("characters", "tokens").
    public let name: String
    private let measure: @Sendable (String) -> Int

    public init(name: String, _ measure: @escaping @Sendable (String) -> Int) {
        self.name = name
        self.measure = measure
    }

    /// Length in Unicode scalars.
    public static let characters = TextLength(name: "characters") { $0.unicodeScalars.count }

    /// The length of `text`.
    public func callAsFunction(_ text: String) -> Int { measure(text) }
}

/// The outcome of fitting a history into a budget.
public struct FittedText: Sendable, Hashable {
    /// The rendered text.
    public var text: String
    /// How many history items it contains (the most recent ones).
    public var keptHistory: Int
    /// How many of the oldest history items were dropped.
    public var droppedHistory: Int
    /// The text's length by the measure used.
    public var length: Int
    /// False only when even the text with no history exceeds the budget.
    public var fitsBudget: Bool
}

/// Drops the oldest history items, whole, until `compose(d)` — the text with the first `d` of
/// `count` items dropped — fits `budget` by `length`. With no budget nothing is dropped.
///
/// Checks the full history first (one measurement in the common case), then binary-searches the
/// smallest drop that fits, assuming length does not grow as items are removed. The returned text is
/// always one that was measured. If even dropping everything does not fit, returns the empty-history
/// text with `fitsBudget == false`.
func fitHistory(count: Int, budget: Int?, length: TextLength, compose: (Int) -> String) -> FittedText {
    func result(_ dropped: Int, _ text: String, _ len: Int, _ fits: Bool) -> FittedText {
        FittedText(text: text, keptHistory: count - dropped, droppedHistory: dropped, length: len, fitsBudget: fits)
    }
    let full = compose(0)
    let fullLength = length(full)
    guard let budget, fullLength > budget else { return result(0, full, fullLength, true) }
    let empty = compose(count)
    let emptyLength = length(empty)
    guard emptyLength <= budget, count > 0 else { return result(count, empty, emptyLength, emptyLength <= budget) }
    // Invariant: dropping `hi` fits (text known), dropping `lo` does not.
    var lo = 0, hi = count
    var best = (text: empty, length: emptyLength)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2
        let text = compose(mid)
        let len = length(text)
        if len <= budget {
            hi = mid
            best = (text, len)
        } else {
            lo = mid
        }
    }
    return result(hi, best.text, best.length, true)
}
