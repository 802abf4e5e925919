import Foundation
import SafeTensors
import TensorKernels

/// Where weights come from: one `model.safetensors`, or the shards listed in
/// `model.safetensors.index.json` (`SafeTensorsFolder`), with its errors as `BartError`s.
struct WeightSource {
    let folder: SafeTensorsFolder

    init(folder path: String) throws {
        do {
            folder = try SafeTensorsFolder(folder: path)
        } catch SafeTensorsError.missingWeights {
            throw BartError.missingFile(path: path + "/model.safetensors")
        } catch let error as SafeTensorsError {
            throw BartError.weights(error)
        }
    }

    func contains(_ name: String) -> Bool { folder.contains(name) }

    func ints(_ name: String, _ shape: [Int]) throws -> [Int] {
        do {
            return try folder.ints(name, shape)
        } catch let error as SafeTensorsError {
            throw BartError.weights(error)
        }
    }

    /// A `[rows, cols]` float tensor rounded to `precision` (int8 or bf16) a block of rows at a time (never
    /// whole in float32); nil at `.fp32`.
    func rows(_ name: String, _ shape: [Int], _ precision: Precision) throws -> ReducedRows? {
        guard shape.count == 2 else { throw BartError.invalidArgument("\(precision) rows need a matrix, \(name) is \(shape)") }
        do {
            return try ReducedRows(rows: shape[0], cols: shape[1], precision: precision) { range, buffer in
                try folder.floats(name, shape, rows: range, into: buffer)
            }
        } catch let error as SafeTensorsError {
            throw BartError.weights(error)
        }
    }

    func floats(_ name: String, _ shape: [Int]) throws -> [Float] {
        do {
            return try folder.floats(name, shape)
        } catch let error as SafeTensorsError {
            throw BartError.weights(error)
        }
    }
}

extension BartWeights {
    /// Loads every tensor of a `BartForConditionalGeneration` from `folder`, by HF's names, checking shapes.
    ///
    /// Tied embeddings: when `lm_head.weight` (or `model.encoder.embed_tokens.weight`,
    /// `model.decoder.embed_tokens.weight`) is absent, `model.shared.weight` is used, as transformers ties
    /// them; when present with other values (untied checkpoints) the stored tensor is used.
    /// `final_logits_bias` defaults to zeros when absent.
    ///
    /// With `precision` `.int8` (or `.bf16`) every linear layer and the token tables are rounded as they are
    /// read (`Int8Rows`, `BF16Rows`: a tensor or a block of table rows at a time), so no float32 copy of the
    /// model exists at any point; the layer norms, positions, biases and a copying model's pointer stay
    /// float32. The mixed precisions hold the encoder's linear layers in one and the rest in the other
    /// (`Precision.layer(inEncoder:)`, `Precision.tables`).
    public static func load(folder: String, config: BartConfig, precision: Precision = .fp32) throws -> BartWeights {
        try load(source: WeightSource(folder: folder), config: config, precision: precision)
    }

