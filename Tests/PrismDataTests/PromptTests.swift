import Foundation
import XCTest
@testable import PrismData

final class PromptTests: XCTestCase {
    /// The paper's template, typed here independently of the library.
    static let paperTemplate = [
        "Generate a short, personalized, and persuasive explanation for the following recommendation.",
        "Context:",
        "- User's movie viewing history: {history}",
        "- Recommended movie: {item_to_explain}",
        "Task: Explain WHY this is a good recommendation based on the user's history.",
        "- Be specific: Link features of the recommended movie (e.g., genre, director, actors, theme) to patterns in the history.",
        "- Be natural: Sound like a genuine recommendation from a friend.",
        "- Be concise: Ideally one or two sentences.",
        "- Start the explanation directly.",
        "Explanation:",
    ].joined(separator: "\n")

    let toy = movie("1", "Toy Story", 1995, genres: ["Animation", "Children's", "Comedy"],
                    directors: ["John Lasseter"], actors: ["Tom Hanks", "Tim Allen"])
    let heat = movie("6", "Heat", 1995, genres: ["Action", "Crime", "Thriller"], directors: ["Michael Mann"],
                     actors: ["Al Pacino", "Robert De Niro", "Val Kilmer", "Jon Voight"])
    let casino = movie("16", "Casino", 1995, genres: ["Crime", "Drama"], directors: ["Martin Scorsese"],
                       actors: ["Robert De Niro"])

    /// Ten history items with distinct renderings, oldest first.
    var history: [CatalogItem] {
        (1...10).map { movie("h\($0)", "Film Number \($0)", 1980 + $0, genres: ["Drama"]) }
    }

    func testDefaultTemplateIsThePapersVerbatim() {
        XCTAssertEqual(PromptTemplate.oracleDefaultText, Self.paperTemplate)
        XCTAssertEqual(PromptTemplate.oracleDefault.text, Self.paperTemplate)
    }

    func testItemRendering() {
        let r = ItemRenderer()
        XCTAssertEqual(r.render(toy), "Toy Story (1995; Animation, Children's, Comedy; dir. John Lasseter; with Tom Hanks, Tim Allen)")
        XCTAssertEqual(r.render(heat), "Heat (1995; Action, Crime, Thriller; dir. Michael Mann; with Al Pacino, Robert De Niro, Val Kilmer)")
        XCTAssertEqual(r.render(movie("x", "  Two\n lines\t", nil)), "Two lines")
        XCTAssertEqual(r.render(movie("x", "", nil, genres: ["", "Noir"])), "x (Noir)")
        XCTAssertEqual(ItemRenderer(maxGenres: 1, maxActors: 1).render(heat), "Heat (1995; Action; dir. Michael Mann; with Al Pacino)")
        XCTAssertEqual(r.render(id: "missing", in: ItemCatalog()), "missing")
    }

    func testOraclePromptFillsPlaceholders() {
        let prompt = OraclePromptBuilder().render(history: [toy, heat], item: casino)
        let expected = Self.paperTemplate
            .replacingOccurrences(of: "{history}", with: ItemRenderer().render(toy) + " | " + ItemRenderer().render(heat))
            .replacingOccurrences(of: "{item_to_explain}", with: "Casino (1995; Crime, Drama; dir. Martin Scorsese; with Robert De Niro)")
        XCTAssertEqual(prompt.text, expected)
        XCTAssertEqual(prompt.keptHistory, 2)
        XCTAssertEqual(prompt.droppedHistory, 0)
        XCTAssertTrue(prompt.fitsBudget)
        XCTAssertFalse(prompt.text.contains("{"))
    }

    func testOraclePromptForSampleUsesCatalog() {
        let catalog = ItemCatalog([toy, heat, casino])
        let sample = Sample(sampleID: "s", userID: "u", itemID: "16", history: ["1", "6"], split: .test, timestamp: 0)
        XCTAssertEqual(OraclePromptBuilder().render(sample, catalog: catalog).text,
                       OraclePromptBuilder().render(history: [toy, heat], item: casino).text)
    }

