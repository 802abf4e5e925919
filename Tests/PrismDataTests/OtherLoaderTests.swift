import Foundation
import XCTest
@testable import PrismData

final class OtherLoaderTests: XCTestCase {
    func testYelpJSONLines() throws {
        let dir = try TempDir()
        try dir.write("yelp_academic_dataset_review.json", """
            {"review_id":"r1","user_id":"u-A","business_id":"b_1","stars":4.0,"useful":0,"text":"Great \\"tacos\\"\\nyum","date":"2016-03-09 00:44:42"}
            {"review_id":"r2","user_id":"u-A","business_id":"b_2","stars":2,"text":"meh","date":"2017-01-01 10:00:00"}

            """)
        try dir.write("yelp_academic_dataset_business.json", """
            {"business_id":"b_1","name":"Taco Spot","city":"Tucson","state":"AZ","stars":4.5,"review_count":10,"categories":"Mexican, Restaurants","attributes":{"WiFi":"no"}}
            {"business_id":"b_2","name":"Salad Bar","city":"Reno","state":"NV","stars":3,"review_count":5,"categories":null}

            """)
        try dir.write("yelp_academic_dataset_user.json", """
            {"user_id":"u-A","name":"Ann","review_count":2,"yelping_since":"2010-01-01 00:00:00","average_stars":3.5,"fans":1,"friends":"x, y"}

            """)
        let ds = try loadDataset(kind: .yelp, directory: dir.url)
        XCTAssertEqual(ds.interactions, [
            Interaction(userID: "u-A", itemID: "b_1", timestamp: 1_457_484_282, rating: 4),
            Interaction(userID: "u-A", itemID: "b_2", timestamp: 1_483_264_800, rating: 2),
        ])
        XCTAssertEqual(ds.catalog["b_1"]?.title, "Taco Spot")
        XCTAssertEqual(ds.catalog["b_1"]?.genres, ["Mexican", "Restaurants"])
        XCTAssertEqual(ds.catalog["b_1"]?.attributes["city"], "Tucson")
        XCTAssertEqual(ds.catalog["b_1"]?.attributes["stars"], "4.5")
        XCTAssertEqual(ds.catalog["b_2"]?.genres, [])
        XCTAssertEqual(ds.users["u-A"]?["average_stars"], "3.5")
    }

    func testYelpMalformedLines() throws {
        let dir = try TempDir()
        try dir.write("review.json", """
            {"user_id":"u1","business_id":"b1","stars":4,"date":"2016-03-09 00:44:42"}
            {"user_id":"u1","business_id":"b2","stars":4,"date":"yesterday"}
            {"user_id":"u1","business_id":
            {"business_id":"b3","stars":4,"date":"2016-03-09 00:44:42"}

            """)
        assertMalformed(file: "review.json", line: 2) { _ = try loadDataset(kind: .yelp, directory: dir.url) }
        let ds = try loadDataset(kind: .yelp, directory: dir.url, options: LoadOptions(lenient: true))
        XCTAssertEqual(ds.interactions.count, 1)
        XCTAssertEqual(ds.report.totalSkipped, 3)
    }

