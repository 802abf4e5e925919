import PrismData
import PrismGrounding

/// One test case: a sample of the split, its facts and its golden explanation (when distilled).
public struct EvalCase: Sendable {
    public var sample: Sample
    public var facts: GroundingFacts
    public var reference: String?

    public init(sample: Sample, facts: GroundingFacts, reference: String?) {
        self.sample = sample
        self.facts = facts
        self.reference = reference
    }
}

/// What one system said: an explanation per sample id, optionally latencies and user-sensitivity probes.
public struct SystemOutputs: Sendable {
    public var name: String
    public var texts: [String: String]
    /// Milliseconds per request, when the system was called live.
    public var latencyMs: [Double]
    public var probes: [SensitivityProbe]
    /// Replies by their grounding field, when the system was called live.
    public var servedAs: [String: Int]?

    public init(name: String, texts: [String: String], latencyMs: [Double] = [], probes: [SensitivityProbe] = [],
                servedAs: [String: Int]? = nil) {
        self.name = name
        self.texts = texts
        self.latencyMs = latencyMs
        self.probes = probes
        self.servedAs = servedAs
    }
}

/// The same request explained for three users.
public struct SensitivityProbe: Sendable {
    public var real: String, unknown: String, other: String

    public init(real: String, unknown: String, other: String) {
        self.real = real
        self.unknown = unknown
        self.other = other
    }
}

/// One case as a system answered it, with the checker's evidence: a line of `details-<system>.jsonl`.
public struct CaseDetail: Sendable, Codable {
    public var sampleID: String
    public var userID: String
    public var itemID: String
    public var explanation: String
    public var reference: String?
    public var rougeL: Double?
    public var grounding: GroundingReport
    /// Lower-case words outside the vocabulary (`WordVocabulary`), when one was given.
    public var unknownWords: [String]?

    enum CodingKeys: String, CodingKey {
        case sampleID = "sample_id", userID = "user_id", itemID = "item_id", explanation, reference, rougeL = "rouge_l", grounding
        case unknownWords = "unknown_words"
    }
}

/// Computes a `SystemReport` from a system's outputs on the test cases.
public struct Evaluator: Sendable {
    public let checker: GroundingChecker
    /// When given, explanations with a word outside it are counted (`Faithfulness.unknownWord`).
    public let vocabulary: WordVocabulary?

    public init(checker: GroundingChecker, vocabulary: WordVocabulary? = nil) {
        self.checker = checker
        self.vocabulary = vocabulary
    }

