import PrismWire
import Generation
import PrismData
import PrismGrounding
import PrismTeacher

/// How an explanation was checked (the reply's `grounding` field).
public enum GroundingOutcome: String, Sendable, CaseIterable {
    /// No guard configured.
    case unchecked
    /// The student's first explanation passed.
    case grounded
    /// A beam-search hypothesis passed after the first explanation failed.
    case groundedBeam = "grounded_beam"
    /// Nothing the student wrote passed: the rule oracle's explanation of the same request.
    case fallback
    /// Nothing passed and the request allowed it: the student's text, with the problems.
    case ungrounded
}

/// The serving guard: no reply carries an explanation that the grounding checker rejects. A failed
/// explanation is decoded again with beam search (`retryBeams` hypotheses, best first, the first
/// that passes wins); when none passes, the rule oracle — grounded by construction — answers.
///
/// With a `vocabulary` (the student folder's `words.txt` and the catalog), an explanation must also use
/// no lower-case word outside it: the checker judges names, so garbled filler ("and aguaxique") would
/// otherwise be served.
public struct GroundingGuard: Sendable {
    public let checker: GroundingChecker
    public var retryBeams: Int
    public let vocabulary: WordVocabulary?
    let oracle = RuleOracle()

    public init(checker: GroundingChecker, retryBeams: Int = 4, vocabulary: WordVocabulary? = nil) {
        self.checker = checker
        self.retryBeams = max(0, retryBeams)
        self.vocabulary = vocabulary
    }

    /// The checker's report and the words outside the vocabulary.
    public struct Verdict: Sendable {
        public var report: GroundingReport
        public var unknownWords: [String]
        public var passes: Bool { report.fullyGrounded && unknownWords.isEmpty }
        public var problems: [String] {
            report.problems + unknownWords.map { "\"\($0)\" is no word of the teacher's goldens or the catalog" }
        }
    }

    public func check(_ text: String, job: ExplainJob) -> Verdict {
        Verdict(report: checker.check(text, facts: GroundingFacts(history: job.history, item: job.item)),
                unknownWords: vocabulary?.unknownWords(text) ?? [])
    }

    /// The rule oracle's explanation of a job.
    public func fallback(_ job: ExplainJob) -> String {
        var prompt = TeacherPrompt()
        prompt.sampleID = job.item.id
        prompt.userID = job.userID
        prompt.history = job.history.map(ItemFacts.init)
        prompt.item = ItemFacts(job.item)
        return oracle.explain(prompt).text
    }

    /// The catalog ids of the films a report names, in text order, each once.
    static func cited(_ report: GroundingReport) -> [String] {
        var ids: [String] = []
        for m in report.groundedTitles { for id in m.values where !ids.contains(id) { ids.append(id) } }
        return ids
    }
}

extension StudentModel {
    /// Checks each job's explanation. A failing one is served as it is with its verdict when its
    /// request allows ungrounded text; the others are decoded again with beam search (one batch), and
    /// those that still fail get the oracle's text.
    func guardExplanations(_ jobs: [ExplainJob], requests: [GenerationRequest], config: GenerationConfig,
                           outcomes: inout [ExplainOutcome]) {
        guard let gate = groundingGuard else { return }
        var failing: [Int] = []
        for (k, job) in jobs.enumerated() {
            let verdict = gate.check(outcomes[k].explanation, job: job)
            outcomes[k].cited = GroundingGuard.cited(verdict.report)
            if verdict.passes {
                outcomes[k].grounding = .grounded
            } else {
                outcomes[k].problems = verdict.problems
                if job.allowUngrounded { outcomes[k].grounding = .ungrounded } else { failing.append(k) }
            }
        }
        guard !failing.isEmpty else { return }
        var hypotheses = [[String]](repeating: [], count: jobs.count)
        if gate.retryBeams > 1 {
            var retry = config
            retry.numBeams = max(gate.retryBeams, retry.numBeams)
            if let beams = try? generator.generateBeams(failing.map { requests[$0] }, config: retry) {
                for (offset, k) in failing.enumerated() { hypotheses[k] = beams[offset].map { decodeText($0.generatedTokens) } }
            }
        }
        for k in failing {
            if let (text, verdict) = hypotheses[k].lazy.map({ ($0, gate.check($0, job: jobs[k])) }).first(where: { $0.1.passes }) {
                outcomes[k].explanation = text
                outcomes[k].grounding = .groundedBeam
                outcomes[k].cited = GroundingGuard.cited(verdict.report)
            } else {
                let text = gate.fallback(jobs[k])
                outcomes[k].explanation = text
                outcomes[k].grounding = .fallback
                // The oracle's text only needs its citations: the checker alone, no vocabulary pass.
                outcomes[k].cited = GroundingGuard.cited(
                    gate.checker.check(text, facts: GroundingFacts(history: jobs[k].history, item: jobs[k].item)))
            }
        }
    }
}
