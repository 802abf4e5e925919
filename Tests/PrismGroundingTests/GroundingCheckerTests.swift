import PrismData
import XCTest
@testable import PrismGrounding

/// Hand-written cases: every failure seen in served explanations, and titles that are hard to match.
final class GroundingCheckerTests: XCTestCase {
    static let catalog = ItemCatalog([
        CatalogItem(id: "1", title: "Madonna: Truth or Dare", year: 1991, genres: ["Documentary"], directors: ["Alek Keshishian"], actors: ["Madonna"]),
        CatalogItem(id: "2", title: "The Ice Storm", year: 1997, genres: ["Drama"], directors: ["Ang Lee"], actors: ["Kevin Kline", "Joan Allen"]),
        CatalogItem(id: "3", title: "A Streetcar Named Desire", year: 1951, genres: ["Drama"], directors: ["Elia Kazan"], actors: ["Vivien Leigh", "Marlon Brando"]),
        CatalogItem(id: "4", title: "The Piano", year: 1993, genres: ["Drama", "Romance"], directors: ["Jane Campion"], actors: ["Holly Hunter", "Harvey Keitel"]),
        CatalogItem(id: "5", title: "Peace, Love & Misunderstanding", year: 1996, genres: ["Comedy"]),
        CatalogItem(id: "6", title: "M*A*S*H", year: 1970, genres: ["Comedy", "War"], directors: ["Robert Altman"], actors: ["Donald Sutherland"]),
        CatalogItem(id: "7", title: "8 1/2", year: 1963, genres: ["Drama"], directors: ["Federico Fellini"], actors: ["Marcello Mastroianni"]),
        CatalogItem(id: "8", title: "Se7en", year: 1995, genres: ["Crime", "Thriller"], directors: ["David Fincher"], actors: ["Morgan Freeman", "Brad Pitt"],
                    plot: "Two detectives hunt a killer in an unnamed city; Somerset is a week from retiring."),
        CatalogItem(id: "9", title: "Ma vie en rose (My Life in Pink)", year: 1997, genres: ["Comedy", "Drama"], directors: ["Alain Berliner"]),
        CatalogItem(id: "10", title: "Face/Off", year: 1997, genres: ["Action", "Sci-Fi", "Thriller"], directors: ["John Woo"], actors: ["John Travolta", "Nicolas Cage"]),
        CatalogItem(id: "11", title: "Batman", year: 1989, genres: ["Action", "Adventure"], directors: ["Tim Burton"], actors: ["Michael Keaton"]),
        CatalogItem(id: "12", title: "Batman Returns", year: 1992, genres: ["Action", "Adventure"], directors: ["Tim Burton"], actors: ["Michael Keaton"]),
        CatalogItem(id: "13", title: "Il Postino (The Postman)", year: 1994, genres: ["Drama", "Romance"], directors: ["Michael Radford"]),
        CatalogItem(id: "14", title: "Heat", year: 1995, genres: ["Action", "Crime", "Thriller"], directors: ["Michael Mann"], actors: ["Al Pacino", "Robert De Niro"]),
        CatalogItem(id: "15", title: "Jaws", year: 1975, genres: ["Action", "Horror"], directors: ["Steven Spielberg"], writers: ["Peter Benchley (novel)"]),
        CatalogItem(id: "16", title: "Schindler's List", year: 1993, genres: ["Drama", "War"], directors: ["Steven Spielberg"], actors: ["Liam Neeson"]),
        CatalogItem(id: "17", title: "Crash", year: 1996, genres: ["Drama", "Thriller"], directors: ["David Cronenberg"]),
        CatalogItem(id: "18", title: "That Thing You Do!", year: 1996, genres: ["Comedy"], directors: ["Tom Hanks"], actors: ["Tom Hanks"]),
        CatalogItem(id: "19", title: "Amélie", year: 2001, genres: ["Comedy", "Romance"]),
    ])
    let checker = GroundingChecker(catalog: GroundingCheckerTests.catalog)

    func facts(_ history: [String], _ item: String) -> GroundingFacts {
        GroundingFacts(history: history.compactMap { Self.catalog[$0] }, item: Self.catalog[item]!)
    }

    func testTheOracleStyleSentenceIsFullyGrounded() {
        let r = checker.check("Given The Piano in your history, the drama of The Ice Storm should appeal to you.", facts: facts(["4"], "2"))
        XCTAssertTrue(r.fullyGrounded, "\(r.problems)")
        XCTAssertEqual(r.groundedTitles.map(\.values), [["4"], ["2"]])
        XCTAssertEqual(r.claims.map(\.value), ["Drama"])
        XCTAssertTrue(r.claims[0].holds)
    }

