import Foundation
import Synchronization
import Tokenizers
import XCTest

/// The public API around encode/decode: lookups, special ids, truncation edges, older file
/// formats, concurrency and long inputs.
final class TokenizerAPITests: XCTestCase {
    func testSpecialTokenIdsBPE() throws {
        let tokenizer = try Fixtures.tokenizer("bpe")
        XCTAssertEqual(tokenizer.bosTokenId, 0)
        XCTAssertEqual(tokenizer.padTokenId, 1)
        XCTAssertEqual(tokenizer.eosTokenId, 2)
        XCTAssertEqual(tokenizer.unknownTokenId, 3)
        XCTAssertEqual(tokenizer.specialTokenIds, [0, 1, 2, 3, 4])
        XCTAssertEqual(tokenizer.vocabularySize, 1000)
    }

    func testSpecialTokenIdsUnigram() throws {
        let tokenizer = try Fixtures.tokenizer("unigram")
        XCTAssertNil(tokenizer.bosTokenId)
        XCTAssertEqual(tokenizer.eosTokenId, 1)
        XCTAssertEqual(tokenizer.padTokenId, 0)
        XCTAssertEqual(tokenizer.unknownTokenId, 2)
        XCTAssertEqual(tokenizer.vocabularySize, 600)
    }

    func testTokenLookups() throws {
        let bpe = try Fixtures.tokenizer("bpe")
        XCTAssertEqual(bpe.tokenToId("<mask>"), 4)
        XCTAssertEqual(bpe.idToToken(4), "<mask>")
        XCTAssertNil(bpe.tokenToId("definitely not a token"))
        XCTAssertNil(bpe.idToToken(-1))
        XCTAssertNil(bpe.idToToken(1_000_000))
        for id in 0..<bpe.vocabularySize {
            let token = try XCTUnwrap(bpe.idToToken(id), "id \(id)")
            XCTAssertEqual(bpe.tokenToId(token), id)
        }
        let variant = try Fixtures.tokenizer("bpe-variant")
        let added = try XCTUnwrap(variant.tokenToId("movie night"))
        XCTAssertEqual(variant.idToToken(added), "movie night")
        XCTAssertEqual(variant.vocabularySize, 1003)
    }

    /// Canonically equivalent tokens (";" and U+037E, precomposed and decomposed accents) keep their own
    /// ids both ways: every id of the file maps to its exact token and back, and the word cache does not
    /// answer one spelling with the other's ids.
    func testCanonicallyEquivalentTokensKeepTheirOwnIds() throws {
        let url = Fixtures.directory.appendingPathComponent("bpe-exact.json")
        let tokenizer = try Tokenizer(contentsOf: url)
        let file = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let modelVocabulary = try XCTUnwrap((file["model"] as? [String: Any])?["vocab"] as? [String: Int])
        // Foundation's dictionary merges the equivalent keys, so count ids instead of keys.
        let maxId = try XCTUnwrap(modelVocabulary.values.max())
        var seen = Set<Int>()
        for id in 0...maxId {
            let token = try XCTUnwrap(tokenizer.idToToken(id), "id \(id) has no token")
            XCTAssertEqual(tokenizer.tokenToId(token), id, "\(token.unicodeScalars.map { String($0.value, radix: 16) })")
            seen.insert(id)
        }
        XCTAssertEqual(seen.count, maxId + 1)
        let semicolon = try XCTUnwrap(tokenizer.tokenToId(";")), greek = try XCTUnwrap(tokenizer.tokenToId("\u{037E}"))
        XCTAssertNotEqual(semicolon, greek)
        XCTAssertEqual(tokenizer.decode([semicolon]), ";")
        XCTAssertEqual(tokenizer.decode([greek]).unicodeScalars.map(\.value), [0x37E])
        let composed = tokenizer.encode("na\u{EF}ve", addSpecialTokens: false)
        let decomposed = tokenizer.encode("nai\u{308}ve", addSpecialTokens: false)
        XCTAssertNotEqual(composed, decomposed)
        XCTAssertEqual(tokenizer.encode("na\u{EF}ve", addSpecialTokens: false), composed, "cached")
        XCTAssertEqual(tokenizer.decode(decomposed).unicodeScalars.map(\.value), [0x6E, 0x61, 0x69, 0x308, 0x76, 0x65])
    }

    func testTokenizeGivesTokenStrings() throws {
        let bpe = try Fixtures.tokenizer("bpe")
        let text = "The movie was great!"
        XCTAssertEqual(bpe.tokenize(text), bpe.encode(text, addSpecialTokens: false).map { bpe.idToToken($0) ?? "?" })
        XCTAssertEqual(bpe.tokenize(text).joined(), "TheĠmovieĠwasĠgreat!")
        let unigram = try Fixtures.tokenizer("unigram")
        XCTAssertEqual(unigram.tokenize("the movie").first?.first, "▁")
    }

