/// The Porter stemmer as NLTK's `PorterStemmer()` computes it in its default `NLTK_EXTENSIONS`
/// mode — the stemmer `rouge-score` uses with `use_stemmer=True` — for lower-case ASCII words
/// (the only words `rouge-score`'s tokenizer produces). Tested word for word against NLTK.
///
/// The NLTK extensions over Porter (1980): a pool of irregular forms ("dying" → "die"), words of
/// one or two letters kept, "ies"/"ied" on four-letter words keep "ie", Step 1c turns "y" into "i"
/// only after a consonant that is not the first letter, Step 2 adds "fulli" → "ful" and
/// "logi" → "log" and folds "alli" before the other rules, and *o also holds for a two-letter
/// vowel–consonant stem.
public enum PorterStemmer {
    static let irregular: [String: String] = [
        "skies": "sky", "sky": "sky", "dying": "die", "lying": "lie", "tying": "tie", "news": "news",
        "innings": "inning", "inning": "inning", "outings": "outing", "outing": "outing",
        "cannings": "canning", "canning": "canning", "howe": "howe", "proceed": "proceed",
        "exceed": "exceed", "succeed": "succeed",
    ]

    public static func stem(_ word: String) -> String {
        let lower = word.lowercased()
        if let known = irregular[lower] { return known }
        guard lower.utf8.count > 2 else { return lower }
        var w = Array(lower.utf8)
        w = step1a(w)
        w = step1b(w)
        w = step1c(w)
        w = step2(w)
        w = step3(w)
        w = step4(w)
        w = step5a(w)
        w = step5b(w)
        return String(decoding: w, as: UTF8.self)
    }

    typealias Word = [UInt8]

    // MARK: Letters and measure

    static func isVowelLetter(_ c: UInt8) -> Bool { c == 0x61 || c == 0x65 || c == 0x69 || c == 0x6F || c == 0x75 }

    /// Consonant flags: a "y" is a consonant at the start or after a vowel.
    static func consonants(_ w: Word) -> [Bool] {
        var flags: [Bool] = []
        flags.reserveCapacity(w.count)
        for (i, c) in w.enumerated() {
            if isVowelLetter(c) { flags.append(false) } else if c == 0x79 { flags.append(i == 0 ? true : !flags[i - 1]) } else { flags.append(true) }
        }
        return flags
    }

    /// m in [C](VC)^m[V]: the number of vowel→consonant transitions.
    static func measure(_ w: Word) -> Int {
        let f = consonants(w)
        var m = 0
        for i in 1..<max(1, f.count) where !f[i - 1] && f[i] { m += 1 }
        return m
    }

    static func containsVowel(_ w: Word) -> Bool { consonants(w).contains(false) }

    static func endsDoubleConsonant(_ w: Word) -> Bool {
        w.count >= 2 && w[w.count - 1] == w[w.count - 2] && consonants(w)[w.count - 1]
    }

    /// *o: consonant–vowel–consonant, the last not w, x or y (or, NLTK, a two-letter vowel–consonant word).
    static func endsCVC(_ w: Word) -> Bool {
        let f = consonants(w), n = w.count
        if n >= 3, f[n - 3], !f[n - 2], f[n - 1], ![0x77, 0x78, 0x79].contains(w[n - 1]) { return true }
        return n == 2 && !f[0] && f[1]
    }

    static func ends(_ w: Word, _ suffix: String) -> Bool {
        let s = Array(suffix.utf8)
        return w.count >= s.count && Array(w[(w.count - s.count)...]) == s
    }

    static func dropping(_ w: Word, _ count: Int) -> Word { Array(w[..<(w.count - count)]) }

    /// The first rule whose suffix the word ends with decides: replaced when its condition holds on
    /// the stem, else the word is kept.
    static func applyFirst(_ w: Word, _ rules: [(String, String, ((Word) -> Bool)?)]) -> Word {
        for (suffix, replacement, condition) in rules where ends(w, suffix) {
            let stem = dropping(w, suffix.utf8.count)
            if condition?(stem) ?? true { return stem + Array(replacement.utf8) }
            return w
        }
        return w
    }

