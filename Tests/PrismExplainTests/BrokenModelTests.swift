import Foundation
import XCTest
@testable import PrismExplain

/// A broken model folder is a clear error at start-up, never a crash.
final class BrokenModelTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    func folder(copying source: String, plus tokenizer: String?) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("student-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent(source), to: dir)
        if let tokenizer {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(tokenizer), to: dir.appendingPathComponent("tokenizer.json"))
        }
        return dir
    }

    func assertBroken(_ dir: URL, mentions text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try StudentModel(folder: dir.path), file: file, line: line) { error in
            guard case .brokenModel(let folder, let reason)? = error as? ExplainError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(folder, dir.path, file: file, line: line)
            XCTAssertTrue(reason.contains(text), "\(reason) should mention \(text)", file: file, line: line)
        }
    }

    func testMissingFolderAndMissingTokenizer() throws {
        assertBroken(URL(fileURLWithPath: "/nonexistent/student"), mentions: "tokenizer.json")
        let dir = try folder(copying: "bart/tiny", plus: nil)
        defer { try? FileManager.default.removeItem(at: dir) }
        assertBroken(dir, mentions: "tokenizer.json")
    }

    /// A manifest asking for more new tokens than the model has positions would register and then fail
    /// every request with INTERNAL: it is refused at load.
    func testTargetLengthBeyondThePositionsIsRefusedAtLoad() throws {
        let dir = try folder(copying: "student/with-user", plus: nil)
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifestURL = dir.appendingPathComponent("prism.json")
        var manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as? [String: Any])
        manifest["max_target_tokens"] = 10_000
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestURL)
        assertBroken(dir, mentions: "max_target_tokens 10000")
    }

    func testTokenizerLargerThanTheModelVocabulary() throws {
        let dir = try folder(copying: "bart/tiny", plus: "tokenizers/bpe.json")
        defer { try? FileManager.default.removeItem(at: dir) }
        assertBroken(dir, mentions: "tokens")
    }

    func testBadManifestAndTruncatedWeights() throws {
        let dir = try folder(copying: "bart/tiny", plus: "tokenizers/bpe.json")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("{not json".utf8).write(to: dir.appendingPathComponent("prism.json"))
        assertBroken(dir, mentions: "prism.json")
        try Data(#"{"input_format": "something-else/9"}"#.utf8).write(to: dir.appendingPathComponent("prism.json"))
        assertBroken(dir, mentions: "input format")
        try FileManager.default.removeItem(at: dir.appendingPathComponent("prism.json"))
        let weights = dir.appendingPathComponent("model.safetensors")
        let bytes = try Data(contentsOf: weights)
        try bytes.prefix(bytes.count / 2).write(to: weights)
        assertBroken(dir, mentions: "truncated")
    }
}
