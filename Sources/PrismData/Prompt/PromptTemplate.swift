import Foundation

/// A prompt template with the placeholders `{history}` and `{item_to_explain}`.
///
/// Placeholders are filled in one pass, so text inside the substituted values (a title containing
/// "{history}", say) is never substituted again. Other braces are literal.
public struct PromptTemplate: Sendable, Hashable {
    /// The template text as given.
    public let text: String
    private let segments: [Segment]

    enum Segment: Sendable, Hashable {
        case literal(String)
        case history
        case item
    }

    static let historyPlaceholder = "{history}"
    static let itemPlaceholder = "{item_to_explain}"

    /// The paper's faithfulness-constrained Oracle prompt, verbatim.
    public static let oracleDefaultText = """
        Generate a short, personalized, and persuasive explanation for the following recommendation.
        Context:
        - User's movie viewing history: {history}
        - Recommended movie: {item_to_explain}
        Task: Explain WHY this is a good recommendation based on the user's history.
        - Be specific: Link features of the recommended movie (e.g., genre, director, actors, theme) to patterns in the history.
        - Be natural: Sound like a genuine recommendation from a friend.
        - Be concise: Ideally one or two sentences.
        - Start the explanation directly.
        Explanation:
        """

    /// The default Oracle template (`oracleDefaultText`).
    public static let oracleDefault = PromptTemplate(validated: oracleDefaultText)

    /// A template from text; throws `DataError.invalidTemplate` unless both placeholders occur.
    public init(_ text: String) throws {
        for p in [Self.historyPlaceholder, Self.itemPlaceholder] where !text.contains(p) {
            throw DataError.invalidTemplate("missing placeholder \(p)")
        }
        self.init(validated: text)
    }

    /// A template read from a UTF-8 file; one trailing newline is removed.
    public init(contentsOf url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { throw DataError.fileNotFound(path: url.path) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DataError.unreadable(path: url.path, reason: "\(error)")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw DataError.invalidTemplate("\(url.path) is not UTF-8")
        }
        if text.hasSuffix("\r\n") { text.removeLast(1) } else if text.hasSuffix("\n") { text.removeLast() }
        try self.init(text)
    }

    private init(validated text: String) {
        self.text = text
        var segments: [Segment] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            let h = rest.range(of: Self.historyPlaceholder)
            let i = rest.range(of: Self.itemPlaceholder)
            let next: (Range<Substring.Index>, Segment)?
            switch (h, i) {
            case let (h?, i?): next = h.lowerBound <= i.lowerBound ? (h, .history) : (i, .item)
            case let (h?, nil): next = (h, .history)
            case let (nil, i?): next = (i, .item)
            case (nil, nil): next = nil
            }
            guard let (range, segment) = next else {
                segments.append(.literal(String(rest)))
                break
            }
            if range.lowerBound > rest.startIndex { segments.append(.literal(String(rest[..<range.lowerBound]))) }
            segments.append(segment)
            rest = rest[range.upperBound...]
        }
        self.segments = segments
    }

    /// The template with `{history}` and `{item_to_explain}` replaced.
    public func fill(history: String, item: String) -> String {
        var out = ""
        for s in segments {
            switch s {
            case .literal(let t): out += t
            case .history: out += history
            case .item: out += item
            }
        }
        return out
    }
}
