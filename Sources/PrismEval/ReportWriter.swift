import Foundation

/// Every failure of the evaluation module.
public enum EvalError: Error, CustomStringConvertible {
    case invalidInput(String)
    case io(String)

    public var description: String {
        switch self {
        case .invalidInput(let text): return "invalid input: \(text)"
        case .io(let text): return "I/O error: \(text)"
        }
    }
}

/// Writes a run's `report.json`, `report.md` and `details-<system>.jsonl` into one folder.
public enum ReportWriter {
    public static func write(_ report: EvalReport, details: [String: [CaseDetail]], to folder: URL) throws {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(report).write(to: folder.appendingPathComponent("report.json"), options: .atomic)
            try Data(markdown(report, details: details).utf8).write(to: folder.appendingPathComponent("report.md"), options: .atomic)
            let lines = JSONEncoder()
            lines.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for (system, rows) in details {
                var data = Data()
                for row in rows {
                    data.append(try lines.encode(row))
                    data.append(0x0A)
                }
                try data.write(to: folder.appendingPathComponent("details-\(fileName(system)).jsonl"), options: .atomic)
            }
        } catch {
            throw EvalError.io("cannot write the report into \(folder.path): \(error)")
        }
    }

    static func fileName(_ system: String) -> String {
        String(system.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
    }

    static func f(_ x: Double?, _ digits: Int = 1) -> String {
        guard let x else { return "—" }
        return String(format: "%.\(digits)f", x)
    }

    /// The summary table, as printed at the end of a run and at the top of `report.md`.
    public static func summaryTable(_ report: EvalReport) -> String {
        var rows = ["| system | n | grounded % | item named % | wrong title % | unsupported % | false claim % | unknown word % | FMR % | ROUGE-1 | ROUGE-2 | ROUGE-L | BLEU-1 | BLEU-4 | USR | distinct-2 | template % | p50 ms |",
                    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for s in report.systems {
            let l = s.lexical
            rows.append("| \(s.name) | \(s.count) | \(f(s.faithfulness.fullyGrounded)) | \(f(s.faithfulness.itemNamed)) | \(f(s.faithfulness.wrongTitle)) | "
                        + "\(f(s.faithfulness.unsupportedSpan)) | \(f(s.faithfulness.falseClaim)) | \(f(s.faithfulness.unknownWord)) | "
                        + "\(f(s.faithfulness.featureMatchingRatio)) | "
                        + "\(f(l?.rouge1, 2)) | \(f(l?.rouge2, 2)) | \(f(l?.rougeL, 2)) | \(f(l?.bleu1, 2)) | \(f(l?.bleu4, 2)) | "
                        + "\(f(s.diversity.uniqueSentenceRatio, 3)) | \(f(s.diversity.distinct2, 3)) | \(f(s.diversity.templateShare)) | \(f(s.latency?.p50Ms, 0)) |")
        }
        return rows.joined(separator: "\n")
    }

    static func markdown(_ report: EvalReport, details: [String: [CaseDetail]]) -> String {
        var md = "# Evaluation: \(report.dataset), \(report.split) split\n\n"
        md += "\(report.cases) test cases, \(report.references) with a golden reference.\n\n```\n\(report.command)\n```\n\n"
        md += summaryTable(report) + "\n\n"
        md += """
        - *grounded*: the recommended item is named, no catalog film outside the request is named, no capitalised \
        words match nothing (garbled or invented titles), and every genre, era and person claim holds for the films \
        it is attached to. *wrong title*, *unsupported*, *false claim*: share of explanations with at least one. \
        *unknown word*: share with a lower-case word found in no golden outside this split and nowhere in the \
        catalog (a garbled word; the checker judges names only).
        - ROUGE: mean F1 × 100 as `rouge-score` computes it (default tokenizer, no stemmer; stemmed figures in \
        report.json); BLEU: `sacrebleu` corpus BLEU (13a tokenizer) with max order 1 and 4, against the distilled goldens.
        - FMR: of the cases whose golden names a genre or person of the item, the share whose explanation names one too.
        - USR: distinct explanations ÷ explanations; distinct-2: distinct bigrams ÷ bigrams; template %: explanations \
        whose skeleton (entities masked) is one of the 10 most frequent.

        """
        for s in report.systems {
            md += "\n## \(s.name)\n\n"
            if s.missing > 0 { md += "\(s.missing) cases without an output.\n\n" }
            if let l = s.lexical {
                md += "ROUGE with the Porter stemmer: ROUGE-1 \(f(l.rouge1Stemmed, 2)), ROUGE-2 \(f(l.rouge2Stemmed, 2)), ROUGE-L \(f(l.rougeLStemmed, 2)) (\(l.pairs) pairs).\n\n"
            }
            if let lat = s.latency {
                md += "Latency over \(lat.requests) requests: p50 \(f(lat.p50Ms)) ms, p95 \(f(lat.p95Ms)) ms, mean \(f(lat.meanMs)) ms.\n\n"
            }
            if let served = s.servedAs, !served.isEmpty {
                let total = served.values.reduce(0, +)
                md += "Replies by grounding: " + served.sorted { $0.key < $1.key }
                    .map { "\($0.key) \($0.value) (\(f(100 * Double($0.value) / Double(max(1, total))))%)" }.joined(separator: ", ") + ".\n\n"
            }
            if let u = s.userSensitivity {
                md += "User sensitivity over \(u.probes) (history, item) pairs: the explanation changes for an unknown user in \(f(u.changedUnknown))% "
                    + "(mean 1 − ROUGE-L \(f(u.distanceUnknown, 3))), for another real user in \(f(u.changedOther))% (\(f(u.distanceOther, 3))).\n\n"
            }
            for (name, value) in (report.external[s.name] ?? [:]).sorted(by: { $0.key < $1.key }) { md += "- \(name): \(f(value, 4))\n" }
            md += "\nMost frequent skeletons:\n\n"
            for t in s.diversity.topTemplates.prefix(5) { md += "- \(t.count) × `\(t.skeleton)`\n" }
            let failing = (details[s.name] ?? []).filter { !$0.grounding.fullyGrounded }.prefix(8)
            if !failing.isEmpty {
                md += "\nNot fully grounded (first \(failing.count); all in details-\(fileName(s.name)).jsonl):\n\n"
                for d in failing {
                    md += "- `\(d.sampleID)`: \(d.explanation)\n  - " + d.grounding.problems.joined(separator: "; ") + "\n"
                }
            }
        }
        return md
    }
}