    /// "Given Aphrina in your history, the drama of Ice Storm…" for Madonna: Truth or Dare: the item is
    /// not named, a history film is invented, and "drama" is false for a documentary.
    func testWarIsAGenreWhenJoinedToAGenreAndAThemeOtherwise() {
        // "war" is a genre in "the drama and war of …" and "a war and comedy film", a theme in "a story about war".
        let joined = checker.check("Given Heat in your history, the drama and war of Schindler's List should appeal to you.", facts: facts(["14"], "16"))
        XCTAssertEqual(Set(joined.claims.filter { $0.kind == .genre }.map(\.value)), ["Drama", "War"])
        XCTAssertTrue(joined.fullyGrounded, "\(joined.problems)")
        let film = checker.check("M*A*S*H is a war and comedy film.", facts: facts([], "6"))
        XCTAssertEqual(Set(film.claims.filter { $0.kind == .genre }.map(\.value)), ["War", "Comedy"])
        let theme = checker.check("Like Heat, Schindler's List is a story about war.", facts: facts(["14"], "16"))
        XCTAssertTrue(theme.claims.filter { $0.kind == .genre }.isEmpty)
        let falseWar = checker.check("Heat is a comedy and war film.", facts: facts([], "14"))
        XCTAssertFalse(falseWar.fullyGrounded, "neither comedy nor war holds for Heat")
    }

    func testGarbledHistoryTitleAndWrongItem() {
        let r = checker.check("Given Aphrina in your history, the drama of Ice Storm should appeal to you.", facts: facts(["3"], "1"))
        XCTAssertFalse(r.itemNamed)
        XCTAssertEqual(r.unsupportedSpans.map(\.text), ["Aphrina"])
        XCTAssertEqual(r.wrongTitles.map(\.values), [["2"]], "Ice Storm is The Ice Storm, a film outside the request")
        XCTAssertEqual(r.falseClaims.map(\.value), ["Drama"])
        XCTAssertFalse(r.fullyGrounded)
        XCTAssertEqual(r.problems.count, 4, "\(r.problems)")
    }

    func testInventedTitlesAreUnsupportedSpans() {
        let r = checker.check("Madonna: Truth or Dare is a documentary film, a kind you keep coming back to with titles like The Peaceaceace II and Thiscar Named Acaration.",
                              facts: facts(["5", "3"], "1"))
        XCTAssertTrue(r.itemNamed)
        XCTAssertEqual(r.unsupportedSpans.map(\.text), ["The Peaceaceace II", "Thiscar Named Acaration"])
        XCTAssertFalse(r.fullyGrounded)
    }

    func testACutTitleIsNotTheTitle() {
        // "Thing You Do!" is a garbled "That Thing You Do!".
        let r = checker.check("The Piano comes from the 1990s, like Thing You Do!.", facts: facts(["18"], "4"))
        XCTAssertEqual(r.unsupportedSpans.map(\.text), ["Thing You Do"])
        XCTAssertTrue(r.claims.allSatisfy(\.holds), "\(r.claims)")
    }

    func testARealFilmOutsideTheRequestIsAWrongTitle() {
        let r = checker.check("If you liked Crash, you will like The Piano.", facts: facts(["14"], "4"))
        XCTAssertEqual(r.wrongTitles.map(\.values), [["17"]])
        XCTAssertTrue(r.itemNamed)
        XCTAssertFalse(r.fullyGrounded)
    }

    func testArticleOrderAccentsCaseAndPunctuationAreNormalised() {
        for text in ["Piano, The is a romance film.", "the Piano is a romance film.", "THE PIANO is a romance film.",
                     "The Piano — a romance film."] {
            let r = checker.check(text, facts: facts([], "4"))
            XCTAssertTrue(r.fullyGrounded, "\(text): \(r.problems)")
        }
        let amelie = checker.check("Amelie is a romantic comedy.", facts: facts([], "19"))
        XCTAssertTrue(amelie.fullyGrounded, "\(amelie.problems)")
        XCTAssertEqual(Set(amelie.claims.map(\.value)), ["Romance", "Comedy"])
    }

    func testTrickyTitles() {
        let cases: [(String, String)] = [
            ("6", "M*A*S*H is a war film from 1970."),
            ("7", "8 1/2 is a drama from the 1960s."),
            ("8", "Se7en is a crime thriller."),
            ("9", "Ma vie en rose (My Life in Pink) is a comedy and drama film."),
            ("9", "My Life in Pink is a drama."),
            ("10", "Face/Off stars John Travolta and Nicolas Cage."),
            ("13", "Il Postino is a romance."),
            ("13", "Postino, Il (The Postman) is a romance."),
        ]
        for (id, text) in cases {
            let r = checker.check(text, facts: facts([], id))
            XCTAssertTrue(r.fullyGrounded, "\(text): \(r.problems) \(r.mentions)")
        }
    }