    func testTruncationKeepsSpecialTokens() throws {
        let bpe = try Fixtures.tokenizer("bpe")
        let text = "We recommend this movie because you watched three noir films last week."
        let full = bpe.encode(text)
        XCTAssertGreaterThan(full.count, 10)
        let cut = bpe.encode(text, maxLength: 10)
        XCTAssertEqual(cut.count, 10)
        XCTAssertEqual(cut.first, 0)
        XCTAssertEqual(cut.last, 2)
        XCTAssertEqual(Array(cut[1..<9]), Array(full[1..<9]))
        XCTAssertEqual(bpe.encode(text, maxLength: full.count), full)
        XCTAssertEqual(bpe.encode(text, maxLength: 1000), full)
        // Too short for the special tokens themselves: never longer than asked.
        XCTAssertEqual(bpe.encode(text, maxLength: 2), [0, 2])
        XCTAssertEqual(bpe.encode(text, maxLength: 1), [0])
        XCTAssertEqual(bpe.encode(text, maxLength: 0), [])
        XCTAssertEqual(bpe.encode(text, addSpecialTokens: false, maxLength: 3), Array(full[1..<4]))
    }

    func testTruncationFromFile() throws {
        let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("bpe.json"))
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        object["truncation"] = ["direction": "Right", "max_length": 5, "strategy": "LongestFirst", "stride": 0]
        let tokenizer = try Tokenizer(jsonData: JSONSerialization.data(withJSONObject: object))
        let text = "A heist movie with clever twists, sharp dialogue and a final act."
        XCTAssertEqual(tokenizer.encode(text).count, 5)
        XCTAssertEqual(tokenizer.encode(text, maxLength: 7).count, 7)
        object["truncation"] = ["direction": "Left", "max_length": 5, "strategy": "LongestFirst", "stride": 0]
        let left = try Tokenizer(jsonData: JSONSerialization.data(withJSONObject: object))
        let plain = try Fixtures.tokenizer("bpe").encode(text, addSpecialTokens: false)
        XCTAssertEqual(left.encode(text), [0] + plain.suffix(3) + [2])
    }

    /// Older files: Metaspace with `add_prefix_space` instead of `prepend_scheme`, and a BPE
    /// model without `type`, must behave like the current format.
    func testLegacyFormats() throws {
        let unigramData = try Data(contentsOf: Fixtures.directory.appendingPathComponent("unigram.json"))
        var unigram = try XCTUnwrap(JSONSerialization.jsonObject(with: unigramData) as? [String: Any])
        let legacyMetaspace: [String: Any] = ["type": "Metaspace", "replacement": "▁", "add_prefix_space": true]
        unigram["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [["type": "WhitespaceSplit"], legacyMetaspace]]
        unigram["decoder"] = legacyMetaspace
        let legacyUnigram = try Tokenizer(jsonData: JSONSerialization.data(withJSONObject: unigram))

        let bpeData = try Data(contentsOf: Fixtures.directory.appendingPathComponent("bpe.json"))
        var bpe = try XCTUnwrap(JSONSerialization.jsonObject(with: bpeData) as? [String: Any])
        var model = try XCTUnwrap(bpe["model"] as? [String: Any])
        model.removeValue(forKey: "type")
        bpe["model"] = model
        let legacyBPE = try Tokenizer(jsonData: JSONSerialization.data(withJSONObject: bpe))

        for (tokenizer, name) in [(legacyUnigram, "unigram"), (legacyBPE, "bpe")] {
            for item in try Fixtures.golden(name).cases {
                XCTAssertEqual(tokenizer.encode(item.text), item.ids, "\(name): \(item.text.debugDescription)")
                XCTAssertEqual(tokenizer.decode(item.ids), item.decoded, "\(name): \(item.text.debugDescription)")
            }
        }
    }

    /// Foundation's JSON parser would drop these literal U+FEFF characters.
    func testLiteralByteOrderMarksInFileSurvive() throws {
        let json = "\u{FEFF}" + #"{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["\#u{FEFF}", -1.0], ["\#u{FEFF}a", -1.0], ["a", -2.0]]}, "added_tokens": [{"id": 4, "content": "\#u{FEFF}x", "special": true}]}"#
        let tokenizer = try Tokenizer(jsonData: Data(json.utf8))
        XCTAssertEqual(tokenizer.tokenToId("\u{FEFF}"), 1)
        XCTAssertEqual(tokenizer.tokenToId("\u{FEFF}a"), 2)
        XCTAssertEqual(tokenizer.idToToken(4), "\u{FEFF}x")
        XCTAssertEqual(tokenizer.encode("\u{FEFF}aa\u{FEFF}x"), [2, 3, 4])
    }

    func testConcurrentUseGivesSameResults() throws {
        let tokenizer = try Fixtures.tokenizer("bpe")
        let golden = try Fixtures.golden("bpe")
        let mismatches = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for (index, item) in golden.cases.enumerated() where index % 8 == worker || index % 3 == 0 {
                if tokenizer.encode(item.text) != item.ids || tokenizer.decode(item.ids) != item.decoded {
                    mismatches.withLock { $0 += 1 }
                }
            }
        }
        XCTAssertEqual(mismatches.withLock { $0 }, 0)
    }

    /// Long inputs, including one very long word, round-trip (the merge loop and Viterbi are
    /// not quadratic, so this stays fast).
    func testLongInputs() throws {
        let word = String(repeating: "abcdefghij", count: 5_000)
        let sentence = Array(repeating: "the quick brown fox jumps over the lazy dog", count: 2_000).joined(separator: " ")
        for name in ["bpe", "unigram"] {
            let tokenizer = try Fixtures.tokenizer(name)
            for text in [word, sentence] {
                let ids = tokenizer.encode(text, addSpecialTokens: false)
                XCTAssertGreaterThan(ids.count, 1000)
                let decoded = tokenizer.decode(ids)
                XCTAssertEqual(decoded, text, name)
            }
        }
    }
}
