import Foundation
import PrismData

/// The words an explanation may use: every word of the teacher's goldens (outside the evaluated split,
/// for `prism eval`; those the student was trained on, for the serving guard) and every word the
/// catalog shows (titles, people, genres, plots).
///
/// It closes the grounding checker's blind spot: the checker judges capitalised names, so a garbled
/// lower-case word ("like Gattaca and aguaxique") passed it. A student learns its words from the goldens
/// and copies the rest from its input, which renders catalog fields; a lower-case word found in neither
/// is one it made up. Words are compared in the checker's folded form (`WordTokens`); numbers and
/// capitalised words are left to the checker.
public struct WordVocabulary: Sendable {
    let words: Set<String>

    public init(texts: some Sequence<String>, catalog: ItemCatalog) {
        var words = Set<String>()
        func add(_ text: String) { for token in WordTokens(text).tokens { words.insert(token.key) } }
        for text in texts { add(text) }
        for id in catalog.ids {
            guard let item = catalog[id] else { continue }
            add(item.title)
            for field in [item.genres, item.directors, item.writers, item.actors] { field.forEach(add) }
            if let plot = item.plot { add(plot) }
        }
        self.words = words
    }

    /// The vocabulary of `prism eval`: goldens of samples outside `split`, and the catalog.
    public init(goldens: [String: String], samples: [Sample], split: Split, catalog: ItemCatalog) {
        let outside = samples.lazy.filter { $0.split != split }.compactMap { goldens[$0.sampleID] }
        self.init(texts: outside, catalog: catalog)
    }

    /// The serving guard's vocabulary: `words.txt` of a student folder (the whitespace-separated pieces of
    /// its training goldens, one per line, written by the training code's export) and the catalog; nil
    /// when the folder has no such file.
    public static func load(studentFolder: String, catalog: ItemCatalog) throws -> WordVocabulary? {
        let path = studentFolder + "/words.txt"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw GroundingError.unreadable(path: path, detail: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw GroundingError.unreadable(path: path, detail: "not UTF-8")
        }
        return WordVocabulary(texts: text.split(separator: "\n").map(String.init), catalog: catalog)
    }

    public var count: Int { words.count }

    /// The lower-case, non-numeric words of `text` outside the vocabulary, in order, each once.
    public func unknownWords(_ text: String) -> [String] {
        var seen = Set<String>(), unknown: [String] = []
        let cut = WordTokens(text)
        for (i, token) in cut.tokens.enumerated() where !token.capitalized && !token.numeric && !words.contains(token.key) {
            if seen.insert(token.key).inserted { unknown.append(cut.text(i..<(i + 1))) }
        }
        return unknown
    }
}
