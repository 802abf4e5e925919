/// The post-filters that keep bad goldens out of the training set. Each returns a reason or nil.
public struct GoldenFilter: Sendable {
    /// Fewer words than this is "empty".
    public var minWords = 3
    /// A word n-gram repeated this often is "repetition".
    public var repeatedNgram = 3
    public var maxNgramRepeats = 2
    /// A run of this many words copied from the prompt template's own wording (its instructions,
    /// not the titles filled into it) is "prompt_echo".
    public var echoWords = 6

    public init() {}

    /// Why `text` should not be a golden, or nil to keep it. `template` is the prompt template
    /// (placeholders are ignored).
    public func rejection(text: String, finishReason: String, template: String) -> String? {
        let words = text.split(whereSeparator: { $0.isWhitespace }).map { $0.lowercased() }
        if words.count < minWords { return "empty" }
        if finishReason == "length" { return "truncated" }
        if hasRepetition(words) { return "repetition" }
        if echoes(words, template: template) { return "prompt_echo" }
        return nil
    }

    func hasRepetition(_ words: [String]) -> Bool {
        guard words.count >= repeatedNgram else { return false }
        var counts: [ArraySlice<String>: Int] = [:]
        for start in 0...(words.count - repeatedNgram) {
            let gram = words[start..<(start + repeatedNgram)]
            counts[gram, default: 0] += 1
            if counts[gram]! > maxNgramRepeats { return true }
        }
        // The same sentence twice.
        let sentences = words.joined(separator: " ").split(whereSeparator: { ".!?".contains($0) })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.count > 10 }
        return Set(sentences).count < sentences.count
    }

    func echoes(_ words: [String], template: String) -> Bool {
        // Runs of the template's words that contain no placeholder.
        var grams = Set<ArraySlice<String>>()
        for line in template.split(separator: "\n") {
            for chunk in line.split(separator: "{") {
                let literal = chunk.split(separator: "}", maxSplits: 1).last.map(String.init) ?? ""
                let templateWords = literal.split(whereSeparator: { $0.isWhitespace }).map { $0.lowercased() }
                guard templateWords.count >= echoWords else { continue }
                for start in 0...(templateWords.count - echoWords) { grams.insert(templateWords[start..<(start + echoWords)]) }
            }
        }
        guard words.count >= echoWords else { return false }
        for start in 0...(words.count - echoWords) where grams.contains(words[start..<(start + echoWords)]) { return true }
        return false
    }
}

import Foundation
