/// The precision a model's linear layers (and token embeddings) are held and multiplied in.
public enum Precision: String, Sendable, CaseIterable, CustomStringConvertible {
    /// float32 weights, OpenBLAS and the skinny kernels.
    case fp32
    /// bfloat16 weights (`BF16Rows`), activations rounded to bf16 at each product, float32 sums
    /// (AVX512-BF16's `vdpbf16ps`; `BF16Rows.isAccelerated`). Each weight keeps 8 significant bits of its
    /// own, where int8 gives a whole row one scale: a small weight in a row with a large one keeps its
    /// relative precision.
    case bf16
    /// int8 weights with one scale per output row, activations quantized per row at each product, int32
    /// accumulation (oneDNN u8s8s32), float32 out. Needs VNNI (`Int8Rows.isSupported`).
    case int8
    /// The encoder's linear layers at int8, everything else (decoder, token tables, output projection) at
    /// fp32: for a small model whose int8 decoder changes too many greedy outputs. Rounding the weights to
    /// int8 is what moves near-tied logits (a decoder with int8-rounded weights and float32 activations
    /// changes about as many as int8 throughout), while the encoder's rounding mostly washes out in cross-attention.
    /// A model-level choice: a single layer is `.fp32`, `.bf16` or `.int8`. Needs VNNI, as `.int8`.
    case int8Encoder = "int8-encoder"
    /// The encoder's linear layers at int8, the decoder's, the token tables and the output projection at
    /// bf16: the int8 encoder's speed with a decoder rounded far less than int8's. A model-level choice.
    /// Needs VNNI, and AVX512-BF16 to be fast.
    case int8BF16 = "int8-bf16"

    public var description: String { rawValue }

    /// Whether some layer multiplies in int8 (and so needs VNNI: `Int8Rows.isSupported`).
    public var usesInt8: Bool { layer(inEncoder: true) == .int8 || tables == .int8 }

    /// Whether some layer multiplies in bf16 (fast only with AVX512-BF16: `BF16Rows.isAccelerated`).
    public var usesBF16: Bool { layer(inEncoder: true) == .bf16 || tables == .bf16 }

    /// What one linear layer is held in under this model-level precision.
    public func layer(inEncoder: Bool) -> Precision {
        switch self {
        case .fp32: return .fp32
        case .bf16: return .bf16
        case .int8: return .int8
        case .int8Encoder: return inEncoder ? .int8 : .fp32
        case .int8BF16: return inEncoder ? .int8 : .bf16
        }
    }

    /// What the token tables and the output projection are held in (the decoder side's precision).
    public var tables: Precision { layer(inEncoder: false) }
}

extension Precision {
    /// Why this CPU should not run this precision, or nil when it can: int8 needs VNNI (without it oneDNN's
    /// u8 × s8 pairs can saturate), and bf16 without AVX512-BF16 runs a portable loop slower than float32.
    public var unavailableReason: String? {
        if usesInt8 && !Int8Rows.isSupported {
            return "int8 needs AVX-512 VNNI or AVX-VNNI; oneDNN finds \(Int8Rows.instructionSet) on this CPU"
        }
        if usesBF16 && !BF16Rows.isAccelerated {
            return "bf16 needs AVX512-BF16, which this CPU lacks"
        }
        return nil
    }
}
