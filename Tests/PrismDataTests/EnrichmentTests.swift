import Foundation
import XCTest
@testable import PrismData

final class EnrichmentTests: XCTestCase {
    static let extraInfos = """
        1::Toy Story::1995::G::22 Nov 1995::Animation, Adventure, Comedy::John Lasseter::John Lasseter (original story by), Pete Docter (original story by)::Tom Hanks, Tim Allen, Don Rickles, Jim Varney::A cowboy doll is threatened by a new spaceman figure.::https://example.com/1.jpg\r
        50::The Usual Suspects::1995::R::15 Sep 1995::Crime, Mystery, Thriller::Bryan Singer::Christopher McQuarrie::Kevin Spacey, Gabriel Byrne::A sole survivor tells of the twisty events.::N/A\r
        318::The Shawshank Redemption::1994::R::14 Oct 1994::Drama::Frank Darabont::Stephen King (short story "Rita Hayworth and Shawshank Redemption"), Frank Darabont (screenplay)::Tim Robbins, Morgan Freeman::Two imprisoned men bond.::N/A\r
        58::The Postman::1994::PG::14 Jun 1995::Comedy, Drama, Romance::Michael Radford::N/A::Philippe Noiret, Massimo Troisi::A simple Italian postman learns to love poetry.::N/A\r
        99::Heidi Fleiss: Hollywood Madam::1995::UNRATED::09 Feb 1996::Documentary::Nick Broomfield::N/A::Nick Broomfield::A documentary.::N/A\r

        """

    func table(_ dir: TempDir) throws -> MovieMetadataTable {
        var report = LoadReport()
        let url = try dir.write("movies_extrainfos.dat", Self.extraInfos)
        return try MovieMetadataTable.load(url, report: &report)
    }

    func testParsesExtraInfos() throws {
        let t = try table(try TempDir())
        XCTAssertEqual(t.count, 5)
        let s = try XCTUnwrap(t.records["318"])
        XCTAssertEqual(s.writers, ["Stephen King (short story \"Rita Hayworth and Shawshank Redemption\")",
                                   "Frank Darabont (screenplay)"])
        XCTAssertEqual(s.actors, ["Tim Robbins", "Morgan Freeman"])
        XCTAssertEqual(t.records["50"]?.posterURL, nil)
        XCTAssertEqual(t.records["58"]?.writers, [])
        XCTAssertEqual(t.records["1"]?.mpaa, "G")
    }

    func testJoinByID() throws {
        var catalog = ItemCatalog([
            CatalogItem(id: "1", title: "Toy Story", year: 1995, genres: ["Animation", "Children's", "Comedy"]),
            CatalogItem(id: "2", title: "Jumanji", year: 1995),
        ])
        let report = enrich(&catalog, with: try table(try TempDir()), join: .byID)
        XCTAssertEqual(report.enriched, 1)
        XCTAssertEqual(report.catalogItems, 2)
        XCTAssertEqual(report.unmatchedExamples, ["2"])
        let toy = try XCTUnwrap(catalog["1"])
        XCTAssertEqual(toy.genres, ["Animation", "Children's", "Comedy"], "existing genres are kept")
        XCTAssertEqual(toy.directors, ["John Lasseter"])
        XCTAssertEqual(toy.actors.first, "Tom Hanks")
        XCTAssertEqual(toy.attributes["mpaa"], "G")
        XCTAssertNotNil(toy.plot)
        XCTAssertTrue(report.summary.hasPrefix("enriched 1 of 2 items"), report.summary)
    }

