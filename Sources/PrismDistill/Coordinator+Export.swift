import Dispatch
import Foundation
import PrismData
import PrismGrounding
import Synchronization

/// Writing the training set: every golden of the selected samples, marked for a grounded student.
extension Coordinator {
    /// Writes `distilled.jsonl` (one golden per sample, in sample order, with its grounding marks) and `summary.json`.
    func export(samples: [Sample], catalog: ItemCatalog, store: ResultStore, decoding: String, summary: inout DistillSummary) async throws {
        summary.goldens = 0
        (summary.unmarkable, summary.unmarkableDropped, summary.unmarkableProblems) = (0, 0, [:])
        let marker = GroundedMarker(checker: GroundingChecker(catalog: catalog))
        summary.storedFailures = [:]
        let goldens = samples.compactMap { sample -> (Sample, ResultRecord)? in
            guard let record = store.record(sampleID: sample.sampleID, decoding: decoding) else { return nil }
            if record.status != "OK" { summary.storedFailures[record.status, default: 0] += 1 }
            return record.isGolden ? (sample, record) : nil
        }
        let teachers = Dictionary(grouping: goldens, by: { $0.1.teacherID }).mapValues(\.count)
        if teachers.count > 1 { throw DistillError.mixedTeachers(teachers) }
        let marks = try await Self.offPool {
            Self.parallelMap(goldens) { sample, record in
                var result = marker.mark(record.explanation, facts: GroundingFacts(sample, catalog: catalog))
                // A teacher's own marks win when they are marks of this very text.
                if let own = record.marked, GroundingMarks.strip(own) == record.explanation { result.marked = own }
                return result
            }
        }
        var lines = Data()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for ((sample, record), marks) in zip(goldens, marks) {
            if !marks.markable {
                summary.unmarkable += 1
                for kind in marks.problemKinds { summary.unmarkableProblems[kind, default: 0] += 1 }
                if options.unmarkable == .drop {
                    summary.unmarkableDropped += 1
                    continue
                }
            }
            let golden = Golden(sampleID: sample.sampleID, userID: sample.userID, itemID: sample.itemID, history: sample.history,
                                split: sample.split.rawValue, teacherID: record.teacherID, explanation: record.explanation,
                                marked: marks.marked, grounded: marks.markable)
            lines.append(try encoder.encode(golden))
            lines.append(0x0A)
            summary.goldens += 1
        }
        try lines.write(to: options.output.appendingPathComponent("distilled.jsonl"), options: .atomic)
        try encoder.encode(summary).write(to: options.output.appendingPathComponent("summary.json"), options: .atomic)
    }

    /// Statuses of a stored failure worth asking again without being told to.
    static let transientStatuses: Set<String> = ["UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "CANCELLED", "ABORTED"]

    /// `transform` over `items` on every core (order kept).
    static func parallelMap<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) -> R) -> [R] {
        let chunks = max(1, min(items.count / 256, ProcessInfo.processInfo.activeProcessorCount * 4))
        let results = Mutex([R?](repeating: nil, count: items.count))
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let range = (items.count * chunk / chunks)..<(items.count * (chunk + 1) / chunks)
            let part = range.map { transform(items[$0]) }
            results.withLock { for (offset, value) in part.enumerated() { $0[range.lowerBound + offset] = value } }
        }
        return results.withLock { $0.compactMap { $0 } }
    }

    /// Runs long CPU work (the marking of every golden) on GCD threads, off the cooperative pool.
    static func offPool<R: Sendable>(_ work: @escaping @Sendable () throws -> R) async throws -> R {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// One line of the training set: the teacher's text, and the same marked for a grounded student
    /// (GROUNDING.md); `grounded` is false for a golden the checker did not find fully grounded.
    struct Golden: Codable {
        var sampleID: String, userID: String, itemID: String, history: [String], split: String, teacherID: String, explanation: String
        var marked: String
        var grounded: Bool
        enum CodingKeys: String, CodingKey {
            case sampleID = "sample_id", userID = "user_id", itemID = "item_id", history, split, teacherID = "teacher_id", explanation
            case marked, grounded
        }
    }
}

/// What `prism distill` does with a golden the grounding checker does not find fully grounded.
public enum UnmarkablePolicy: String, Sendable, CaseIterable {
    /// Keep it, with only its grounded spans marked.
    case keep
    /// Leave it out of `distilled.jsonl`.
    case drop
}