    func testRecBoleAtomicFiles() throws {
        let dir = try TempDir()
        try dir.write("ml.inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                      + "1\t10\t4\t881250949.0\n1\t20\t3.5\t881250950\n2\t10\t5\t881250951\n")
        try dir.write("ml.item", "item_id:token\tmovie_title:token_seq\trelease_year:token\tgenre:token_seq\tscore:float_seq\n"
                      + "10\tToy Story\t1995\tAnimation Comedy\t1.5 2\n20\tHeat\t1995\tAction\t\n")
        try dir.write("ml.user", "user_id:token\tage:token\tgender:token\n1\t24\tM\n2\t53\tF\n")
        let ds = try loadDataset(kind: .recbole, directory: dir.url)
        XCTAssertEqual(ds.name, "ml")
        XCTAssertEqual(ds.interactions[0], Interaction(userID: "1", itemID: "10", timestamp: 881_250_949, rating: 4))
        XCTAssertEqual(ds.interactions[1].rating, 3.5)
        XCTAssertEqual(ds.catalog["10"]?.title, "Toy Story")
        XCTAssertEqual(ds.catalog["10"]?.year, 1995)
        XCTAssertEqual(ds.catalog["10"]?.genres, ["Animation", "Comedy"])
        XCTAssertEqual(ds.catalog["10"]?.attributes["score"], "1.5, 2")
        XCTAssertEqual(ds.users["2"], ["age": "53", "gender": "F"])
    }

    func testRecBoleBadHeaderAndBadFloat() throws {
        let dir = try TempDir()
        try dir.write("x.inter", "user_id:token\titem_id:token\trating:float\n1\t10\tgood\n1\t11\t3\n")
        assertMalformed(file: "x.inter", line: 2) { _ = try loadDataset(kind: .recbole, directory: dir.url) }
        let ds = try loadDataset(kind: .recbole, directory: dir.url, options: LoadOptions(lenient: true))
        XCTAssertEqual(ds.interactions.count, 1)
        XCTAssertEqual(ds.interactions[0].timestamp, 3, "without a timestamp column the line number orders events")
        try dir.write("x.inter", "user_id\titem_id:token\n1\t10\n")
        assertMalformed(file: "x.inter", line: 1) {
            _ = try loadDataset(kind: .recbole, directory: dir.url, options: LoadOptions(lenient: true))
        }
    }

    func testGenericCSVWithHeaderAndItems() throws {
        let dir = try TempDir()
        try dir.write("interactions.csv", "user_id,item_id,timestamp,rating\nalice,m1,2020-01-02,5\nalice,m2,1577923200,\nbob,m1,1577923300.7,3\n")
        try dir.write("items.csv", "id,title,year,genres,director,actors,studio\n"
                      + "m1,\"Heat\",1995,Action|Crime,Michael Mann,\"Al Pacino, Robert De Niro\",Warner\nm2,Casino,,Crime,,,\n")
        try dir.write("users.csv", "user_id,country\nalice,FR\nbob,\n")
        let ds = try loadDataset(kind: .csv, directory: dir.url, options: LoadOptions(name: "mine"))
        XCTAssertEqual(ds.name, "mine")
        XCTAssertEqual(ds.interactions, [
            Interaction(userID: "alice", itemID: "m1", timestamp: 1_577_923_200, rating: 5),
            Interaction(userID: "alice", itemID: "m2", timestamp: 1_577_923_200, rating: nil),
            Interaction(userID: "bob", itemID: "m1", timestamp: 1_577_923_300, rating: 3),
        ])
        let heat = try XCTUnwrap(ds.catalog["m1"])
        XCTAssertEqual(heat.genres, ["Action", "Crime"])
        XCTAssertEqual(heat.directors, ["Michael Mann"])
        XCTAssertEqual(heat.actors, ["Al Pacino", "Robert De Niro"])
        XCTAssertEqual(heat.year, 1995)
        XCTAssertEqual(heat.attributes, ["studio": "Warner"])
        XCTAssertEqual(ds.catalog["m2"]?.year, nil)
        XCTAssertEqual(ds.users["alice"], ["country": "FR"])
    }

    func testGenericCSVWithoutHeaderAndMalformed() throws {
        let dir = try TempDir()
        try dir.write("interactions.csv", "u1,i1,100\nu1,i2,x\nu2,i1,300,4\n")
        assertMalformed(file: "interactions.csv", line: 2) { _ = try loadDataset(kind: .csv, directory: dir.url) }
        let ds = try loadDataset(kind: .csv, directory: dir.url, options: LoadOptions(lenient: true))
        XCTAssertEqual(ds.interactions.map(\.itemID), ["i1", "i1"])
        XCTAssertEqual(ds.interactions[1].rating, 4)
        XCTAssertEqual(ds.report.totalSkipped, 1)
    }

    func testGenericCSVTabDelimiter() throws {
        let dir = try TempDir()
        try dir.write("interactions.csv", "user\titem\ttime\nu1\ti1\t100\n")
        let ds = try loadDataset(kind: .csv, directory: dir.url, options: LoadOptions(csvDelimiter: "\t"))
        XCTAssertEqual(ds.interactions, [Interaction(userID: "u1", itemID: "i1", timestamp: 100)])
    }

    func testDatasetKindArguments() {
        XCTAssertEqual(DatasetKind(argument: "ml-100k"), .ml100k)
        XCTAssertEqual(DatasetKind(argument: "ML_1M"), .ml1m)
        XCTAssertEqual(DatasetKind(argument: "ml-latest-small"), .mlLatest)
        XCTAssertEqual(DatasetKind(argument: "atomic"), .recbole)
        XCTAssertNil(DatasetKind(argument: "netflix"))
        XCTAssertEqual(SplitStrategy(argument: "last-out"), .lastOut)
        XCTAssertEqual(SplitStrategy(argument: "time"), .timeCut(train: 0.8, valid: 0.1))
        XCTAssertNil(SplitStrategy(argument: "sideways"))
    }
}
