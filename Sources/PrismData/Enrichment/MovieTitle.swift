import Foundation

/// MovieLens title conventions: "Shawshank Redemption, The (1994)" — a trailing year in
/// parentheses, and a leading article moved to the end after a comma — plus the normalized keys
/// used to join titles across sources that spell them differently.
public enum MovieTitle {
    /// Articles MovieLens moves to the end of a title ("Postino, Il", "Haine, La", "Mystery Men, The").
    static let articles: Set<String> = [
        "the", "a", "an", "il", "la", "le", "les", "l'", "el", "los", "las", "lo", "gli", "i",
        "das", "der", "die", "den", "det", "de", "het", "een", "un", "une", "o", "os", "as", "en", "ett",
    ]

    /// Splits a trailing "(YYYY)" off a title: "Toy Story (1995)" → ("Toy Story", 1995).
    /// Titles without a trailing year come back unchanged with a nil year.
    public static func splitYear(_ raw: String) -> (title: String, year: Int?) {
        let t = raw.trimmingCharacters(in: .whitespaces)
        let u = Array(t.utf8)
        // Accept "(YYYY)" and "(YYYY-YYYY)"/"(YYYY–)" style ranges by taking the first four digits.
        guard u.count >= 6, u.last == 0x29, let open = u.lastIndex(of: 0x28), u.count - open >= 6 else {
            return (t, nil)
        }
        let inner = u[(open + 1)..<(u.count - 1)]
        let digits = inner.prefix(4)
        guard digits.count == 4, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              inner.dropFirst(4).allSatisfy({ !($0 >= 0x41 && $0 <= 0x7A) }) else { return (t, nil) }
        let year = Int(String(decoding: digits, as: UTF8.self))
        let title = String(decoding: u[..<open], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        return (title.isEmpty ? t : title, year)
    }

    /// Moves a trailing article to the front: "Usual Suspects, The" → "The Usual Suspects",
    /// "Postino, Il (The Postman)" → "Il Postino (The Postman)", "Enfer, L'" → "L'Enfer".
    public static func display(_ title: String) -> String {
        let title = title.trimmingCharacters(in: .whitespaces)
        // The article may be followed by parenthesized alternate titles.
        var main = title
        var tail = ""
        if let paren = title.range(of: " (") {
            main = String(title[..<paren.lowerBound])
            tail = String(title[paren.lowerBound...])
        }
        guard let comma = main.range(of: ", ", options: .backwards) else { return title }
        let article = String(main[comma.upperBound...])
        guard articles.contains(article.lowercased()) else { return title }
        let rest = String(main[..<comma.lowerBound])
        let joined = article.hasSuffix("'") ? article + rest : article + " " + rest
        return joined + tail
    }

    /// A comparison key: accents removed, lowercased, a trailing article moved to the front,
    /// "&" read as "and", punctuation dropped, whitespace collapsed.
    /// "Shawshank Redemption, The" and "The Shawshank Redemption" give the same key.
    public static func normalizedKey(_ title: String) -> String {
        let folded = title.decomposedStringWithCanonicalMapping.unicodeScalars
            .filter { $0.properties.generalCategory != .nonspacingMark }
        var s = String(String.UnicodeScalarView(folded)).lowercased()
        s = display(s)
        var out = ""
        out.reserveCapacity(s.utf8.count)
        var pendingSpace = false
        for scalar in s.unicodeScalars {
            if scalar == "&" {
                out += out.isEmpty ? "and" : " and"
                pendingSpace = true
                continue
            }
            if scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                if pendingSpace && !out.isEmpty { out += " " }
                pendingSpace = false
                out.unicodeScalars.append(scalar)
            } else if scalar != "'" {
                pendingSpace = true
            }
        }
        return out
    }

    /// All keys a title may be known by: the whole title, the title without parenthesized parts,
    /// and each parenthesized alternate ("Postino, Il (The Postman)" → "il postino the postman",
    /// "il postino", "the postman"). Empty keys are dropped.
    public static func keyVariants(_ title: String) -> Set<String> {
        var variants: Set<String> = [normalizedKey(title)]
        let (base, alternates) = splitAlternates(title)
        variants.insert(normalizedKey(base))
        for alt in alternates { variants.insert(normalizedKey(alt)) }
        variants.remove("")
        return variants
    }

    /// A title without its parenthesised parts, and each part (outermost level; "a.k.a." dropped):
    /// "Postino, Il (The Postman)" → ("Postino, Il ", ["The Postman"]).
    public static func splitAlternates(_ title: String) -> (base: String, alternates: [String]) {
        var base = "", inner = "", alternates: [String] = []
        var depth = 0
        for ch in title {
            if ch == "(" {
                if depth == 0 { inner = "" } else { inner.append(ch) }
                depth += 1
            } else if ch == ")" && depth > 0 {
                depth -= 1
                if depth == 0 { alternates.append(inner) } else { inner.append(ch) }
            } else if depth > 0 {
                inner.append(ch)
            } else {
                base.append(ch)
            }
        }
        return (base, alternates.map { alt in
            var a = alt.trimmingCharacters(in: .whitespaces)
            for prefix in ["a.k.a. ", "aka "] where a.lowercased().hasPrefix(prefix) { a = String(a.dropFirst(prefix.count)) }
            return a
        })
    }
}
