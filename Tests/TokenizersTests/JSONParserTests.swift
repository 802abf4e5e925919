import Foundation
import XCTest
@testable import Tokenizers

/// The tokenizer's own JSON parser: exact strings, every object member, strict errors.
final class JSONParserTests: XCTestCase {
    private func parse(_ json: String) throws -> Any { try JSONParser.parse(Data(json.utf8)) }

    private func object(_ json: String) throws -> JSONObject { try XCTUnwrap(try parse(json) as? JSONObject) }

    func testCanonicallyEquivalentKeysStayApart() throws {
        // ";" and U+037E, precomposed and decomposed "ï", escaped and literal: four keys, four values.
        let parsed = try object(#"{";": 1, "\u037e": 2, "na\u00efve": 3, "nai\u0308ve": 4}"#)
        XCTAssertEqual(parsed.members.count, 4)
        XCTAssertEqual(parsed[";"] as? Int, 1)
        XCTAssertEqual(parsed["\u{037E}"] as? Int, 2)
        XCTAssertEqual(parsed["na\u{EF}ve"] as? Int, 3)
        XCTAssertEqual(parsed["nai\u{308}ve"] as? Int, 4)
        XCTAssertEqual(parsed.members.map { Array($0.key.unicodeScalars).map(\.value) },
                       [[0x3B], [0x37E], [0x6E, 0x61, 0xEF, 0x76, 0x65], [0x6E, 0x61, 0x69, 0x308, 0x76, 0x65]])
    }

    func testARepeatedKeyKeepsItsLastValue() throws {
        let parsed = try object(#"{"a": 1, "b": 2, "a": 3}"#)
        XCTAssertEqual(parsed["a"] as? Int, 3)
        XCTAssertEqual(parsed.uniqueMembers.map(\.key), ["b", "a"])
    }

    func testStringsKeepEveryScalar() throws {
        let parsed = try object("{\"bom\": \"\u{FEFF}x\", \"escaped\": \"\\ufeff\\u0000\\ud83d\\ude42\\\"\\\\\\/\\b\\f\\n\\r\\t\"}")
        XCTAssertEqual((parsed["bom"] as? String).map { Array($0.unicodeScalars) }, ["\u{FEFF}", "x"])
        XCTAssertEqual((parsed["escaped"] as? String).map { Array($0.unicodeScalars) },
                       ["\u{FEFF}", "\u{0}", "\u{1F642}", "\"", "\\", "/", "\u{8}", "\u{C}", "\n", "\r", "\t"])
        // A byte order mark before the document is skipped.
        XCTAssertEqual(((try JSONParser.parse(Data([0xEF, 0xBB, 0xBF] + Array("{\"k\": 1}".utf8)))) as? JSONObject)?["k"] as? Int, 1)
    }

    func testValuesOfEveryKind() throws {
        let parsed = try object(#"{"i": -12, "d": 0.25, "e": 1e3, "t": true, "f": false, "n": null, "a": [1, [2], {}], "o": {"x": "y"}}"#)
        XCTAssertEqual(parsed["i"] as? Int, -12)
        XCTAssertEqual(parsed["d"] as? Double, 0.25)
        XCTAssertEqual(parsed["e"] as? Double, 1000)
        XCTAssertEqual(parsed["t"] as? Bool, true)
        XCTAssertEqual(parsed["f"] as? Bool, false)
        XCTAssertTrue(parsed["n"] is NSNull)
        XCTAssertEqual((parsed["a"] as? [Any])?.count, 3)
        XCTAssertEqual((parsed["o"] as? JSONObject)?["x"] as? String, "y")
    }

    func testMalformedDocumentsAreRefused() {
        let bad: [[UInt8]] = [
            Array(#"{"a": 1"#.utf8), Array(#"{"a" 1}"#.utf8), Array(#"{"a": 1,}"#.utf8), Array(#"[1, 2"#.utf8),
            Array(#"{"a": "\ud800"}"#.utf8), Array(#"{"a": "\udc00x"}"#.utf8), Array(#"{"a": "\u12"}"#.utf8),
            Array(#"{"a": "\q"}"#.utf8), Array("{\"a\": \"tab\there\"}".utf8), Array(#"{"a": 1} x"#.utf8),
            Array(#"{"a": tru}"#.utf8), Array(#"{"a": -}"#.utf8), Array(#"{"a": 1.}"#.utf8), [],
            [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D],  // {"a":"<invalid UTF-8>"}
            Array(String(repeating: "[", count: 600).utf8) + Array(String(repeating: "]", count: 600).utf8),
        ]
        for bytes in bad {
            do {
                _ = try JSONParser.parse(Data(bytes))
                XCTFail("accepted \(String(decoding: bytes.prefix(40), as: UTF8.self).debugDescription)")
            } catch {
                guard case .invalidJSON = error else { return XCTFail("\(error)") }
            }
        }
    }

    /// Against Foundation's parser on every committed tokenizer file: the same values wherever the
    /// keys do not collide.
    func testAgreesWithFoundationOnTheFixtures() throws {
        for name in ["bpe", "bpe-variant", "unigram", "unigram-precompiled"] {
            let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("\(name).json"))
            let ours = try JSONParser.parse(data)
            let foundation = try JSONSerialization.jsonObject(with: data)
            XCTAssertTrue(Self.same(ours, foundation), name)
        }
    }

    static func same(_ ours: Any, _ theirs: Any) -> Bool {
        switch ours {
        case let object as JSONObject:
            guard let dictionary = theirs as? [String: Any], dictionary.count == object.uniqueMembers.count else { return false }
            return object.uniqueMembers.allSatisfy { member in dictionary[member.key].map { same(member.value, $0) } ?? false }
        case let array as [Any]:
            guard let other = theirs as? [Any], other.count == array.count else { return false }
            return zip(array, other).allSatisfy { same($0, $1) }
        case let string as String: return (theirs as? String).map { Array($0.unicodeScalars) == Array(string.unicodeScalars) } ?? false
        case let bool as Bool: return (theirs as? Bool) == bool
        case let int as Int: return (theirs as? NSNumber)?.doubleValue == Double(int)
        case let double as Double: return (theirs as? NSNumber)?.doubleValue == double
        case is NSNull: return theirs is NSNull
        default: return false
        }
    }
}
