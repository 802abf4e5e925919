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

extension GenerationDefaults {
    mutating func apply(_ reader: JSONFields) throws {
        if let v = try reader.int("num_beams") { numBeams = v }
        if let v = try reader.int("max_length") { maxLength = v }
        if let v = try reader.int("min_length") { minLength = v }
        if let v = try reader.int("no_repeat_ngram_size") { noRepeatNgramSize = v }
        if let v = try reader.double("length_penalty") { lengthPenalty = v }
        if let raw = reader.json["early_stopping"], !(raw is NSNull) {
            if let s = raw as? String, !(raw is NSNumber) {
                guard s == "never" else {
                    throw BartError.badConfig(path: reader.path, detail: "early_stopping \"\(s)\" is not true, false or \"never\"")
                }
                earlyStopping = .never
            } else if let b = try reader.bool("early_stopping") {
                earlyStopping = b ? .stopEarly : .heuristic
            }
        }
        if numBeams < 1 { throw BartError.badConfig(path: reader.path, detail: "num_beams must be ≥ 1") }
        if maxLength < 1 { throw BartError.badConfig(path: reader.path, detail: "max_length must be ≥ 1") }
    }
}

/// Reads a JSON object from a file, with clear errors.
func readJSONObject(_ path: String) throws -> [String: Any] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw BartError.missingFile(path: path)
    }
    let object: Any
    do {
        object = try JSONSerialization.jsonObject(with: data)
    } catch {
        throw BartError.badConfig(path: path, detail: "not valid JSON")
    }
    guard let dict = object as? [String: Any] else {
        throw BartError.badConfig(path: path, detail: "not a JSON object")
    }
    return dict
}

/// Typed access to the fields of a JSON object; `null` counts as absent, a wrong type is an error.
struct JSONFields {
    let json: [String: Any]
    let path: String

    init(_ json: [String: Any], path: String) {
        self.json = json
        self.path = path
    }

    private func value(_ key: String) -> Any? {
        guard let v = json[key], !(v is NSNull) else { return nil }
        return v
    }

    private func wrongType(_ key: String, _ expected: String) -> BartError {
        .badConfig(path: path, detail: "\(key) is not \(expected)")
    }

    /// JSON true/false (Foundation gives NSNumbers whose type code is "c"; plain `is Bool` also
    /// matches the numbers 0 and 1 on Linux).
    static func isBool(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) == "c"
    }

    func int(_ key: String) throws -> Int? {
        guard let v = value(key) else { return nil }
        if Self.isBool(v) { throw wrongType(key, "an integer") }
        if let i = v as? Int { return i }
        if let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded(), abs(n.doubleValue) < 9e15 {
            return n.intValue
        }
        throw wrongType(key, "an integer")
    }

    func requiredInt(_ key: String) throws -> Int {
        guard let v = try int(key) else { throw BartError.badConfig(path: path, detail: "missing \(key)") }
        return v
    }

    /// An integer, or the first element of an integer list (HF allows lists for eos ids).
    func firstInt(_ key: String) throws -> Int? {
        if let list = value(key) as? [Any] {
            guard let first = list.first else { return nil }
            return try JSONFields([key: first], path: path).int(key)
        }
        return try int(key)
    }

    func double(_ key: String) throws -> Double? {
        guard let v = value(key) else { return nil }
        if Self.isBool(v) { throw wrongType(key, "a number") }
        if let d = v as? Double { return d }
        if let n = v as? NSNumber { return n.doubleValue }
        throw wrongType(key, "a number")
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        if Self.isBool(v), let b = v as? Bool { return b }
        throw wrongType(key, "a boolean")
    }

    func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        if let s = v as? String { return s }
        throw wrongType(key, "a string")
    }
}
