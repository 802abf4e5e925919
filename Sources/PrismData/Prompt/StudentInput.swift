/// The text the small student model reads for a (history, recommended item) pair.
///
/// Exact format (one definition; `Sources/PrismData/INPUT_FORMAT.md` spells it out for Python):
///
///     History: <item> | <item> | ... | <item>
///     Recommended: <item>
///
/// - Two lines joined by a single "\n", no trailing newline.
/// - History items oldest → newest, rendered by `ItemRenderer` (default limits: 3 genres,
///   2 directors, 3 actors), separated by " | ". No history renders as "History: (none)".
/// - With a budget, the oldest history items are dropped whole until the complete text's length
///   is within it (see `fitHistory`).
///
/// Example:
///
///     History: Toy Story (1995; Animation, Children's, Comedy; dir. John Lasseter; with Tom Hanks, Tim Allen, Don Rickles) | Heat (1995; Action, Crime, Thriller; dir. Michael Mann; with Al Pacino, Robert De Niro, Val Kilmer)
///     Recommended: Casino (1995; Crime, Drama; dir. Martin Scorsese; with Robert De Niro, Sharon Stone, Joe Pesci)
public struct StudentInputRenderer: Sendable {
    public var renderer: ItemRenderer
    /// The student's input budget in units of `length`; nil for no limit.
    public var budget: Int?
    public var length: TextLength

    public static let historyPrefix = "History: "
    public static let itemPrefix = "Recommended: "

    public init(renderer: ItemRenderer = ItemRenderer(), budget: Int? = nil, length: TextLength = .characters) {
        self.renderer = renderer
        self.budget = budget
        self.length = length
    }

    /// The student input for explicit items (history oldest first).
    public func render(history: [CatalogItem], item: CatalogItem) -> FittedText {
        let rendered = history.map(renderer.render)
        let target = renderer.render(item)
        return fitHistory(count: rendered.count, budget: budget, length: length) { dropped in
            let kept = rendered[dropped...]
            let historyText = kept.isEmpty
                ? OraclePromptBuilder.emptyHistory : kept.joined(separator: OraclePromptBuilder.historySeparator)
            return Self.historyPrefix + historyText + "\n" + Self.itemPrefix + target
        }
    }

    /// The student input for a sample, items looked up in the catalog.
    public func render(_ sample: Sample, catalog: ItemCatalog) -> FittedText {
        render(history: sample.history.map(catalog.itemOrPlaceholder), item: catalog.itemOrPlaceholder(sample.itemID))
    }
}
