import Foundation
import PrismData
import PrismDistill
import PrismTeacher
import XCTest
@testable import PrismGrounding

/// The rule oracle states only checked facts, so the checker must find every one of its
/// explanations fully grounded, and the marker must mark them exactly as the oracle marks them itself;
/// on real MovieLens-100K samples with the ML-1M metadata (when the data is present: `../shared/data`
/// beside the repository).
final class RuleOracleGroundingTests: XCTestCase {
    static var dataRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data")
    }

    func testRuleOracleIsFullyGroundedOnRealSamples() throws {
        let ml100k = Self.dataRoot.appendingPathComponent("ml-100k")
        guard FileManager.default.fileExists(atPath: ml100k.appendingPathComponent("u.data").path) else {
            throw XCTSkip("ml-100k not found at \(ml100k.path)")
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("prism-grounding-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let metadata = Self.dataRoot.appendingPathComponent("ml-1m-meta/movies_extrainfos.dat")
        let summary = try prepareDataset(PrepareOptions(
            kind: .ml100k, input: ml100k, output: out,
            metadata: FileManager.default.fileExists(atPath: metadata.path) ? metadata : nil, historyLength: 10))
        let samples = try SampleIO.readSamples(from: summary.samplesFile)
        let catalog = try SampleIO.readCatalog(from: summary.catalogFile)
        let planner = PromptPlanner(catalog: catalog)
        let checker = GroundingChecker(catalog: catalog)
        let oracle = RuleOracle()
        let step = max(1, samples.count / 2_000)
        var checked = 0, failures: [String] = []
        var kinds: [Mention.Kind: Int] = [:]
        let marker = GroundedMarker(checker: checker)
        var spans: [GroundingMarks.Kind: Int] = [:], markFailures: [String] = [], ambiguous = 0
        for sample in stride(from: 0, to: samples.count, by: step).prefix(2_000).map({ samples[$0] }) {
            let prompt = planner.prompt(for: sample)
            let text = oracle.explain(prompt).text
            // The oracle saw the history the prompt kept; those are the request's facts.
            let facts = GroundingFacts(history: prompt.history.map { catalog.itemOrPlaceholder($0.itemID) },
                                       item: catalog.itemOrPlaceholder(sample.itemID))
            let report = checker.check(text, facts: facts)
            checked += 1
            for m in report.mentions { kinds[m.kind, default: 0] += 1 }
            if !report.fullyGrounded, failures.count < 10 { failures.append("\(sample.sampleID): \(text) → \(report.problems)") }
            // Marked, it strips back to itself, and every span writes a form the request allows.
            let marked = marker.mark(text, facts: facts)
            let allowed = AllowedForms(history: facts.history, item: facts.item)
            for (kind, form) in GroundingMarks.spans(marked.marked) {
                spans[kind, default: 0] += 1
                if !allowed[kind].contains(form), markFailures.count < 10 { markFailures.append("\(sample.sampleID): \(kind) \(form)") }
            }
            // The oracle's own marks (written as it composes) are the marker's — except that text alone
            // cannot tell the item from a history film of the same title (a remake, a film watched again).
            let native = oracle.explainMarked(prompt)
            let sharedTitle = facts.history.contains { AllowedForms.title($0) == AllowedForms.title(facts.item) }
            func roles(_ m: String) -> String { sharedTitle ? m.replacing(GroundingMarks.Kind.item.open, with: GroundingMarks.Kind.title.open) : m }
            if sharedTitle && native.marked != marked.marked { ambiguous += 1 }
            if native.text != text || roles(native.marked) != roles(marked.marked), markFailures.count < 10 {
                markFailures.append("\(sample.sampleID): native \(native.marked) vs marker \(marked.marked)")
            }
            if !marked.markable || GroundingMarks.strip(marked.marked) != text || !GroundingMarks.spans(marked.marked).contains(where: { $0.kind == .item }),
               markFailures.count < 10 {
                markFailures.append("\(sample.sampleID): \(marked.marked)")
            }
        }
        XCTAssertEqual(checked, 2_000)
        XCTAssertEqual(failures, [], "rule-oracle explanations the checker did not find fully grounded")
        XCTAssertEqual(markFailures, [], "rule-oracle explanations the marker did not mark as GROUNDING.md says")
        XCTAssertLessThan(ambiguous, 20, "item and history film of one title: the oracle's own marks decide (\(ambiguous) of 2,000)")
        for kind in GroundingMarks.Kind.allCases { XCTAssertGreaterThan(spans[kind] ?? 0, 50, "\(kind) spans") }
        // The checker saw real variety: items, history titles, people, genres and eras.
        for kind in [Mention.Kind.item, .history, .person, .genre, .decade] {
            XCTAssertGreaterThan(kinds[kind] ?? 0, 50, "\(kind) mentions")
        }
    }
}
