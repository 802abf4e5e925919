import Foundation
import Tokenizers
import XCTest

/// The committed fixtures in Tests/Fixtures/tokenizers (made by
/// scripts/fixtures/make_tokenizer_fixtures.py), found relative to this source file.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TokenizersTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/tokenizers", isDirectory: true)

    static func tokenizer(_ name: String) throws -> Tokenizer {
        try Tokenizer(contentsOf: directory.appendingPathComponent("\(name).json"))
    }

    static func golden(_ name: String) throws -> Golden {
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name).golden.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Golden.self, from: data)
    }
}

/// Outputs of the Hugging Face `tokenizers` library for one tokenizer.
struct Golden: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let idsNoSpecial: [Int]
        let idsTruncated: [Int]
        let idsTruncatedNoSpecial: [Int]
        let decoded: String
        let decodedWithSpecial: String
    }

    struct DecodeCase: Decodable {
        let ids: [Int]
        let skipSpecialTokens: Bool
        let text: String
    }

    let tokenizer: String
    let tokenizersVersion: String
    let maxLength: Int
    let cases: [Case]
    let decodeCases: [DecodeCase]
}
