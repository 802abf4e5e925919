import Tokenizers
import XCTest

/// Compares encoding and decoding with the Hugging Face outputs stored in the golden files.
final class GoldenTests: XCTestCase {
    private static let names = ["bpe", "bpe-variant", "unigram", "unigram-precompiled", "bpe-exact"]

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
                XCTAssertEqual(tokenizer.decode(item.ids), item.decoded, label)
                XCTAssertEqual(tokenizer.decode(item.ids, skipSpecialTokens: false), item.decodedWithSpecial, label)
            }
        }
    }

    func testDecodeArbitraryIds() throws {
        try forEachGolden { name, tokenizer, golden in
            XCTAssertFalse(golden.decodeCases.isEmpty)
            for item in golden.decodeCases {
                XCTAssertEqual(tokenizer.decode(item.ids, skipSpecialTokens: item.skipSpecialTokens), item.text,
                               "\(name): \(item.ids)")
            }
        }
    }
}