    func testJoinByTitleAndYearHandlesArticlesAndAlternates() throws {
        var catalog = ItemCatalog([
            CatalogItem(id: "64", title: "The Shawshank Redemption", year: 1994,
                        attributes: ["original_title": "Shawshank Redemption, The (1994)"]),
            CatalogItem(id: "12", title: "The Usual Suspects", year: 1995,
                        attributes: ["original_title": "Usual Suspects, The (1995)"]),
            CatalogItem(id: "14", title: "Il Postino", year: 1994, attributes: ["original_title": "Postino, Il (1994)"]),
            CatalogItem(id: "7", title: "Heidi Fleiss: Hollywood Madam", year: 1996),  // ±1 year
            CatalogItem(id: "8", title: "Toy Story", year: 2010),  // wrong year: no match
        ])
        var t = try table(try TempDir())
        // Without the ML-1M spelling "Postino, Il (The Postman)" the Italian title cannot match.
        var withoutBridge = catalog
        XCTAssertEqual(enrich(&withoutBridge, with: t, join: .byTitleYear).enriched, 3)
        t.addTitle("Postino, Il (The Postman)", year: 1994, for: "58")
        let report = enrich(&catalog, with: t, join: .byTitleYear)
        XCTAssertEqual(report.enriched, 4)
        XCTAssertEqual(catalog["64"]?.directors, ["Frank Darabont"])
        XCTAssertEqual(catalog["64"]?.attributes["metadata_id"], "318")
        XCTAssertEqual(catalog["12"]?.directors, ["Bryan Singer"])
        XCTAssertEqual(catalog["14"]?.actors, ["Philippe Noiret", "Massimo Troisi"])
        XCTAssertEqual(catalog["7"]?.directors, ["Nick Broomfield"])
        XCTAssertEqual(catalog["8"]?.directors, [])
        XCTAssertEqual(report.unmatchedExamples, ["8"])
    }

    func testTitleHelpers() {
        XCTAssertEqual(MovieTitle.splitYear("Toy Story (1995)").title, "Toy Story")
        XCTAssertEqual(MovieTitle.splitYear("Toy Story (1995)").year, 1995)
        XCTAssertEqual(MovieTitle.splitYear("Babylon 5").year, nil)
        XCTAssertEqual(MovieTitle.splitYear("Big Bang Theory (2007-)").year, 2007)
        XCTAssertEqual(MovieTitle.splitYear("Postino, Il (The Postman) (1994)").title, "Postino, Il (The Postman)")
        XCTAssertEqual(MovieTitle.display("Shawshank Redemption, The"), "The Shawshank Redemption")
        XCTAssertEqual(MovieTitle.display("Postino, Il (The Postman)"), "Il Postino (The Postman)")
        XCTAssertEqual(MovieTitle.display("Enfer, L'"), "L'Enfer")
        XCTAssertEqual(MovieTitle.display("Crouching Tiger, Hidden Dragon"), "Crouching Tiger, Hidden Dragon")
        XCTAssertEqual(MovieTitle.normalizedKey("Shawshank Redemption, The"), MovieTitle.normalizedKey("The Shawshank Redemption"))
        XCTAssertEqual(MovieTitle.normalizedKey("Amélie"), "amelie")
        XCTAssertEqual(MovieTitle.normalizedKey("Sense & Sensibility"), "sense and sensibility")
        XCTAssertTrue(MovieTitle.keyVariants("Postino, Il (The Postman)").contains("the postman"))
    }

    func testPartialTitlesMatchOnlyAsALastResortInTheSameYear() throws {
        var t = MovieMetadataTable()
        t.add(MovieMetadata(id: "260", title: "Star Wars: Episode IV - A New Hope", year: 1977, genres: [],
                            directors: ["George Lucas"], writers: [], actors: []))
        t.add(MovieMetadata(id: "1196", title: "Star Wars: Episode V - The Empire Strikes Back", year: 1980, genres: [],
                            directors: ["Irvin Kershner"], writers: [], actors: []))
        XCTAssertEqual(t.lookup(title: "Star Wars", year: 1977)?.id, "260")
        XCTAssertEqual(t.lookup(title: "Empire Strikes Back, The", year: 1980)?.id, "1196")
        XCTAssertNil(t.lookup(title: "Star Wars", year: 1978))
        XCTAssertNil(t.lookup(title: "Star Wars", year: nil))
    }
}
