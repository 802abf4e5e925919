import TensorKernels

/// An encoder–decoder that `Generation` can run: encode a batch once, then step the decoder for every row
/// against a cache, moving rows between steps (beams reorder, finished rows leave).
///
/// BART and T5 implement it, each in its own module with Hugging Face's weight names. A model owns its
/// scratch memory and caches, so it is **not thread-safe**: one instance belongs to one thread.
public protocol Seq2SeqModel: AnyObject {
    associatedtype Configuration: Seq2SeqConfiguration
    var config: Configuration { get }
    /// Rows of the output projection (the logits of a step).
    var vocabSize: Int { get }
    /// The longest decoder sequence the model can run (a learned position table), or nil (relative
    /// positions: no limit).
    var maxDecoderLength: Int? { get }

    /// Encodes a batch (right-padded and masked); `users[b]` nil or unknown = no user vector (cold start).
    func encode(_ inputs: [[Int]], users: [String?]?) throws -> EncoderOutput
    /// Prepares `rowsPerItem` decoder rows per encoded sequence, for at most `maxSteps` tokens each.
    func beginDecoding(_ encoder: EncoderOutput, rowsPerItem: Int, maxSteps: Int) throws
    /// Feeds one token per row; returns `[rows × vocabSize]` logits valid until the next call.
    func decodeStep(_ tokens: UnsafeBufferPointer<Int>) throws -> UnsafeMutablePointer<Float>
    /// Keeps only rows `keep` (ascending) of a one-row-per-item session.
    func retainRows(_ keep: UnsafeBufferPointer<Int>) throws
    /// Afterwards row `r` holds what row `source[r]` held (beam search; rows stay within their item).
    func reorderRows(_ source: UnsafeBufferPointer<Int>) throws

    /// Greedy steps of at most this many rows may use `decodeStepScreened` and `screenedArgmax`
    /// (an exact argmax that reads less of the output projection); 0 = the model has no such path.
    var screenedArgmaxRows: Int { get }
    func prepareScreenedArgmax()
    func decodeStepScreened(_ tokens: UnsafeBufferPointer<Int>) throws -> UnsafeMutablePointer<Float>
    func screenedArgmax(_ scores: UnsafePointer<Float>, row: Int) -> Int
    /// Whether the model profiles itself: then the generator times its token choices (`recordPicking`),
    /// otherwise it reads no clock per step.
    var profilesPicking: Bool { get }
    /// Time the generator spent choosing tokens in one step.
    func recordPicking(nanoseconds: UInt64)
}

extension Seq2SeqModel {
    public var screenedArgmaxRows: Int { 0 }
    public func prepareScreenedArgmax() {}
    public func decodeStepScreened(_ tokens: UnsafeBufferPointer<Int>) throws -> UnsafeMutablePointer<Float> {
        try decodeStep(tokens)
    }
    public func screenedArgmax(_ scores: UnsafePointer<Float>, row: Int) -> Int {
        VectorMath.argmax(scores, count: vocabSize)
    }
    public var profilesPicking: Bool { false }
    public func recordPicking(nanoseconds: UInt64) {}
}

/// What generation needs from a model's configuration.
public protocol Seq2SeqConfiguration: Sendable {
    /// The decoder's special token ids.
    var decoderTokens: DecoderTokens { get }
    /// Generation settings the model folder carries (`config.json`, `generation_config.json`).
    var generationDefaults: GenerationDefaults { get }
}

/// The decoder's special tokens, from the model's config.
public struct DecoderTokens: Sendable, Equatable {
    public var padTokenId: Int
    /// nil: the model never stops on a token.
    public var eosTokenId: Int?
    public var decoderStartTokenId: Int
    public var forcedBOSTokenId: Int?
    public var forcedEOSTokenId: Int?

    public init(padTokenId: Int, eosTokenId: Int?, decoderStartTokenId: Int, forcedBOSTokenId: Int? = nil,
                forcedEOSTokenId: Int? = nil) {
        self.padTokenId = padTokenId
        self.eosTokenId = eosTokenId
        self.decoderStartTokenId = decoderStartTokenId
        self.forcedBOSTokenId = forcedBOSTokenId
        self.forcedEOSTokenId = forcedEOSTokenId
    }
}

/// Generation settings a model folder may carry (HF `GenerationConfig` defaults when absent).
public struct GenerationDefaults: Sendable, Equatable {
    public var numBeams: Int = 1
    /// Maximum total decoder length, counting the decoder start token (HF `max_length`).
    public var maxLength: Int = 20
    /// Minimum total decoder length, counting the decoder start token (HF `min_length`).
    public var minLength: Int = 0
    public var noRepeatNgramSize: Int = 0
    public var lengthPenalty: Double = 1.0
    public var earlyStopping: EarlyStopping = .heuristic

    public init() {}
}

/// HF's `early_stopping`: `true` stops a beam search once `num_beams` hypotheses are finished;
/// `false` (the heuristic) stops when no running beam can beat the worst finished one at the current
/// length; `"never"` only when none can at the maximum length.
public enum EarlyStopping: Sendable, Equatable {
    case stopEarly
    case heuristic
    case never
}
