import Generation
import PrismData
import PrismGrounding
import Tokenizers

/// A marked student's grounding marks (GROUNDING.md) in its tokenizer's ids, and the constraints of
/// one job: every allowed form of each span kind, tokenized with and without a leading space.
struct GroundedDecoding: Sendable {
    let tokenizer: Tokenizer
    /// Opening marks in `GroundingMarks.Kind` order, then the closing mark.
    let markIds: [Int]
    let marks: EntityConstraints.Marks

    /// nil when the tokenizer lacks any of the marks (a student trained without them).
    init?(tokenizer: Tokenizer) {
        var ids: [Int] = []
        for mark in GroundingMarks.all {
            guard let id = tokenizer.tokenToId(mark) else { return nil }
            ids.append(id)
        }
        self.tokenizer = tokenizer
        markIds = ids
        let kinds = GroundingMarks.Kind.allCases
        marks = EntityConstraints.Marks(opens: Array(ids.prefix(kinds.count)), close: ids[kinds.count],
                                        required: kinds.firstIndex(of: .item))
    }

    /// The constraints of a job; `history`: the films its input shows.
    func constraints(history: [CatalogItem], item: CatalogItem) -> EntityConstraints {
        let allowed = AllowedForms(history: history, item: item)
        let forms = GroundingMarks.Kind.allCases.map { kind in
            allowed[kind].flatMap { form in
                [tokenizer.encode(form, addSpecialTokens: false), tokenizer.encode(" " + form, addSpecialTokens: false)]
            }
        }
        return EntityConstraints(marks: marks, forms: forms)
    }

    func isMark(_ id: Int) -> Bool { markIds.contains(id) }
}
