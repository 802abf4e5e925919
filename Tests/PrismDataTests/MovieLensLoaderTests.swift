import Foundation
import XCTest
@testable import PrismData

final class MovieLensLoaderTests: XCTestCase {
    func write100K(_ dir: TempDir, data: String) throws {
        try dir.write("u.data", data)
        var item = "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
        item += "2|Cité des enfants perdus, La (1995)|01-Jan-1995||http://y|0|0|1|0|0|0|0|0|1|1|0|0|0|0|0|1|0|0|0\n"
        item += "3|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
        try dir.write("u.item", bytes: latin1(item))
        try dir.write("u.user", "1|24|M|technician|85711\n2|53|F|other|94043\n")
    }

    func testML100KLoadsRatingsItemsUsersWithLatin1Titles() throws {
        let dir = try TempDir()
        try write100K(dir, data: "1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t888550871\n")
        let ds = try loadDataset(kind: .ml100k, directory: dir.url)
        XCTAssertEqual(ds.name, "ml-100k")
        XCTAssertEqual(ds.interactions.count, 3)
        XCTAssertEqual(ds.interactions[0], Interaction(userID: "1", itemID: "1", timestamp: 874_965_758, rating: 5))
        XCTAssertEqual(ds.catalog.count, 3)
        let cite = try XCTUnwrap(ds.catalog["2"])
        XCTAssertEqual(cite.title, "La Cité des enfants perdus")
        XCTAssertEqual(cite.year, 1995)
        XCTAssertEqual(cite.genres, ["Adventure", "Drama", "Fantasy", "Sci-Fi"])
        XCTAssertEqual(cite.attributes["original_title"], "Cité des enfants perdus, La (1995)")
        XCTAssertEqual(ds.catalog["1"]?.genres, ["Animation", "Children's", "Comedy"])
        XCTAssertEqual(ds.catalog["3"]?.title, "unknown")
        XCTAssertEqual(ds.catalog["3"]?.year, nil)
        XCTAssertEqual(ds.users["2"]?["occupation"], "other")
        XCTAssertEqual(ds.users["1"]?["age"], "24")
    }

    func testML100KMalformedLineStrictNamesFileAndLine() throws {
        let dir = try TempDir()
        try write100K(dir, data: "1\t1\t5\t874965758\n1\t2\t3\n2\t1\tfour\t888550871\n")
        assertMalformed(file: "u.data", line: 2) { _ = try loadDataset(kind: .ml100k, directory: dir.url) }
    }

    func testML100KLenientSkipsAndCounts() throws {
        let dir = try TempDir()
        try write100K(dir, data: "1\t1\t5\t874965758\n1\t2\t3\n\n2\t1\tfour\t888550871\n2\t2\t1\t888550872\n")
        let ds = try loadDataset(kind: .ml100k, directory: dir.url, options: LoadOptions(lenient: true))
        XCTAssertEqual(ds.interactions.count, 2)
        let path = dir.url.appendingPathComponent("u.data").path
        XCTAssertEqual(ds.report.skipped[path], 2)
        XCTAssertEqual(ds.report.linesRead[path], 4)
        XCTAssertEqual(ds.report.totalSkipped, 2)
        XCTAssertEqual(ds.report.firstProblems.count, 2)
        XCTAssertTrue(ds.report.summary.contains("skipped 2 of 4 lines"), ds.report.summary)
        guard case .malformedLine(_, 4, _)? = ds.report.firstProblems.last else {
            return XCTFail("expected line 4, got \(ds.report.firstProblems)")
        }
    }

    func testML100KBadGenreFlagIsMalformed() throws {
        let dir = try TempDir()
        try write100K(dir, data: "1\t1\t5\t874965758\n")
        try dir.write("u.item", "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                      + "2|Heat (1995)|01-Jan-1995||http://y|0|0|0\n")
        assertMalformed(file: "u.item", line: 2) { _ = try loadDataset(kind: .ml100k, directory: dir.url) }
    }

    func testMissingFileIsReported() throws {
        let dir = try TempDir()
        XCTAssertThrowsError(try loadDataset(kind: .ml100k, directory: dir.url)) { error in
            guard case DataError.fileNotFound(let path) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("u.data"))
        }
    }

