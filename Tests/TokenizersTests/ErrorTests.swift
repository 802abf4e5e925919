import Foundation
import Tokenizers
import XCTest

/// Malformed or unsupported files give a `TokenizerError` naming the problem, never a crash.
final class ErrorTests: XCTestCase {
    private func loadError(_ json: String) -> TokenizerError? {
        loadError(Data(json.utf8))
    }

    private func loadError(_ data: Data) -> TokenizerError? {
        do {
            _ = try Tokenizer(jsonData: data)
            return nil
        } catch {
            XCTAssertFalse(error.description.isEmpty)
            return error
        }
    }

    /// `bpe.json` with `edit` applied to its parsed JSON.
    private func editedBPE(_ edit: (inout [String: Any]) -> Void) throws -> Data {
        let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("bpe.json"))
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        edit(&object)
        return try JSONSerialization.data(withJSONObject: object)
    }

    func testInvalidJSON() {
        guard case .invalidJSON? = loadError("{\"model\": ") else { return XCTFail("expected invalidJSON") }
        guard case .invalidJSON? = loadError("[1, 2, 3]") else { return XCTFail("expected invalidJSON") }
        guard case .invalidJSON? = loadError(Data([0xFF, 0xFE, 0x00])) else { return XCTFail("expected invalidJSON") }
        guard case .invalidJSON? = loadError("") else { return XCTFail("expected invalidJSON") }
    }

    func testMissingModel() {
        XCTAssertEqual(loadError("{}"), .missingField(path: "model"))
        XCTAssertEqual(loadError(#"{"model": null}"#), .missingField(path: "model"))
        XCTAssertEqual(loadError(#"{"model": {"vocab": {}}}"#), .missingField(path: "model.type"))
    }

    func testUnknownModelType() {
        XCTAssertEqual(loadError(#"{"model": {"type": "WordLevel", "vocab": {}}}"#),
                       .unsupportedComponent(component: "model", type: "WordLevel"))
        XCTAssertEqual(loadError(#"{"model": {"type": "Bogus"}}"#),
                       .unsupportedComponent(component: "model", type: "Bogus"))
        // A WordPiece vocabulary without its unknown token cannot represent unknown words.
        XCTAssertEqual(loadError(#"{"model": {"type": "WordPiece", "vocab": {"a": 0}}}"#),
                       .unknownToken("[UNK]", context: "model.unk_token"))
    }

    func testUnsupportedComponents() throws {
        XCTAssertEqual(loadError(try editedBPE { $0["normalizer"] = ["type": "ByteLevel"] }),
                       .unsupportedComponent(component: "normalizer", type: "ByteLevel"))
        XCTAssertEqual(loadError(try editedBPE { $0["pre_tokenizer"] = ["type": "UnicodeScripts"] }),
                       .unsupportedComponent(component: "pre_tokenizer", type: "UnicodeScripts"))
        XCTAssertEqual(loadError(try editedBPE { $0["post_processor"] = ["type": "Nope"] }),
                       .unsupportedComponent(component: "post_processor", type: "Nope"))
        XCTAssertEqual(loadError(try editedBPE { $0["decoder"] = ["type": "CTC"] }),
                       .unsupportedComponent(component: "decoder", type: "CTC"))
        // A Split with a behaviour Hugging Face does not have.
        XCTAssertEqual(loadError(try editedBPE { $0["pre_tokenizer"] = ["type": "Split", "pattern": ["String": "-"], "behavior": "Sideways"] }),
                       .invalidField(path: "pre_tokenizer.behavior", reason: "unknown split behavior 'Sideways'"))
    }

    func testWrongFieldTypes() throws {
        XCTAssertEqual(loadError(#"{"model": {"type": "BPE", "vocab": [], "merges": []}}"#),
                       .invalidField(path: "model.vocab", reason: "expected an object"))
        XCTAssertEqual(loadError(#"{"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}}"#),
                       .invalidField(path: "model.vocab.a", reason: "expected an integer"))
        XCTAssertEqual(loadError(#"{"model": {"type": "Unigram", "vocab": [["a"]], "unk_id": 0}}"#),
                       .invalidField(path: "model.vocab[0]", reason: "expected [piece, score]"))
        XCTAssertEqual(loadError(#"{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}"#),
                       .missingField(path: "model.unk_id"))
        XCTAssertEqual(loadError(#"{"model": {"type": "Unigram", "vocab": [["a", 0.0]], "unk_id": 5}}"#),
                       .invalidField(path: "model.unk_id", reason: "out of range"))
        XCTAssertEqual(loadError(try editedBPE { $0["added_tokens"] = [["id": 0]] }),
                       .missingField(path: "added_tokens[0].content"))
    }

    func testBadMerges() {
        XCTAssertEqual(loadError(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}"#),
                       .unknownToken("ab", context: "model.merges[0]"))
        XCTAssertEqual(loadError(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "c"]]}}"#),
                       .unknownToken("c", context: "model.merges[0]"))
        XCTAssertEqual(loadError(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}}"#),
                       .invalidField(path: "model.merges[0]", reason: "a merge must be two tokens separated by one space"))
        XCTAssertEqual(loadError(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "?"}}"#),
                       .unknownToken("?", context: "model.unk_token"))
    }

    func testBadPrecompiledCharsmap() {
        let base = #"{"model": {"type": "Unigram", "vocab": [["a", 0.0]], "unk_id": 0}, "normalizer": "#
        XCTAssertEqual(loadError(base + #"{"type": "Precompiled", "precompiled_charsmap": "%%%"}}"#),
                       .invalidField(path: "normalizer.precompiled_charsmap", reason: "not base64"))
        // Claims a 4 KB trie but holds 4 bytes.
        XCTAssertEqual(loadError(base + #"{"type": "Precompiled", "precompiled_charsmap": "ABAAAAAAAAA="}}"#),
                       .invalidField(path: "normalizer.precompiled_charsmap", reason: "truncated trie"))
    }

    func testMissingFile() {
        let url = Fixtures.directory.appendingPathComponent("does-not-exist.json")
        XCTAssertThrowsError(try Tokenizer(contentsOf: url)) { error in
            guard case .unreadableFile(let path, _)? = error as? TokenizerError else {
                return XCTFail("expected unreadableFile, got \(error)")
            }
            XCTAssertEqual(path, url.path)
        }
    }

    func testErrorDescriptionsNameTheProblem() {
        XCTAssertEqual(TokenizerError.unsupportedComponent(component: "model", type: "WordPiece").description,
                       "tokenizer.json: unsupported model type `WordPiece`")
        XCTAssertTrue(TokenizerError.missingField(path: "model").description.contains("`model`"))
    }
}
