import SafeTensors
import TensorKernels

/// A projection without bias whose weight is float32, bfloat16 kept as the checkpoint stores it (half the
/// memory; the arithmetic stays float32, see `BF16Linear`), or int8 with a scale per output channel
/// (`Precision.int8`: a quarter of float32's bytes, VNNI products).
public enum T5Linear: Sendable {
    case float32(Linear)
    case bfloat16(BF16Linear)
    /// A `Linear` whose weight is held below float32: `Int8Rows` (`linear.int8`) or `BF16Rows` (`linear.bf16`).
    case reduced(Linear)

    public func apply(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case .float32(let linear), .reduced(let linear): linear.apply(x, rows: rows, into: out)
        case .bfloat16(let linear): linear.apply(x, rows: rows, into: out)
        }
    }

    /// Bytes the weight takes in memory.
    public var weightBytes: Int {
        switch self {
        case .float32(let linear), .reduced(let linear): return linear.bytes
        case .bfloat16(let linear): return linear.weight.count * 2
        }
    }
}

/// One attention block's projections (no biases in T5): `q`, `k`, `v` are `[inner, d_model]`, `o` is
/// `[d_model, inner]`.
public struct T5AttentionWeights: Sendable {
    public let q, k, v, o: T5Linear
}

/// The feed-forward block: `wo(act(wi x))`, or gated `wo(act(wi_0 x) · wi_1 x)`.
public struct T5FeedForwardWeights: Sendable {
    /// `wi` (or `wi_0` when gated): `[d_ff, d_model]`.
    public let wi: T5Linear
    /// `wi_1` when gated.
    public let gate: T5Linear?
    public let wo: T5Linear
}

public struct T5EncoderLayerWeights: Sendable {
    public let selfAttentionNorm: RMSNorm
    public let selfAttention: T5AttentionWeights
    public let feedForwardNorm: RMSNorm
    public let feedForward: T5FeedForwardWeights
}

public struct T5DecoderLayerWeights: Sendable {
    public let selfAttentionNorm: RMSNorm
    public let selfAttention: T5AttentionWeights
    public let crossAttentionNorm: RMSNorm
    public let crossAttention: T5AttentionWeights
    public let feedForwardNorm: RMSNorm
    public let feedForward: T5FeedForwardWeights
}

/// Every tensor of a `T5ForConditionalGeneration`, by Hugging Face's names.
public struct T5Weights: Sendable {
    /// `shared.weight`, `[vocab, d_model]`: the token embedding of both stacks.
    public let shared: [Float]
    public let encoderLayers: [T5EncoderLayerWeights]
    public let encoderFinalNorm: RMSNorm
    public let encoderPositions: T5RelativePositions
    public let decoderLayers: [T5DecoderLayerWeights]
    public let decoderFinalNorm: RMSNorm
    public let decoderPositions: T5RelativePositions
    /// `[vocab, d_model]`: `lm_head.weight`, or `shared` when the embeddings are tied.
    public let lmHead: T5Linear

    /// Bytes of every weight in memory (embedding, projections, norms, position tables).
    public var bytes: Int {
        let attention = { (a: T5AttentionWeights) in a.q.weightBytes + a.k.weightBytes + a.v.weightBytes + a.o.weightBytes }
        let ffn = { (f: T5FeedForwardWeights) in f.wi.weightBytes + (f.gate?.weightBytes ?? 0) + f.wo.weightBytes }
        let encoder = encoderLayers.reduce(0) { $0 + attention($1.selfAttention) + ffn($1.feedForward) }
        let decoder = decoderLayers.reduce(0) { $0 + attention($1.selfAttention) + attention($1.crossAttention) + ffn($1.feedForward) }
        return shared.count * 4 + encoder + decoder + lmHead.weightBytes
    }

