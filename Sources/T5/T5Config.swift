import Foundation

/// Hyper-parameters of a T5 model from a Hugging Face `config.json` (`model_type: "t5"`), both
/// flavours: T5 v1.0 (`feed_forward_proj: "relu"`, tied embeddings) and v1.1 / FLAN-T5
/// (`"gated-gelu"`, untied `lm_head`).
public struct T5Config: Sendable, Equatable {
    public var vocabSize: Int
    public var dModel: Int
    /// Size of each head's key/value vectors (`d_kv`; need not be `d_model / num_heads`).
    public var dKV: Int
    public var dFF: Int
    public var numLayers: Int
    public var numDecoderLayers: Int
    public var numHeads: Int
    public var relativeAttentionNumBuckets: Int
    public var relativeAttentionMaxDistance: Int
    public var layerNormEpsilon: Float
    /// The FFN's activation (HF `dense_act_fn`): "relu" for v1.0, "gelu_new" for "gated-gelu".
    public var activation: String
    /// `wo(act(wi_0 x) · wi_1 x)` instead of `wo(act(wi x))`.
    public var gatedFFN: Bool
    /// v1.0: the LM head is the shared embedding (tied), applied after scaling the decoder output by
    /// `d_model^-0.5`. v1.1 checkpoints say `tie_word_embeddings: false` and store their own `lm_head`.
    public var tieWordEmbeddings: Bool
    /// Whether the decoder output is scaled by `d_model^-0.5` before the LM head: transformers 5 writes
    /// it as `scale_decoder_outputs`; older configs imply it by `tie_word_embeddings` (v1.0 true, v1.1 false).
    public var scaleDecoderOutputs: Bool
    public var padTokenId: Int
    public var eosTokenId: Int
    public var decoderStartTokenId: Int
    public var generation: GenerationDefaults

    public init(vocabSize: Int, dModel: Int, dKV: Int, dFF: Int, numLayers: Int, numDecoderLayers: Int? = nil,
                numHeads: Int, relativeAttentionNumBuckets: Int = 32, relativeAttentionMaxDistance: Int = 128,
                layerNormEpsilon: Float = 1e-6, feedForwardProj: String = "relu", tieWordEmbeddings: Bool = true,
                scaleDecoderOutputs: Bool? = nil, padTokenId: Int = 0, eosTokenId: Int = 1, decoderStartTokenId: Int = 0,
                generation: GenerationDefaults = GenerationDefaults()) throws {
        self.vocabSize = vocabSize
        self.dModel = dModel
        self.dKV = dKV
        self.dFF = dFF
        self.numLayers = numLayers
        self.numDecoderLayers = numDecoderLayers ?? numLayers
        self.numHeads = numHeads
        self.relativeAttentionNumBuckets = relativeAttentionNumBuckets
        self.relativeAttentionMaxDistance = relativeAttentionMaxDistance
        self.layerNormEpsilon = layerNormEpsilon
        (activation, gatedFFN) = try Self.feedForward(feedForwardProj)
        self.tieWordEmbeddings = tieWordEmbeddings
        self.scaleDecoderOutputs = scaleDecoderOutputs ?? tieWordEmbeddings
        self.padTokenId = padTokenId
        self.eosTokenId = eosTokenId
        self.decoderStartTokenId = decoderStartTokenId
        self.generation = generation
    }

    /// `feed_forward_proj` as transformers reads it: "ACT" or "gated-ACT"; "gated-gelu" means the tanh
    /// GELU ("gelu_new").
    static func feedForward(_ proj: String) throws -> (activation: String, gated: Bool) {
        let parts = proj.split(separator: "-").map(String.init)
        let gated = parts.count == 2 && parts[0] == "gated"
        guard parts.count == 1 || gated else {
            throw T5Error.badConfig(path: "config", detail: "feed_forward_proj \"\(proj)\" is not ACT or gated-ACT")
        }
        var activation = parts[parts.count - 1]
        if proj == "gated-gelu" { activation = "gelu_new" }
        guard ["relu", "gelu", "gelu_new", "silu", "swish", "tanh"].contains(activation) else {
            throw T5Error.badConfig(path: "config", detail: "unsupported activation in feed_forward_proj \"\(proj)\"")
        }
        return (activation, gated)
    }

