import BART
import Foundation
import Generation
import XCTest

/// The tiny HF models and goldens written by scripts/fixtures/make_bart_fixtures.py.
enum Fixtures {
    static let root: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/bart").path
    }()

    static func folder(_ name: String) -> String { root + "/" + name }

    /// goldens.json as plain JSON values.
    nonisolated(unsafe) static let goldens: [String: Any] = {
        guard let data = FileManager.default.contents(atPath: root + "/goldens.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return object
    }()

    static func cases(_ key: String) -> [[String: Any]] { goldens[key] as? [[String: Any]] ?? [] }

    nonisolated(unsafe) private static var models: [String: BartModel] = [:]

    /// Loaded once per model name (tests run serially on one thread).
    static func model(_ name: String) throws -> BartModel {
        if let m = models[name] { return m }
        let m = try BartModel.load(folder: folder(name))
        models[name] = m
        return m
    }
}

func ints(_ value: Any?) -> [Int] { (value as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } ?? [] }
func intRows(_ value: Any?) -> [[Int]] { (value as? [Any])?.map { ints($0) } ?? [] }
func floats(_ value: Any?) -> [Float] { (value as? [Any])?.compactMap { ($0 as? NSNumber)?.floatValue } ?? [] }
func floatRows(_ value: Any?) -> [[Float]] { (value as? [Any])?.map { floats($0) } ?? [] }
func users(_ value: Any?) -> [String?] { (value as? [Any])?.map { $0 as? String } ?? [] }

/// Largest absolute difference; fails when the shapes differ.
func assertClose(
    _ actual: [Float], _ expected: [Float], tolerance: Float = 1e-4, _ message: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "\(message): size", file: file, line: line)
    var worst: Float = 0
    for (a, e) in zip(actual, expected) { worst = max(worst, abs(a - e)) }
    XCTAssertLessThanOrEqual(worst, tolerance, "\(message): max |Δ| = \(worst)", file: file, line: line)
}

/// A GenerationConfig from the kwargs HF's generate was called with.
func generationConfig(_ kwargs: [String: Any], model: BartModel) -> GenerationConfig {
    var c = GenerationConfig(model: model.config)
    func int(_ k: String) -> Int? { (kwargs[k] as? NSNumber)?.intValue }
    if let v = int("max_length") { c.maxLength = v }
    if let v = int("max_new_tokens") { c.maxNewTokens = v }
    c.minLength = int("min_length") ?? 0
    c.minNewTokens = int("min_new_tokens") ?? 0
    c.numBeams = int("num_beams") ?? 1
    c.noRepeatNgramSize = int("no_repeat_ngram_size") ?? 0
    c.lengthPenalty = (kwargs["length_penalty"] as? NSNumber)?.doubleValue ?? 1
    c.forcedBOSTokenId = int("forced_bos_token_id")
    c.forcedEOSTokenId = int("forced_eos_token_id")
    if let s = kwargs["early_stopping"] as? String, s == "never" {
        c.earlyStopping = .never
    } else if let b = kwargs["early_stopping"] as? Bool {
        c.earlyStopping = b ? .stopEarly : .heuristic
    }
    return c
}

/// HF pads a batch's sequences with the pad id to the longest one.
func padded(_ results: [GenerationResult], pad: Int) -> [[Int]] {
    let width = results.map(\.tokens.count).max() ?? 0
    return results.map { $0.tokens + Array(repeating: pad, count: width - $0.tokens.count) }
}