    func testML1MDoubleColonLatin1() throws {
        let dir = try TempDir()
        try dir.write("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n")
        try dir.write("movies.dat", bytes: latin1(
            "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
            + "2::Bossa Nova (1999)::Comedy|Romance\n3::Niño, El (1992)::Drama\n"))
        try dir.write("users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n")
        let ds = try loadDataset(kind: .ml1m, directory: dir.url)
        XCTAssertEqual(ds.name, "ml-1m")
        XCTAssertEqual(ds.interactions.map(\.itemID), ["1193", "661", "1193"])
        XCTAssertEqual(ds.catalog["661"]?.genres, ["Animation", "Children's", "Musical"])
        XCTAssertEqual(ds.catalog["3"]?.title, "El Niño")
        XCTAssertEqual(ds.users["1"]?["occupation"], "K-12 student")
        XCTAssertEqual(ds.users["2"]?["gender"], "M")
    }

    func testML1MMalformedAndLenient() throws {
        let dir = try TempDir()
        try dir.write("ratings.dat", "1::1193::5::978300760\n1::661:3::978302109\n")
        assertMalformed(file: "ratings.dat", line: 2) { _ = try loadDataset(kind: .ml1m, directory: dir.url) }
        let ds = try loadDataset(kind: .ml1m, directory: dir.url, options: LoadOptions(lenient: true))
        XCTAssertEqual(ds.interactions.count, 1)
        XCTAssertEqual(ds.report.totalSkipped, 1)
    }

    func testMLLatestCSVWithQuotedTitlesTagsLinks() throws {
        let dir = try TempDir()
        try dir.write("ratings.csv", "userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,4.5,964981247\r\n2,1,3.0,964982224\r\n")
        try dir.write("movies.csv", """
            movieId,title,genres
            1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy
            3,"Grumpier Old Men, The (1995)",Comedy|Romance
            11,"American President, The (1995)",Comedy|Drama|Romance
            12,"Dracula: Dead and Loving It (1995)",Comedy|Horror
            13,"Film ""Quoted"" Title, with comma (2001)",(no genres listed)

            """)
        try dir.write("tags.csv", "userId,movieId,tag,timestamp\n2,1,pixar,1\n3,1,fun,2\n4,1,pixar,3\n5,3,\"old, grumpy\",4\n")
        try dir.write("links.csv", "movieId,imdbId,tmdbId\n1,0114709,862\n3,0113228,\n")
        let ds = try loadDataset(kind: .mlLatest, directory: dir.url)
        XCTAssertEqual(ds.interactions.count, 3)
        XCTAssertEqual(ds.interactions[1].rating, 4.5)
        XCTAssertEqual(ds.catalog["3"]?.title, "The Grumpier Old Men")
        XCTAssertEqual(ds.catalog["3"]?.year, 1995)
        XCTAssertEqual(ds.catalog["13"]?.title, "Film \"Quoted\" Title, with comma")
        XCTAssertEqual(ds.catalog["13"]?.genres, [])
        XCTAssertEqual(ds.catalog["12"]?.title, "Dracula: Dead and Loving It")
        XCTAssertEqual(ds.catalog["1"]?.attributes["tags"], "pixar, fun")
        XCTAssertEqual(ds.catalog["3"]?.attributes["tags"], "old, grumpy")
        XCTAssertEqual(ds.catalog["1"]?.attributes["imdb_id"], "0114709")
        XCTAssertEqual(ds.catalog["3"]?.attributes["tmdb_id"], nil)
    }

    func testMLLatestMalformedRowNamesLine() throws {
        let dir = try TempDir()
        try dir.write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5\n")
        try dir.write("movies.csv", "movieId,title,genres\n1,Toy Story (1995),Comedy\n")
        assertMalformed(file: "ratings.csv", line: 3) { _ = try loadDataset(kind: .mlLatest, directory: dir.url) }
        try dir.write("ratings.csv", "userId,movieId,timestamp\n1,1,964982703\n")
        XCTAssertThrowsError(try loadDataset(kind: .mlLatest, directory: dir.url)) { error in
            XCTAssertEqual(error as? DataError,
                           .missingColumn(file: dir.url.appendingPathComponent("ratings.csv").path, column: "rating"))
        }
    }
}
