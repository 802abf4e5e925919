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
    let shapes: EntityConstraints.WordShapes

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
                                        required: kinds.firstIndex(of: .item), unique: kinds.map(\.writtenOnce))
        shapes = Self.shapes(tokenizer, marks: ids)
    }

    /// The capitalisation table of GROUNDING.md: which tokens start a capitalised word, which end a
    /// sentence, which are not text (special tokens and marks).
    static func shapes(_ tokenizer: Tokenizer, marks: [Int]) -> EntityConstraints.WordShapes {
        let vocab = tokenizer.vocabularySize
        let specials = Set(tokenizer.specialTokenIds).union(marks)
        var capitalised: [Int] = []
        var ends = [Bool](repeating: false, count: vocab)
        var ignored = [Bool](repeating: false, count: vocab)
        for id in 0..<vocab {
            if specials.contains(id) {
                ignored[id] = true
                continue
            }
            let text = Array(tokenizer.decode([id], skipSpecialTokens: false).unicodeScalars)
            let first = text.first == " " ? text.dropFirst().first : text.first
            if let c = first, c.value >= 0x41 && c.value <= 0x5A { capitalised.append(id) }
            if let last = text.last(where: { $0 != " " }), last == "." || last == "!" || last == "?" { ends[id] = true }
        }
        return EntityConstraints.WordShapes(capitalised: capitalised, sentenceEnd: ends, ignored: ignored)
    }

    /// The constraints of a job; `history`: the films its input shows.
    func constraints(history: [CatalogItem], item: CatalogItem) -> EntityConstraints {
        let allowed = AllowedForms(history: history, item: item)
        let forms = GroundingMarks.Kind.allCases.map { kind in
            allowed[kind].map { form in
                [tokenizer.encode(form, addSpecialTokens: false), tokenizer.encode(" " + form, addSpecialTokens: false)]
            }
        }
        return EntityConstraints(marks: marks, forms: forms, shapes: shapes)
    }

    func isMark(_ id: Int) -> Bool { markIds.contains(id) }

    /// Generated ids without a span left open at the length limit: from its opening mark on (the mark
    /// sits before the name's space, so the partial name goes with it). Stripped of its marks, a cut
    /// name ("Alien" of "Alien 3") could read as another film.
    func droppingUnclosedSpan<C: Collection<Int>>(_ ids: C) -> [Int] {
        let generated = Array(ids)
        guard let open = generated.lastIndex(where: { marks.opens.contains($0) }),
              !generated[open...].contains(marks.close) else { return generated }
        return Array(generated[..<open])
    }
}
