import Foundation

/// Hyper-parameters of a BART model, read from a Hugging Face `config.json` (`model_type: "bart"`).
public struct BartConfig: Sendable, Equatable {
    public var vocabSize: Int
    public var dModel: Int
    public var encoderLayers: Int
    public var decoderLayers: Int
    public var encoderAttentionHeads: Int
    public var decoderAttentionHeads: Int
    public var encoderFFNDim: Int
    public var decoderFFNDim: Int
    public var maxPositionEmbeddings: Int
    /// HF `activation_function` ("gelu" = exact erf GELU).
    public var activation: String
    /// Multiply token embeddings by `sqrt(d_model)` (`scale_embedding`).
    public var scaleEmbedding: Bool
    public var padTokenId: Int
    public var bosTokenId: Int
    public var eosTokenId: Int
    public var decoderStartTokenId: Int
    public var forcedBOSTokenId: Int?
    public var forcedEOSTokenId: Int?
    /// Generation defaults from `config.json`, overridden by `generation_config.json` when present.
    public var generation: GenerationDefaults
    /// Whether the next-token distribution mixes generating and copying input tokens (`mixCopies`,
    /// COPYING.md): `config.json` has `"prism_copy": "pointer-generator/1"`.
    public var copying: Bool = false
    /// The value of `prism_copy` this runtime implements.
    public static let copyFormat = "pointer-generator/1"

    /// Layer norm epsilon: BART's modules use `nn.LayerNorm`'s default.
    public var layerNormEps: Float { 1e-5 }
    /// `sqrt(d_model)` when `scaleEmbedding`, else 1.
    public var embedScale: Float { scaleEmbedding ? Float(dModel).squareRoot() : 1 }
    /// BART's learned positions are stored with an offset of 2.
    public static let positionOffset = 2

    public init(
        vocabSize: Int, dModel: Int, encoderLayers: Int, decoderLayers: Int,
        encoderAttentionHeads: Int, decoderAttentionHeads: Int, encoderFFNDim: Int, decoderFFNDim: Int,
        maxPositionEmbeddings: Int, activation: String = "gelu", scaleEmbedding: Bool = false,
        padTokenId: Int = 1, bosTokenId: Int = 0, eosTokenId: Int = 2, decoderStartTokenId: Int = 2,
        forcedBOSTokenId: Int? = nil, forcedEOSTokenId: Int? = 2,
        generation: GenerationDefaults = GenerationDefaults()
    ) {
        self.vocabSize = vocabSize
        self.dModel = dModel
        self.encoderLayers = encoderLayers
        self.decoderLayers = decoderLayers
        self.encoderAttentionHeads = encoderAttentionHeads
        self.decoderAttentionHeads = decoderAttentionHeads
        self.encoderFFNDim = encoderFFNDim
        self.decoderFFNDim = decoderFFNDim
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.activation = activation
        self.scaleEmbedding = scaleEmbedding
        self.padTokenId = padTokenId
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        self.decoderStartTokenId = decoderStartTokenId
        self.forcedBOSTokenId = forcedBOSTokenId
        self.forcedEOSTokenId = forcedEOSTokenId
        self.generation = generation
    }

    /// Checks internal consistency (head sizes divide `d_model`, ids inside the vocabulary...).
    public func validate(path: String = "config") throws {
        func fail(_ detail: String) -> BartError { .badConfig(path: path, detail: detail) }
        let positive: [(String, Int)] = [
            ("vocab_size", vocabSize), ("d_model", dModel), ("encoder_layers", encoderLayers),
            ("decoder_layers", decoderLayers), ("encoder_attention_heads", encoderAttentionHeads),
            ("decoder_attention_heads", decoderAttentionHeads), ("encoder_ffn_dim", encoderFFNDim),
            ("decoder_ffn_dim", decoderFFNDim), ("max_position_embeddings", maxPositionEmbeddings),
        ]
        for (name, value) in positive where value <= 0 { throw fail("\(name) must be positive, got \(value)") }
        if dModel % encoderAttentionHeads != 0 || dModel % decoderAttentionHeads != 0 {
            throw fail("d_model \(dModel) is not divisible by the number of attention heads")
        }
        if encoderAttentionHeads != decoderAttentionHeads {
            throw fail("encoder and decoder head counts differ (\(encoderAttentionHeads) vs \(decoderAttentionHeads))")
        }
        let ids: [(String, Int?)] = [
            ("pad_token_id", padTokenId), ("bos_token_id", bosTokenId), ("eos_token_id", eosTokenId),
            ("decoder_start_token_id", decoderStartTokenId), ("forced_bos_token_id", forcedBOSTokenId),
            ("forced_eos_token_id", forcedEOSTokenId),
        ]
        for case let (name, id?) in ids where id < 0 || id >= vocabSize {
            throw fail("\(name) \(id) is outside the vocabulary of \(vocabSize)")
        }
        if !["gelu", "gelu_new", "relu", "silu", "swish", "tanh"].contains(activation) {
            throw fail("unsupported activation_function \"\(activation)\"")
        }
    }
}
