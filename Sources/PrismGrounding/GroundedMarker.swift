import PrismData

/// Marks a plain explanation with grounding marks (`GROUNDING.md`, "Marking a golden"), using the
/// grounding checker's matcher, so that goldens from any teacher can train a marked student.
public struct GroundedMarker: Sendable {
    public let checker: GroundingChecker

    public init(checker: GroundingChecker) { self.checker = checker }

    /// A marked golden, and why it is unmarkable (the checker's problems and their kinds; empty when
    /// fully grounded).
    public struct Result: Sendable, Equatable {
        public var marked: String
        public var problems: [String]
        public var problemKinds: [String]
        public var markable: Bool { problems.isEmpty }
    }

    public func mark(_ explanation: String, facts: GroundingFacts) -> Result {
        let report = checker.check(explanation, facts: facts)
        let allowed = AllowedForms(history: facts.history, item: facts.item)
        let scalars = Array(explanation.unicodeScalars)
        var out = String.UnicodeScalarView()
        var cursor = 0
        for mention in report.mentions {
            guard mention.start >= cursor, mention.end <= scalars.count,
                  let (kind, form) = span(mention, facts: facts, allowed: allowed) else { continue }
            // The checker's mention covers words only; a form written out in full may start or go on with
            // punctuation ("'Til There Was You", "When Harry Met Sally...", "Seven (Se7en)").
            let formScalars = Array(form.unicodeScalars)
            var (start, end) = (mention.start, mention.end)
            for k in stride(from: mention.start, through: max(cursor, mention.start - 3), by: -1) {
                let stop = k + formScalars.count
                if stop >= mention.end, stop <= scalars.count, scalars[k..<stop].elementsEqual(formScalars) {
                    (start, end) = (k, stop)
                    break
                }
            }
            let spaced = start > cursor && scalars[start - 1] == " "
            if spaced { start -= 1 }
            out.append(contentsOf: scalars[cursor..<start])
            out.append(contentsOf: kind.open.unicodeScalars)
            if spaced { out.append(" ") }
            out.append(contentsOf: form.unicodeScalars)
            out.append(contentsOf: GroundingMarks.close.unicodeScalars)
            cursor = end
        }
        out.append(contentsOf: scalars[cursor...])
        return Result(marked: String(out), problems: report.problems, problemKinds: report.problemKinds)
    }

    /// The span a mention becomes, with the form it is written as; nil to leave it unmarked.
    func span(_ m: Mention, facts: GroundingFacts, allowed: AllowedForms) -> (GroundingMarks.Kind, String)? {
        let text = cleanWhitespace(m.text)
        switch m.kind {
        case .item:
            return (.item, AllowedForms.title(facts.item))
        case .history:
            guard let film = facts.history.first(where: { m.values.contains($0.id) }) else { return nil }
            return (.title, AllowedForms.title(film))
        case .person:
            guard let name = m.values.map(cleanWhitespace).first(where: allowed[.person].contains) else { return nil }
            return (.person, name)
        case .genre:
            return allowed[.genre].contains(text) ? (.genre, text) : nil
        case .year, .decade:
            return allowed[.era].contains(text) ? (.era, text) : nil
        case .wrongTitle, .plot, .unsupported:
            return nil
        }
    }
}