    static func load(source: WeightSource, config c: BartConfig, precision: Precision = .fp32) throws -> BartWeights {
        let d = c.dModel
        let v = c.vocabSize
        let sharedName = ["model.shared.weight", "model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight"]
            .first { source.contains($0) } ?? "model.shared.weight"
        let reducedTables = precision.tables != .fp32
        let shared = reducedTables ? [] : try source.floats(sharedName, [v, d])
        let sharedRows = try source.rows(sharedName, [v, d], precision.tables)
        // Stored copies equal to `shared` are dropped so tied checkpoints keep one array in memory.
        func tiedOrOwn(_ name: String) throws -> [Float] {
            guard !reducedTables else { return [] }
            guard name != sharedName, source.contains(name) else { return shared }
            let own = try source.floats(name, [v, d])
            return own == shared ? shared : own
        }
        // The same below float32: equal rounded rows (and scales) are one table.
        func tiedOrOwnRows(_ name: String) throws -> ReducedRows? {
            guard let sharedRows else { return nil }
            guard name != sharedName, source.contains(name) else { return sharedRows }
            guard let own = try source.rows(name, [v, d], precision.tables) else { return nil }
            return own.hasSameValues(as: sharedRows) ? sharedRows : own
        }
        let encoderTokens = try tiedOrOwn("model.encoder.embed_tokens.weight")
        let decoderTokens = try tiedOrOwn("model.decoder.embed_tokens.weight")
        let positions = c.maxPositionEmbeddings + BartConfig.positionOffset

        func linear(_ prefix: String, _ outDim: Int, _ inDim: Int, at layerPrecision: Precision) throws -> Linear {
            let bias = try source.floats(prefix + ".bias", [outDim])
            if let rows = try source.rows(prefix + ".weight", [outDim, inDim], layerPrecision) {
                return try Linear(rows: rows, bias: bias)
            }
            return try Linear(
                weight: source.floats(prefix + ".weight", [outDim, inDim]), bias: bias, inFeatures: inDim, outFeatures: outDim)
        }
        func norm(_ prefix: String) throws -> LayerNorm {
            try LayerNorm(
                gamma: source.floats(prefix + ".weight", [d]), beta: source.floats(prefix + ".bias", [d]),
                eps: c.layerNormEps)
        }
        func attention(_ prefix: String, at p: Precision) throws -> BartAttentionWeights {
            BartAttentionWeights(
                q: try linear(prefix + ".q_proj", d, d, at: p), k: try linear(prefix + ".k_proj", d, d, at: p),
                v: try linear(prefix + ".v_proj", d, d, at: p), out: try linear(prefix + ".out_proj", d, d, at: p))
        }
        let encoderPrecision = precision.layer(inEncoder: true), decoderPrecision = precision.layer(inEncoder: false)

        var encoderLayers: [BartEncoderLayerWeights] = []
        for i in 0..<c.encoderLayers {
            let p = "model.encoder.layers.\(i)"
            encoderLayers.append(BartEncoderLayerWeights(
                selfAttention: try attention(p + ".self_attn", at: encoderPrecision),
                selfAttentionNorm: try norm(p + ".self_attn_layer_norm"),
                fc1: try linear(p + ".fc1", c.encoderFFNDim, d, at: encoderPrecision),
                fc2: try linear(p + ".fc2", d, c.encoderFFNDim, at: encoderPrecision),
                finalNorm: try norm(p + ".final_layer_norm")))
        }
        var decoderLayers: [BartDecoderLayerWeights] = []
        for i in 0..<c.decoderLayers {
            let p = "model.decoder.layers.\(i)"
            decoderLayers.append(BartDecoderLayerWeights(
                selfAttention: try attention(p + ".self_attn", at: decoderPrecision),
                selfAttentionNorm: try norm(p + ".self_attn_layer_norm"),
                crossAttention: try attention(p + ".encoder_attn", at: decoderPrecision),
                crossAttentionNorm: try norm(p + ".encoder_attn_layer_norm"),
                fc1: try linear(p + ".fc1", c.decoderFFNDim, d, at: decoderPrecision),
                fc2: try linear(p + ".fc2", d, c.decoderFFNDim, at: decoderPrecision),
                finalNorm: try norm(p + ".final_layer_norm")))
        }
        let bias = source.contains("final_logits_bias")
            ? try source.floats("final_logits_bias", [1, v]) : [Float](repeating: 0, count: v)
        let lmHead = try tiedOrOwnRows("lm_head.weight").map { try Linear(rows: $0, bias: bias) }
            ?? Linear(weight: try tiedOrOwn("lm_head.weight"), bias: bias, inFeatures: d, outFeatures: v)
        var weights = BartWeights(
            shared: shared, encoderTokens: encoderTokens, decoderTokens: decoderTokens,
            encoderPositions: try source.floats("model.encoder.embed_positions.weight", [positions, d]),
            decoderPositions: try source.floats("model.decoder.embed_positions.weight", [positions, d]),
            encoderEmbeddingNorm: try norm("model.encoder.layernorm_embedding"),
            decoderEmbeddingNorm: try norm("model.decoder.layernorm_embedding"),
            encoderLayers: encoderLayers, decoderLayers: decoderLayers,
            lmHead: lmHead,
            pointer: c.copying
                ? BartPointerWeights(
                    query: try linear("copy_query", d, d, at: .fp32), key: try linear("copy_key", d, d, at: .fp32),
                    gate: try linear("copy_gate", 3, d, at: .fp32), twins: try source.ints("copy_twins", [v]))
                : nil)
        weights.encoderTokenRows = try tiedOrOwnRows("model.encoder.embed_tokens.weight")
        weights.decoderTokenRows = try tiedOrOwnRows("model.decoder.embed_tokens.weight")
        return weights
    }
}
