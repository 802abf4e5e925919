/// Renders the Oracle (teacher) prompt for a (history, recommended item) pair.
///
/// The history is rendered oldest → newest with `ItemRenderer`, items separated by " | ", and fills
/// `{history}`; the recommended item fills `{item_to_explain}`. An empty history renders as "(none)".
/// When a `budget` is set, the oldest history items are dropped — whole items, never part of one —
/// until the complete prompt's `length` is within the budget.
public struct OraclePromptBuilder: Sendable {
    /// The template; the paper's prompt by default.
    public var template: PromptTemplate
    /// How each item is rendered.
    public var renderer: ItemRenderer
    /// The teacher's input budget in units of `length`; nil for no limit.
    public var budget: Int?
    /// How text length is measured (characters unless a tokenizer is plugged in).
    public var length: TextLength

    /// Separator between history items.
    public static let historySeparator = " | "
    /// What `{history}` becomes when no history item is kept.
    public static let emptyHistory = "(none)"

    public init(template: PromptTemplate = .oracleDefault, renderer: ItemRenderer = ItemRenderer(),
                budget: Int? = nil, length: TextLength = .characters) {
        self.template = template
        self.renderer = renderer
        self.budget = budget
        self.length = length
    }

    /// The prompt for explicit items (history oldest first).
    public func render(history: [CatalogItem], item: CatalogItem) -> FittedText {
        let rendered = history.map(renderer.render)
        let target = renderer.render(item)
        return fitHistory(count: rendered.count, budget: budget, length: length) { dropped in
            let kept = rendered[dropped...]
            let historyText = kept.isEmpty ? Self.emptyHistory : kept.joined(separator: Self.historySeparator)
            return template.fill(history: historyText, item: target)
        }
    }

    /// The prompt for a sample, items looked up in the catalog.
    public func render(_ sample: Sample, catalog: ItemCatalog) -> FittedText {
        render(history: sample.history.map(catalog.itemOrPlaceholder), item: catalog.itemOrPlaceholder(sample.itemID))
    }
}