    static func positive(_ w: Word) -> Bool { measure(w) > 0 }

    // MARK: Steps

    static func step1a(_ w: Word) -> Word {
        if ends(w, "ies") && w.count == 4 { return dropping(w, 3) + Array("ie".utf8) }
        return applyFirst(w, [("sses", "ss", nil), ("ies", "i", nil), ("ss", "ss", nil), ("s", "", nil)])
    }

    static func step1b(_ w: Word) -> Word {
        if ends(w, "ied") { return dropping(w, 3) + Array((w.count == 4 ? "ie" : "i").utf8) }
        if ends(w, "eed") {
            let stem = dropping(w, 3)
            return measure(stem) > 0 ? stem + Array("ee".utf8) : w
        }
        var stem: Word?
        for suffix in ["ed", "ing"] where ends(w, suffix) {
            let candidate = dropping(w, suffix.utf8.count)
            if containsVowel(candidate) { stem = candidate; break }
        }
        guard let s = stem else { return w }
        if ends(s, "at") || ends(s, "bl") || ends(s, "iz") { return s + [0x65] }
        if endsDoubleConsonant(s) {
            let last = s[s.count - 1]
            return last == 0x6C || last == 0x73 || last == 0x7A ? s : dropping(s, 1)
        }
        if measure(s) == 1 && endsCVC(s) { return s + [0x65] }
        return s
    }

    static func step1c(_ w: Word) -> Word {
        guard ends(w, "y") else { return w }
        let stem = dropping(w, 1)
        return stem.count > 1 && consonants(stem)[stem.count - 1] ? stem + [0x69] : w
    }

    static func step2(_ w: Word) -> Word {
        if ends(w, "alli"), positive(dropping(w, 4)) { return step2(dropping(w, 4) + Array("al".utf8)) }
        let rules: [(String, String, ((Word) -> Bool)?)] = [
            ("ational", "ate", positive), ("tional", "tion", positive), ("enci", "ence", positive),
            ("anci", "ance", positive), ("izer", "ize", positive), ("bli", "ble", positive), ("alli", "al", positive),
            ("entli", "ent", positive), ("eli", "e", positive), ("ousli", "ous", positive), ("ization", "ize", positive),
            ("ation", "ate", positive), ("ator", "ate", positive), ("alism", "al", positive), ("iveness", "ive", positive),
            ("fulness", "ful", positive), ("ousness", "ous", positive), ("aliti", "al", positive), ("iviti", "ive", positive),
            ("biliti", "ble", positive), ("fulli", "ful", positive),
            // NLTK tests the measure of the word less "ogi" (the stem plus its "l").
            ("logi", "log", { _ in positive(dropping(w, 3)) }),
        ]
        return applyFirst(w, rules)
    }

    static func step3(_ w: Word) -> Word {
        applyFirst(w, [("icate", "ic", positive), ("ative", "", positive), ("alize", "al", positive),
                       ("iciti", "ic", positive), ("ical", "ic", positive), ("ful", "", positive), ("ness", "", positive)])
    }

    static func step4(_ w: Word) -> Word {
        let big: (Word) -> Bool = { measure($0) > 1 }
        return applyFirst(w, [
            ("al", "", big), ("ance", "", big), ("ence", "", big), ("er", "", big), ("ic", "", big), ("able", "", big),
            ("ible", "", big), ("ant", "", big), ("ement", "", big), ("ment", "", big), ("ent", "", big),
            ("ion", "", { s in measure(s) > 1 && (s.last == 0x73 || s.last == 0x74) }),
            ("ou", "", big), ("ism", "", big), ("ate", "", big), ("iti", "", big), ("ous", "", big), ("ive", "", big), ("ize", "", big),
        ])
    }

    static func step5a(_ w: Word) -> Word {
        guard ends(w, "e") else { return w }
        let stem = dropping(w, 1)
        let m = measure(stem)
        return m > 1 || (m == 1 && !endsCVC(stem)) ? stem : w
    }

    static func step5b(_ w: Word) -> Word {
        ends(w, "ll") && measure(dropping(w, 1)) > 1 ? dropping(w, 1) : w
    }
}
