import Tokenizers
import XCTest

/// Compares encoding and decoding with the Hugging Face outputs stored in the golden files.
final class GoldenTests: XCTestCase {
    private static let names = ["bpe", "bpe-variant", "unigram", "unigram-precompiled", "bpe-exact", "wordpiece", "bpe-split", "bpe-digits"]

    private func forEachGolden(_ body: (String, Tokenizer, Golden) throws -> Void) throws {
        for name in Self.names {
            let golden = try Fixtures.golden(name)
            XCTAssertGreaterThan(golden.cases.count, 150, name)
            try body(name, try Fixtures.tokenizer(name), golden)
        }
    }

    func testEncodeWithSpecialTokens() throws {
        try forEachGolden { name, tokenizer, golden in
            for item in golden.cases {
                XCTAssertEqual(tokenizer.encode(item.text), item.ids, "\(name): \(item.text.debugDescription)")
            }
        }
    }

    func testEncodeWithoutSpecialTokens() throws {
        try forEachGolden { name, tokenizer, golden in
            for item in golden.cases {
                XCTAssertEqual(tokenizer.encode(item.text, addSpecialTokens: false), item.idsNoSpecial,
                               "\(name): \(item.text.debugDescription)")
            }
        }
    }

    func testTruncation() throws {
        try forEachGolden { name, tokenizer, golden in
            for item in golden.cases {
                let label = "\(name): \(item.text.debugDescription)"
                XCTAssertEqual(tokenizer.encode(item.text, maxLength: golden.maxLength), item.idsTruncated, label)
                XCTAssertEqual(tokenizer.encode(item.text, addSpecialTokens: false, maxLength: golden.maxLength),
                               item.idsTruncatedNoSpecial, label)
            }
        }
    }

    func testDecode() throws {
        try forEachGolden { name, tokenizer, golden in
            for item in golden.cases {
                let label = "\(name): \(item.text.debugDescription)"
                assertSameScalars(tokenizer.decode(item.ids), item.decoded, label)
                assertSameScalars(tokenizer.decode(item.ids, skipSpecialTokens: false), item.decodedWithSpecial, label)
            }
        }
    }

    func testDecodeArbitraryIds() throws {
        try forEachGolden { name, tokenizer, golden in
            XCTAssertFalse(golden.decodeCases.isEmpty)
            for item in golden.decodeCases {
                assertSameScalars(tokenizer.decode(item.ids, skipSpecialTokens: item.skipSpecialTokens), item.text,
                                  "\(name): \(item.ids)")
            }
        }
    }
}

/// Equal scalar for scalar: `XCTAssertEqual` on strings would accept canonically equivalent text
/// (a decomposed "é" for a precomposed one), which is exactly what a tokenizer must not confuse.
func assertSameScalars(_ actual: String, _ expected: String, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    if !actual.unicodeScalars.elementsEqual(expected.unicodeScalars) {
        XCTFail("\(label): \(actual.debugDescription) is not \(expected.debugDescription) scalar for scalar", file: file, line: line)
    }
}
