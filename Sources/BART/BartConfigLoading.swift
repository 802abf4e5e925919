import Foundation

extension BartConfig {
    /// Reads `config.json` in `folder`, then applies `generation_config.json` when present.
    public static func load(folder: String) throws -> BartConfig {
        let configPath = folder + "/config.json"
        var config = try parse(try readJSONObject(configPath), path: configPath)
        let generationPath = folder + "/generation_config.json"
        if FileManager.default.fileExists(atPath: generationPath) {
            try config.applyGenerationConfig(try readJSONObject(generationPath), path: generationPath)
        }
        try config.validate(path: configPath)
        return config
    }

    /// Parses the contents of a `config.json` (`model_type` must be "bart").
    public static func parse(_ json: [String: Any], path: String = "config.json") throws -> BartConfig {
        let reader = JSONFields(json, path: path)
        guard let modelType = try reader.string("model_type") else {
            throw BartError.badConfig(path: path, detail: "no model_type")
        }
        guard modelType == "bart" else {
            throw BartError.badConfig(path: path, detail: "model_type is \"\(modelType)\", expected \"bart\"")
        }
        if try reader.bool("normalize_before") == true {
            throw BartError.badConfig(path: path, detail: "normalize_before=true (pre-layer-norm) is not BART")
        }
        if try reader.bool("add_final_layer_norm") == true {
            throw BartError.badConfig(path: path, detail: "add_final_layer_norm=true is not BART")
        }
        var config = BartConfig(
            vocabSize: try reader.requiredInt("vocab_size"),
            dModel: try reader.requiredInt("d_model"),
            encoderLayers: try reader.requiredInt("encoder_layers"),
            decoderLayers: try reader.requiredInt("decoder_layers"),
            encoderAttentionHeads: try reader.requiredInt("encoder_attention_heads"),
            decoderAttentionHeads: try reader.requiredInt("decoder_attention_heads"),
            encoderFFNDim: try reader.requiredInt("encoder_ffn_dim"),
            decoderFFNDim: try reader.requiredInt("decoder_ffn_dim"),
            maxPositionEmbeddings: try reader.requiredInt("max_position_embeddings"),
            activation: try reader.string("activation_function") ?? "gelu",
            scaleEmbedding: try reader.bool("scale_embedding") ?? false,
            padTokenId: try reader.int("pad_token_id") ?? 1,
            bosTokenId: try reader.int("bos_token_id") ?? 0,
            eosTokenId: try reader.firstInt("eos_token_id") ?? 2,
            decoderStartTokenId: try reader.int("decoder_start_token_id") ?? 2,
            forcedBOSTokenId: try reader.int("forced_bos_token_id"),
            forcedEOSTokenId: json.keys.contains("forced_eos_token_id") ? try reader.firstInt("forced_eos_token_id") : 2
        )
        try config.generation.apply(reader)
        if let copy = try reader.string("prism_copy") {
            guard copy == copyFormat else {
                throw BartError.badConfig(path: path, detail: "prism_copy \"\(copy)\" is not \"\(copyFormat)\"")
            }
            config.copying = true
        }
        return config
    }

    /// Applies a `generation_config.json` on top of this configuration.
    public mutating func applyGenerationConfig(_ json: [String: Any], path: String) throws {
        let reader = JSONFields(json, path: path)
        try generation.apply(reader)
        if let v = try reader.int("pad_token_id") { padTokenId = v }
        if let v = try reader.int("bos_token_id") { bosTokenId = v }
        if let v = try reader.firstInt("eos_token_id") { eosTokenId = v }
        if let v = try reader.int("decoder_start_token_id") { decoderStartTokenId = v }
        if json.keys.contains("forced_bos_token_id") { forcedBOSTokenId = try reader.int("forced_bos_token_id") }
        if json.keys.contains("forced_eos_token_id") { forcedEOSTokenId = try reader.firstInt("forced_eos_token_id") }
    }
}

/// Config-file errors as `BartError`s.
let bartConfigErrors = ConfigErrors(
    missingFile: { BartError.missingFile(path: $0) }, badConfig: { BartError.badConfig(path: $0, detail: $1) })

func readJSONObject(_ path: String) throws -> [String: Any] {
    try readConfigObject(path, errors: bartConfigErrors)
}

extension JSONFields {
    init(_ json: [String: Any], path: String) {
        self.init(json, path: path, errors: bartConfigErrors)
    }
}
