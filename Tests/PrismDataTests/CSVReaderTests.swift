import Foundation
import XCTest
@testable import PrismData

final class CSVReaderTests: XCTestCase {
    func records(_ text: String, lenient: Bool = false) throws -> (records: [[String]], lines: [Int], report: LoadReport) {
        let dir = try TempDir()
        let url = try dir.write("t.csv", text)
        var out: [[String]] = []
        var lines: [Int] = []
        var report = LoadReport()
        try CSVReader(url: url, lenient: lenient).forEachRecord(report: &report) { r, line in
            out.append(r)
            lines.append(line)
        }
        return (out, lines, report)
    }

    func testQuotedFieldsEmbeddedCommasAndDoubledQuotes() throws {
        let r = try records("a,\"b, c\",\"say \"\"hi\"\"\",,\"\"\n1,2,3,4,5\n")
        XCTAssertEqual(r.records, [["a", "b, c", "say \"hi\"", "", ""], ["1", "2", "3", "4", "5"]])
    }

    func testQuotedLineBreakSpansLinesAndKeepsStartLine() throws {
        let r = try records("id,text\n1,\"first\nsecond\"\n2,plain\n")
        XCTAssertEqual(r.records, [["id", "text"], ["1", "first\nsecond"], ["2", "plain"]])
        XCTAssertEqual(r.lines, [1, 2, 4])
    }

    func testUTF8AndCRLFAndTrailingLineWithoutNewline() throws {
        let r = try records("\u{FEFF}x,y\r\n\"Amélie (2001)\",ok\r\nlast,row")
        XCTAssertEqual(r.records, [["x", "y"], ["Amélie (2001)", "ok"], ["last", "row"]])
    }

    func testMalformedQuotesStrictAndLenient() throws {
        let text = "a,b\n\"x\"y,1\nab\"c,2\nok,3\n"
        XCTAssertThrowsError(try records(text)) { error in
            guard case DataError.malformedLine(let file, 2, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(file.hasSuffix("t.csv"))
            XCTAssertTrue(reason.contains("closing quote"), reason)
        }
        let r = try records(text, lenient: true)
        XCTAssertEqual(r.records, [["a", "b"], ["ok", "3"]])
        XCTAssertEqual(r.report.totalSkipped, 2)
    }

    func testUnterminatedQuoteReportsStartLine() throws {
        XCTAssertThrowsError(try records("a,b\n1,\"open\n2,3\n")) { error in
            guard case DataError.malformedLine(_, 2, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("unterminated"), reason)
        }
    }

    func testInvalidUTF8IsMalformed() throws {
        let dir = try TempDir()
        let url = try dir.write("bad.csv", bytes: Array("a,b\n".utf8) + [0x63, 0xFF, 0x2C, 0x64, 0x0A])
        var report = LoadReport()
        XCTAssertThrowsError(try CSVReader(url: url).forEachRecord(report: &report) { _, _ in }) { error in
            guard case DataError.malformedLine(_, 2, _) = error else { return XCTFail("\(error)") }
        }
    }

    func testByteHelpers() throws {
        let line = Array("12::-7::x y::3.5".utf8)
        try line.withUnsafeBufferPointer { b in
            let f = b.fields(separatedBy: [0x3A, 0x3A])
            XCTAssertEqual(f.count, 4)
            XCTAssertEqual(f[0].int64(), 12)
            XCTAssertEqual(f[1].int64(), -7)
            XCTAssertEqual(f[2].int64(), nil)
            XCTAssertEqual(try f[2].text(.utf8), "x y")
            XCTAssertEqual(f[3].double(), 3.5)
        }
        XCTAssertEqual(parseDateTime("1970-01-02"), 86_400)
        XCTAssertEqual(parseDateTime("2016-03-09 00:44:42"), 1_457_484_282)
        XCTAssertEqual(parseDateTime("2016-03-09T01:44:42+01:00"), 1_457_484_282)
        XCTAssertEqual(parseDateTime("2016-03-09T00:44:42.5Z"), 1_457_484_282)
        XCTAssertNil(parseDateTime("09/03/2016"))
        XCTAssertTrue(naturalIDLess("9", "10"))
        XCTAssertFalse(naturalIDLess("10", "9"))
        XCTAssertTrue(naturalIDLess("10", "a"))
        XCTAssertTrue(naturalIDLess("abc", "abd"))
    }
}