    /// All heads side by side: `num_heads · d_kv`.
    public var innerDim: Int { numHeads * dKV }

    public func validate(path: String = "config") throws {
        let positive: [(String, Int)] = [
            ("vocab_size", vocabSize), ("d_model", dModel), ("d_kv", dKV), ("d_ff", dFF), ("num_layers", numLayers),
            ("num_decoder_layers", numDecoderLayers), ("num_heads", numHeads),
            ("relative_attention_num_buckets", relativeAttentionNumBuckets),
            ("relative_attention_max_distance", relativeAttentionMaxDistance),
        ]
        for (name, value) in positive where value <= 0 {
            throw T5Error.badConfig(path: path, detail: "\(name) must be positive, got \(value)")
        }
        if relativeAttentionNumBuckets < 4 {
            throw T5Error.badConfig(path: path, detail: "relative_attention_num_buckets must be at least 4")
        }
        for (name, id) in [("pad_token_id", padTokenId), ("eos_token_id", eosTokenId), ("decoder_start_token_id", decoderStartTokenId)]
        where id < 0 || id >= vocabSize {
            throw T5Error.badConfig(path: path, detail: "\(name) \(id) is outside the vocabulary of \(vocabSize)")
        }
    }

    /// Reads `config.json` in `folder`, then `generation_config.json` when present.
    public static func load(folder: String) throws -> T5Config {
        let path = folder + "/config.json"
        let fields = JSONFields(try readConfigObject(path, errors: t5ConfigErrors), path: path, errors: t5ConfigErrors)
        guard let modelType = try fields.string("model_type") else { throw T5Error.badConfig(path: path, detail: "no model_type") }
        guard modelType == "t5" else {
            throw T5Error.badConfig(path: path, detail: "model_type is \"\(modelType)\", expected \"t5\"")
        }
        var config: T5Config
        do {
            config = try T5Config(
                vocabSize: try fields.requiredInt("vocab_size"), dModel: try fields.requiredInt("d_model"),
                dKV: try fields.requiredInt("d_kv"), dFF: try fields.requiredInt("d_ff"),
                numLayers: try fields.requiredInt("num_layers"), numDecoderLayers: try fields.int("num_decoder_layers"),
                numHeads: try fields.requiredInt("num_heads"),
                relativeAttentionNumBuckets: try fields.int("relative_attention_num_buckets") ?? 32,
                relativeAttentionMaxDistance: try fields.int("relative_attention_max_distance") ?? 128,
                layerNormEpsilon: Float(try fields.double("layer_norm_epsilon") ?? 1e-6),
                feedForwardProj: try fields.string("feed_forward_proj") ?? "relu",
                tieWordEmbeddings: try fields.bool("tie_word_embeddings") ?? true,
                scaleDecoderOutputs: try fields.bool("scale_decoder_outputs"),
                padTokenId: try fields.int("pad_token_id") ?? 0, eosTokenId: try fields.firstInt("eos_token_id") ?? 1,
                decoderStartTokenId: try fields.int("decoder_start_token_id") ?? 0)
        } catch T5Error.badConfig(_, let detail) {
            throw T5Error.badConfig(path: path, detail: detail)
        }
        try config.generation.apply(fields)
        let generationPath = folder + "/generation_config.json"
        if FileManager.default.fileExists(atPath: generationPath) {
            let g = JSONFields(try readConfigObject(generationPath, errors: t5ConfigErrors), path: generationPath, errors: t5ConfigErrors)
            try config.generation.apply(g)
            if let v = try g.int("pad_token_id") { config.padTokenId = v }
            if let v = try g.firstInt("eos_token_id") { config.eosTokenId = v }
            if let v = try g.int("decoder_start_token_id") { config.decoderStartTokenId = v }
        }
        try config.validate(path: path)
        return config
    }
}

extension T5Config: Seq2SeqConfiguration {
    public var decoderTokens: DecoderTokens {
        DecoderTokens(padTokenId: padTokenId, eosTokenId: eosTokenId, decoderStartTokenId: decoderStartTokenId)
    }
    public var generationDefaults: GenerationDefaults { generation }
}