    /// Checks that `fitted` keeps whole items only — the newest `kept` ones — and is the longest that fits.
    func assertTruncated(_ fitted: FittedText, budget: Int, length: TextLength, build: OraclePromptBuilder,
                         file: StaticString = #filePath, line: UInt = #line) {
        let items = history
        let rendered = items.map(ItemRenderer().render)
        XCTAssertTrue(fitted.fitsBudget, file: file, line: line)
        XCTAssertLessThanOrEqual(fitted.length, budget, file: file, line: line)
        XCTAssertEqual(fitted.length, length(fitted.text), file: file, line: line)
        XCTAssertEqual(fitted.keptHistory + fitted.droppedHistory, items.count, file: file, line: line)
        XCTAssertGreaterThan(fitted.droppedHistory, 0, file: file, line: line)
        XCTAssertGreaterThan(fitted.keptHistory, 0, file: file, line: line)
        let keptText = rendered.suffix(fitted.keptHistory).joined(separator: " | ")
        XCTAssertEqual(fitted.text, PromptTemplate.oracleDefault.fill(history: keptText, item: ItemRenderer().render(casino)),
                       file: file, line: line)
        // The oldest dropped item is gone entirely, not cut.
        let firstDropped = rendered[fitted.droppedHistory - 1]
        XCTAssertFalse(fitted.text.contains(firstDropped), file: file, line: line)
        XCTAssertFalse(fitted.text.contains("Film Number 1 ("), file: file, line: line)
        // Keeping one more item would exceed the budget.
        let oneMore = rendered.suffix(fitted.keptHistory + 1).joined(separator: " | ")
        XCTAssertGreaterThan(length(PromptTemplate.oracleDefault.fill(history: oneMore, item: ItemRenderer().render(casino))),
                             budget, file: file, line: line)
    }

    func testTruncationFromOldestEndUnderCharacterBudget() {
        let full = OraclePromptBuilder().render(history: history, item: casino)
        XCTAssertEqual(full.keptHistory, 10)
        for cut in [1, 30, 100, 150] {
            let budget = full.length - cut
            let build = OraclePromptBuilder(budget: budget)
            let fitted = build.render(history: history, item: casino)
            assertTruncated(fitted, budget: budget, length: .characters, build: build)
        }
        // Exactly at the budget nothing is dropped.
        XCTAssertEqual(OraclePromptBuilder(budget: full.length).render(history: history, item: casino).droppedHistory, 0)
    }

    func testTruncationUnderCustomLengthFunction() {
        let words = TextLength(name: "words") { $0.split(whereSeparator: { $0 == " " || $0 == "\n" }).count }
        let full = words(OraclePromptBuilder().render(history: history, item: casino).text)
        let budget = full - 12
        let build = OraclePromptBuilder(budget: budget, length: words)
        let fitted = build.render(history: history, item: casino)
        assertTruncated(fitted, budget: budget, length: words, build: build)
        // Each item is 6 words plus a 1-word separator: 12 words means 2 items dropped.
        XCTAssertEqual(fitted.droppedHistory, 2)
    }

    func testBudgetTooSmallForAnyHistory() {
        let fitted = OraclePromptBuilder(budget: 10).render(history: history, item: casino)
        XCTAssertFalse(fitted.fitsBudget)
        XCTAssertEqual(fitted.keptHistory, 0)
        XCTAssertTrue(fitted.text.contains("- User's movie viewing history: (none)\n"))
    }

    func testCustomTemplateFromFile() throws {
        let dir = try TempDir()
        let url = try dir.write("t.txt", "Items {history}.\nWhy {item_to_explain}? {other} {history}\n")
        let template = try PromptTemplate(contentsOf: url)
        let weird = movie("w", "{history}", nil)
        let text = OraclePromptBuilder(template: template).render(history: [toy], item: weird).text
        let t = ItemRenderer().render(toy)
        XCTAssertEqual(text, "Items \(t).\nWhy {history}? {other} \(t)")
        XCTAssertThrowsError(try PromptTemplate("no placeholders {history}")) { error in
            guard case DataError.invalidTemplate = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try PromptTemplate(contentsOf: dir.url.appendingPathComponent("nope.txt")))
    }

    func testStudentInputFormat() {
        let input = StudentInputRenderer().render(history: [toy, heat], item: casino)
        XCTAssertEqual(input.text, """
            History: Toy Story (1995; Animation, Children's, Comedy; dir. John Lasseter; with Tom Hanks, Tim Allen) | Heat (1995; Action, Crime, Thriller; dir. Michael Mann; with Al Pacino, Robert De Niro, Val Kilmer)
            Recommended: Casino (1995; Crime, Drama; dir. Martin Scorsese; with Robert De Niro)
            """)
        XCTAssertEqual(StudentInputRenderer().render(history: [], item: casino).text,
                       "History: (none)\nRecommended: Casino (1995; Crime, Drama; dir. Martin Scorsese; with Robert De Niro)")
        let budgeted = StudentInputRenderer(budget: input.length - 1).render(history: [toy, heat], item: casino)
        XCTAssertEqual(budgeted.keptHistory, 1)
        XCTAssertTrue(budgeted.text.hasPrefix("History: Heat (1995;"))
    }
}