    func testTitlesThatContainOtherTitles() {
        let r = checker.check("Batman Returns is another Tim Burton film, like Batman.", facts: facts(["11"], "12"))
        XCTAssertEqual(r.mentions.filter { $0.kind == .item || $0.kind == .history }.map(\.text), ["Batman Returns", "Batman"])
        XCTAssertTrue(r.fullyGrounded, "\(r.problems)")
        let wrong = checker.check("Batman Returns is like Batman.", facts: facts(["14"], "11"))
        XCTAssertEqual(wrong.wrongTitles.map(\.text), ["Batman Returns"], "the longer title wins")
    }

    func testPeopleClaims() {
        let shared = checker.check("You have already watched Steven Spielberg's Jaws, and Schindler's List is another film by Steven Spielberg.",
                                   facts: facts(["15"], "16"))
        XCTAssertTrue(shared.fullyGrounded, "\(shared.problems)")
        XCTAssertEqual(shared.claims.map(\.kind), [.person, .person])
        let surname = checker.check("Heat stars Pacino, whom you saw in Heat's trailer.", facts: facts([], "14"))
        XCTAssertEqual(surname.claims.first?.value, "Al Pacino")
        XCTAssertTrue(surname.claims.allSatisfy(\.holds))
        // A real person of the catalog who is in none of the request's films.
        let wrong = checker.check("Heat stars Liam Neeson.", facts: facts(["4"], "14"))
        XCTAssertEqual(wrong.falseClaims.map(\.value), ["Liam Neeson"])
        XCTAssertFalse(wrong.fullyGrounded)
    }

    func testEraAndYearClaims() {
        XCTAssertTrue(checker.check("Heat comes from the 1990s, like The Piano.", facts: facts(["4"], "14")).fullyGrounded)
        XCTAssertTrue(checker.check("Heat (1995) is a crime film.", facts: facts([], "14")).fullyGrounded)
        let wrongDecade = checker.check("Heat comes from the 1970s, like The Piano.", facts: facts(["4"], "14"))
        XCTAssertEqual(wrongDecade.falseClaims.map(\.value), ["1970"])
        let wrongYear = checker.check("Heat is an action film from 1987.", facts: facts([], "14"))
        XCTAssertEqual(wrongYear.falseClaims.map(\.value), ["1987"])
        XCTAssertEqual(checker.check("Jaws is a story from the '70s.", facts: facts([], "15")).claims.map(\.value), ["1970"])
    }

    func testFalseGenreForTheItem() {
        let r = checker.check("Like The Piano, it is a western film.", facts: facts(["4"], "14"))
        XCTAssertEqual(r.falseClaims.map(\.value), [])  // no Western in this catalog: an ordinary word
        let g = checker.check("Heat is a horror film.", facts: facts([], "14"))
        XCTAssertEqual(g.falseClaims.map(\.value), ["Horror"])
        // "war" is a theme as well as a genre: a claim only as "a war film".
        XCTAssertTrue(checker.check("Like Schindler's List, Heat is a story about war.", facts: facts(["16"], "14")).claims.isEmpty)
        XCTAssertEqual(checker.check("Heat is a war film.", facts: facts([], "14")).falseClaims.map(\.value), ["War"])
    }

    func testPlotWordsAndSentenceOpenersAreNotInventions() {
        let r = checker.check("Since you like crime, Se7en follows Somerset. It also features Morgan Freeman.", facts: facts([], "8"))
        XCTAssertTrue(r.fullyGrounded, "\(r.problems)")
        XCTAssertEqual(r.mentions.filter { $0.kind == .plot }.map(\.text), ["Somerset"])
        // A common word that a plot uses (here "Two", opening the plot, and "a") is not a name when
        // the explanation capitalises it mid-sentence: "That!" for "That Thing You Do!".
        let cut = checker.check("Se7en comes from the 1990s, like Two and A!", facts: facts([], "8"))
        XCTAssertEqual(cut.unsupportedSpans.map(\.text), ["Two", "A"])
    }

    func testACatalogTitleOpeningASentenceIsStillATitle() {
        // The catalog has a film called "Crash"; "Crash" opening a sentence mid-text is still the film.
        let r = checker.check("Heat is a thriller. Crash is too.", facts: facts([], "14"))
        XCTAssertEqual(r.wrongTitles.map(\.text), ["Crash"])
    }

    func testReportEncodesTheVerdictAndProblems() throws {
        let r = checker.check("Given Aphrina in your history, Heat should appeal to you.", facts: facts([], "14"))
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as? [String: Any]
        XCTAssertEqual(json?["fully_grounded"] as? Bool, false)
        XCTAssertEqual((json?["problems"] as? [String])?.count, 1)
        let back = try JSONDecoder().decode(GroundingReport.self, from: JSONEncoder().encode(r))
        XCTAssertEqual(back, r)
    }
}
