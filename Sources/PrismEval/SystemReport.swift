/// Every figure `prism eval` reports for one system on one test split. Percentages are 0–100.
public struct SystemReport: Sendable, Codable, Equatable {
    public var name: String
    /// Test cases with an output from this system.
    public var count: Int
    /// Cases it gave no output for (a failed call, a line missing from its file).
    public var missing: Int

    public var lexical: Lexical?
    public var faithfulness: Faithfulness
    public var diversity: DiversityFigures
    public var latency: Latency?
    public var userSensitivity: UserSensitivity?
    /// A live service's replies by their grounding field (grounded, grounded_beam, fallback, ungrounded, unchecked).
    public var servedAs: [String: Int]?

    public struct Lexical: Sendable, Codable, Equatable {
        /// Mean F1 × 100 over the cases, `rouge-score` default tokenizer.
        public var rouge1: Double, rouge2: Double, rougeL: Double
        /// The same with the Porter stemmer.
        public var rouge1Stemmed: Double, rouge2Stemmed: Double, rougeLStemmed: Double
        /// `sacrebleu` corpus BLEU with max order 1 and 4.
        public var bleu1: Double, bleu4: Double
        /// Cases with a reference.
        public var pairs: Int
    }

    public struct Faithfulness: Sendable, Codable, Equatable {
        /// Share of explanations fully grounded (item named, no wrong title, no unsupported span, no false claim).
        public var fullyGrounded: Double
        public var itemNamed: Double
        /// Shares of explanations with at least one wrong title / unsupported span / false claim.
        public var wrongTitle: Double
        public var unsupportedSpan: Double
        public var falseClaim: Double
        /// Feature matching ratio (PETER): of the cases whose reference names a genre or person of the
        /// item, the share whose explanation names at least one of those.
        public var featureMatchingRatio: Double?
        public var featureCases: Int
        /// Share of explanations with a lower-case word outside the vocabulary (`WordVocabulary`):
        /// garbled words the checker, which judges names, does not see. nil without a vocabulary.
        public var unknownWord: Double? = nil
    }

    public struct DiversityFigures: Sendable, Codable, Equatable {
        public var uniqueSentenceRatio: Double
        public var distinct1: Double
        public var distinct2: Double
        /// Share of explanations whose skeleton (entities masked) is one of the 10 most frequent.
        public var templateShare: Double
        public var topTemplates: [Template]
    }

    public struct Template: Sendable, Codable, Equatable {
        public var skeleton: String
        public var count: Int
    }

    public struct Latency: Sendable, Codable, Equatable {
        public var p50Ms: Double, p95Ms: Double, meanMs: Double
        public var requests: Int
    }

    /// The same (history, item) explained for the real user, an unknown user and another real user.
    public struct UserSensitivity: Sendable, Codable, Equatable {
        public var probes: Int
        /// Share of probes whose explanation changes for an unknown user / another user.
        public var changedUnknown: Double, changedOther: Double
        /// Mean 1 − ROUGE-L F1 between the real user's explanation and the other one (0: identical).
        public var distanceUnknown: Double, distanceOther: Double
    }
}

/// A whole `prism eval` run: the split it measured and each system's figures.
public struct EvalReport: Sendable, Codable, Equatable {
    public var dataset: String
    public var split: String
    public var cases: Int
    /// Cases with a reference (a distilled golden of the split).
    public var references: Int
    public var systems: [SystemReport]
    /// The command line that produced it.
    public var command: String
    /// "GPTScore", "BERTScore" and other figures computed outside Swift, by system name.
    public var external: [String: [String: Double]]

    public init(dataset: String, split: String, cases: Int, references: Int, systems: [SystemReport], command: String,
                external: [String: [String: Double]] = [:]) {
        self.dataset = dataset
        self.split = split
        self.cases = cases
        self.references = references
        self.systems = systems
        self.command = command
        self.external = external
    }
}
