import PrismWire
import PrismData
import PrismTeacher

/// Turns prepared samples into teacher prompts: the Oracle prompt text plus the same sample as
/// structured facts (the history items the prompt kept, and the recommended item).
public struct PromptPlanner: Sendable {
    public let builder: OraclePromptBuilder
    public let catalog: ItemCatalog

    public init(builder: OraclePromptBuilder = OraclePromptBuilder(), catalog: ItemCatalog) {
        self.builder = builder
        self.catalog = catalog
    }

    public func prompt(for sample: Sample) -> TeacherPrompt {
        let fitted = builder.render(sample, catalog: catalog)
        var prompt = TeacherPrompt()
        prompt.sampleID = sample.sampleID
        prompt.userID = sample.userID
        prompt.prompt = fitted.text
        // The prompt drops the oldest items to fit its budget; the facts show what it shows.
        prompt.history = sample.history.suffix(fitted.keptHistory).map { ItemFacts(catalog.itemOrPlaceholder($0)) }
        prompt.item = ItemFacts(catalog.itemOrPlaceholder(sample.itemID))
        return prompt
    }
}

extension Decoding {
    /// The canonical form stored with every result (part of its key).
    public var fingerprint: String {
        "max_new_tokens=\(maxNewTokens);temperature=\(temperature);top_p=\(topP);num_beams=\(numBeams);seed=\(seed)"
    }
}
