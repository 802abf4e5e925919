import PrismData

/// The grounding marks of `GROUNDING.md` (`grounding-marks/1`): the span kinds, their mark tokens, and
/// the text operations on marked explanations.
public enum GroundingMarks {
    public static let formatName = "grounding-marks/1"

    /// What a marked span names.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case item, title, person, genre, era

        /// The opening mark, e.g. `<e:item>`.
        public var open: String { "<e:\(rawValue)>" }

        /// Whether a constrained explanation writes each form of this kind at most once (all but people:
        /// "Martin Scorsese's Casino … another film by Martin Scorsese").
        public var writtenOnce: Bool { self != .person }
    }

    /// The mark that closes every span.
    public static let close = "</e>"

    /// Every mark string: the five opening marks (in `Kind` order), then the closing one.
    public static let all: [String] = Kind.allCases.map(\.open) + [close]

    /// The plain text of a marked explanation: every mark string removed.
    public static func strip(_ marked: String) -> String {
        guard marked.contains("<e:") || marked.contains(close) else { return marked }
        var text = marked
        for mark in all { text = text.replacing(mark, with: "") }
        return text
    }

    /// The spans of a marked text, in order: kind and surface form (without the leading space). An
    /// unclosed span runs to the end; text outside spans is skipped.
    public static func spans(_ marked: String) -> [(kind: Kind, form: String)] {
        var result: [(Kind, String)] = []
        var rest = Substring(marked)
        while let open = rest.firstRange(of: "<e:") {
            let afterOpen = rest[open.upperBound...]
            guard let gt = afterOpen.firstIndex(of: ">"), let kind = Kind(rawValue: String(afterOpen[..<gt])) else {
                rest = afterOpen
                continue
            }
            let body = afterOpen[afterOpen.index(after: gt)...]
            let end = body.firstRange(of: close)
            let form = body[..<(end?.lowerBound ?? body.endIndex)]
            result.append((kind, String(form.drop { $0 == " " })))
            rest = end.map { body[$0.upperBound...] } ?? ""
        }
        return result
    }
}

/// The surface forms a request allows inside each kind of span (`GROUNDING.md`, "allowed surface forms"):
/// cleaned, de-duplicated, in the documented order.
public struct AllowedForms: Sendable, Equatable {
    public private(set) var forms: [GroundingMarks.Kind: [String]] = [:]

    /// `history`: the history films the student's input shows, oldest first.
    public init(history: [CatalogItem], item: CatalogItem) {
        add(.item, Self.title(item))
        for film in history { add(.title, Self.title(film)) }
        for name in EntityLexicon.people(of: item) { add(.person, name) }
        for genre in item.genres where !Self.ignoredGenres.contains(genre.lowercased()) {
            add(.genre, genre.lowercased())
            add(.genre, genre)
        }
        if let year = item.year {
            add(.era, String(year))
            add(.era, "\(year / 10 * 10)s")
        }
    }

    public subscript(kind: GroundingMarks.Kind) -> [String] { forms[kind] ?? [] }

    /// The title a span writes for a film: the cleaned catalog title, or its id.
    public static func title(_ film: CatalogItem) -> String {
        let title = cleanWhitespace(film.title)
        return title.isEmpty ? cleanWhitespace(film.id) : title
    }

    static let ignoredGenres: Set<String> = ["unknown", "(no genres listed)"]

    private mutating func add(_ kind: GroundingMarks.Kind, _ form: String) {
        let cleaned = cleanWhitespace(form)
        guard !cleaned.isEmpty, !(forms[kind]?.contains(cleaned) ?? false) else { return }
        forms[kind, default: []].append(cleaned)
    }
}