    public func evaluate(_ cases: [EvalCase], _ system: SystemOutputs, lexical: Bool = true) -> (SystemReport, [CaseDetail]) {
        let plain = RougeScorer(stemmed: false), stemmed = RougeScorer(stemmed: true)
        var details: [CaseDetail] = []
        var hypotheses: [String] = [], references: [String] = []
        var rouge = [Double](repeating: 0, count: 6)
        var grounded = 0, named = 0, wrong = 0, unsupported = 0, falseClaims = 0, unknownWord = 0
        var featureCases = 0, featureHits = 0
        var skeletons: [String] = []
        for c in cases {
            guard let text = system.texts[c.sample.sampleID] else { continue }
            let report = checker.check(text, facts: c.facts)
            if report.fullyGrounded { grounded += 1 }
            if report.itemNamed { named += 1 }
            if !report.wrongTitles.isEmpty { wrong += 1 }
            if !report.unsupportedSpans.isEmpty { unsupported += 1 }
            if !report.falseClaims.isEmpty { falseClaims += 1 }
            let unknown = vocabulary?.unknownWords(text)
            if let unknown, !unknown.isEmpty { unknownWord += 1 }
            skeletons.append(Diversity.skeleton(text, report: report))
            var rougeL: Double?
            if let reference = c.reference {
                hypotheses.append(text)
                references.append(reference)
                let scores = [plain.rougeN(1, target: reference, prediction: text), plain.rougeN(2, target: reference, prediction: text),
                              plain.rougeL(target: reference, prediction: text), stemmed.rougeN(1, target: reference, prediction: text),
                              stemmed.rougeN(2, target: reference, prediction: text), stemmed.rougeL(target: reference, prediction: text)]
                for (k, s) in scores.enumerated() { rouge[k] += s.f1 }
                rougeL = scores[2].f1
                let features = itemFeatures(checker.check(reference, facts: c.facts), item: c.facts.item)
                if !features.isEmpty {
                    featureCases += 1
                    if !features.isDisjoint(with: itemFeatures(report, item: c.facts.item)) { featureHits += 1 }
                }
            }
            details.append(CaseDetail(sampleID: c.sample.sampleID, userID: c.sample.userID, itemID: c.sample.itemID,
                                      explanation: text, reference: c.reference, rougeL: rougeL, grounding: report,
                                      unknownWords: unknown))
        }
        let n = details.count
        func pct(_ k: Int, of total: Int = n) -> Double { total == 0 ? 0 : 100 * Double(k) / Double(total) }
        var lexicalFigures: SystemReport.Lexical?
        if lexical, !hypotheses.isEmpty {
            let m = Double(hypotheses.count)
            lexicalFigures = SystemReport.Lexical(
                rouge1: 100 * rouge[0] / m, rouge2: 100 * rouge[1] / m, rougeL: 100 * rouge[2] / m,
                rouge1Stemmed: 100 * rouge[3] / m, rouge2Stemmed: 100 * rouge[4] / m, rougeLStemmed: 100 * rouge[5] / m,
                bleu1: CorpusBLEU(maxOrder: 1).score(hypotheses: hypotheses, references: references).score,
                bleu4: CorpusBLEU(maxOrder: 4).score(hypotheses: hypotheses, references: references).score,
                pairs: hypotheses.count)
        }
        let texts = details.map(\.explanation)
        let top = Diversity.topSkeletons(skeletons)
        let topSet = Set(top.map(\.skeleton))
        let report = SystemReport(
            name: system.name, count: n, missing: cases.count - n, lexical: lexicalFigures,
            faithfulness: SystemReport.Faithfulness(
                fullyGrounded: pct(grounded), itemNamed: pct(named), wrongTitle: pct(wrong), unsupportedSpan: pct(unsupported),
                falseClaim: pct(falseClaims), featureMatchingRatio: featureCases == 0 ? nil : pct(featureHits, of: featureCases),
                featureCases: featureCases, unknownWord: vocabulary == nil ? nil : pct(unknownWord)),
            diversity: SystemReport.DiversityFigures(
                uniqueSentenceRatio: Diversity.uniqueSentenceRatio(texts), distinct1: Diversity.distinct(1, texts),
                distinct2: Diversity.distinct(2, texts), templateShare: pct(skeletons.filter(topSet.contains).count),
                topTemplates: top.map { SystemReport.Template(skeleton: $0.skeleton, count: $0.count) }),
            latency: Self.latency(system.latencyMs),
            userSensitivity: Self.sensitivity(system.probes), servedAs: system.servedAs)
        return (report, details)
    }

    /// The item's genres and people that an explanation names.
    func itemFeatures(_ report: GroundingReport, item: CatalogItem) -> Set<String> {
        let own = Set(item.genres).union(EntityLexicon.people(of: item))
        return Set(report.mentions.filter { $0.kind == .genre || $0.kind == .person }.flatMap(\.values)).intersection(own)
    }

    static func latency(_ values: [Double]) -> SystemReport.Latency? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func at(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        return SystemReport.Latency(p50Ms: at(0.5), p95Ms: at(0.95), meanMs: values.reduce(0, +) / Double(values.count), requests: values.count)
    }

    static func sensitivity(_ probes: [SensitivityProbe]) -> SystemReport.UserSensitivity? {
        guard !probes.isEmpty else { return nil }
        let scorer = RougeScorer(stemmed: false)
        func distance(_ a: String, _ b: String) -> Double { 1 - scorer.rougeL(target: a, prediction: b).f1 }
        let n = Double(probes.count)
        return SystemReport.UserSensitivity(
            probes: probes.count,
            changedUnknown: 100 * Double(probes.filter { $0.real != $0.unknown }.count) / n,
            changedOther: 100 * Double(probes.filter { $0.real != $0.other }.count) / n,
            distanceUnknown: probes.map { distance($0.real, $0.unknown) }.reduce(0, +) / n,
            distanceOther: probes.map { distance($0.real, $0.other) }.reduce(0, +) / n)
    }
}