    /// Loads `folder`'s `model.safetensors` (or its index and shards), checking every shape against `config`.
    /// Projections stored as BF16 stay BF16 in memory unless `widenBF16` (then float32, twice the bytes).
    /// With `precision` `.int8` every projection and the output head are quantized as they are read, a block
    /// of rows at a time (no float32 copy of them exists); the embedding table, norms and position biases
    /// stay float32. With `.int8Encoder` only the encoder's projections are (`Precision.layer(inEncoder:)`).
    /// `.bf16` holds them in bf16 and multiplies in bf16 (a BF16 checkpoint's bits as stored, float32 ones
    /// rounded); `.int8BF16` the encoder's in int8 and the rest in bf16.
    public static func load(folder: String, config c: T5Config, widenBF16: Bool = false,
                            precision: Precision = .fp32) throws -> T5Weights {
        let source: SafeTensorsFolder
        do { source = try SafeTensorsFolder(folder: folder) } catch let error as SafeTensorsError {
            if case .missingWeights = error { throw T5Error.missingFile(path: folder + "/model.safetensors") }
            throw T5Error.weights(error)
        }
        func floats(_ name: String, _ shape: [Int]) throws -> [Float] {
            do { return try source.floats(name, shape) } catch let error as SafeTensorsError { throw T5Error.weights(error) }
        }
        let d = c.dModel, inner = c.innerDim
        let sharedName = ["shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"]
            .first { source.contains($0) } ?? "shared.weight"
        let shared = try floats(sharedName, [c.vocabSize, d])
        func linear(_ name: String, _ out: Int, _ input: Int) throws -> T5Linear {
            let tensor = name + ".weight"
            let layerPrecision = precision.layer(inEncoder: name.hasPrefix("encoder."))
            if layerPrecision == .bf16, source.info(tensor)?.dtype == .bf16 {
                // Stored as BF16: the bits are the weights, nothing to round.
                do {
                    return .reduced(try Linear(rows: .bf16(BF16Rows(bits: source.bf16Bits(tensor, [out, input]), rows: out, cols: input)), bias: []))
                } catch let error as SafeTensorsError { throw T5Error.weights(error) }
            }
            do {
                if let rows = try ReducedRows(rows: out, cols: input, precision: layerPrecision, fill: { range, buffer in
                    try source.floats(tensor, [out, input], rows: range, into: buffer)
                }) {
                    return .reduced(try Linear(rows: rows, bias: []))
                }
            } catch let error as SafeTensorsError { throw T5Error.weights(error) }
            if !widenBF16, source.info(tensor)?.dtype == .bf16 {
                do {
                    return .bfloat16(try BF16Linear(weight: source.bf16Bits(tensor, [out, input]), inFeatures: input, outFeatures: out))
                } catch let error as SafeTensorsError { throw T5Error.weights(error) }
            }
            return .float32(try Linear(weight: floats(tensor, [out, input]), bias: [], inFeatures: input, outFeatures: out))
        }
        func norm(_ name: String) throws -> RMSNorm {
            RMSNorm(gamma: try floats(name + ".weight", [d]), eps: c.layerNormEpsilon)
        }
        func attention(_ prefix: String) throws -> T5AttentionWeights {
            T5AttentionWeights(q: try linear(prefix + ".q", inner, d), k: try linear(prefix + ".k", inner, d),
                               v: try linear(prefix + ".v", inner, d), o: try linear(prefix + ".o", d, inner))
        }
        func feedForward(_ prefix: String) throws -> T5FeedForwardWeights {
            if c.gatedFFN {
                return T5FeedForwardWeights(wi: try linear(prefix + ".wi_0", c.dFF, d), gate: try linear(prefix + ".wi_1", c.dFF, d),
                                            wo: try linear(prefix + ".wo", d, c.dFF))
            }
            return T5FeedForwardWeights(wi: try linear(prefix + ".wi", c.dFF, d), gate: nil, wo: try linear(prefix + ".wo", d, c.dFF))
        }
        func positions(_ stack: String, bidirectional: Bool) throws -> T5RelativePositions {
            T5RelativePositions(
                table: try floats("\(stack).block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                                  [c.relativeAttentionNumBuckets, c.numHeads]),
                numBuckets: c.relativeAttentionNumBuckets, maxDistance: c.relativeAttentionMaxDistance, heads: c.numHeads,
                bidirectional: bidirectional)
        }
        let encoderLayers = try (0..<c.numLayers).map { i in
            let p = "encoder.block.\(i).layer"
            return T5EncoderLayerWeights(
                selfAttentionNorm: try norm("\(p).0.layer_norm"), selfAttention: try attention("\(p).0.SelfAttention"),
                feedForwardNorm: try norm("\(p).1.layer_norm"), feedForward: try feedForward("\(p).1.DenseReluDense"))
        }
        let decoderLayers = try (0..<c.numDecoderLayers).map { i in
            let p = "decoder.block.\(i).layer"
            return T5DecoderLayerWeights(
                selfAttentionNorm: try norm("\(p).0.layer_norm"), selfAttention: try attention("\(p).0.SelfAttention"),
                crossAttentionNorm: try norm("\(p).1.layer_norm"), crossAttention: try attention("\(p).1.EncDecAttention"),
                feedForwardNorm: try norm("\(p).2.layer_norm"), feedForward: try feedForward("\(p).2.DenseReluDense"))
        }
        // A stored lm_head is used (v1.1 checkpoints have one); without one the head is the shared
        // embedding, which an untied config cannot do without.
        let head: T5Linear
        if source.contains("lm_head.weight") {
            head = try linear("lm_head", c.vocabSize, d)
        } else if c.tieWordEmbeddings {
            let tied = try Linear(weight: shared, bias: [], inFeatures: d, outFeatures: c.vocabSize)
            head = precision.tables != .fp32 ? .reduced(try tied.converted(to: precision.tables)) : .float32(tied)
        } else {
            throw T5Error.weights(.missingTensor(name: "lm_head.weight (tie_word_embeddings is false)"))
        }
        return T5Weights(
            shared: shared, encoderLayers: encoderLayers, encoderFinalNorm: try norm("encoder.final_layer_norm"),
            encoderPositions: try positions("encoder", bidirectional: true),
            decoderLayers: decoderLayers, decoderFinalNorm: try norm("decoder.final_layer_norm"),
            decoderPositions: try positions("decoder", bidirectional: false),
            lmHead: head)
    }
}
