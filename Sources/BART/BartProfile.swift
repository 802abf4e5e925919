#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Optional wall-clock breakdown of a BART forward pass by phase, for `prism bench bart`.
///
/// Set `BartModel.profile` to an instance to collect; leave it nil (the default) and nothing is timed.
/// Times accumulate across calls until `reset()`. Phases may be timed from several threads at once (the
/// encoder runs a sequence per thread in a batch); each addition is atomic.
public final class BartProfile {
    /// The phases timed. Encoder phases cover the whole batch; decoder phases sum over generated tokens.
    public enum Phase: Int, CaseIterable, Sendable {
        case encoderEmbed, encoderProjections, encoderAttention, encoderFFN, encoderGELU, encoderNormResidual
        case crossKeysValues
        case decoderEmbed, decoderSelfProjections, decoderSelfAttention, decoderCrossProjections
        case decoderCrossAttention, decoderFFN, decoderGELU, decoderNormResidual
        case outputProjection, copyMixture, argmaxProcessors

        /// A short label for reports.
        public var label: String {
            switch self {
            case .encoderEmbed: return "encoder embeddings + LN"
            case .encoderProjections: return "encoder Q/K/V/out GEMMs"
            case .encoderAttention: return "encoder attention (QKᵀ, softmax, PV)"
            case .encoderFFN: return "encoder FFN GEMMs (fc1, fc2)"
            case .encoderGELU: return "encoder GELU"
            case .encoderNormResidual: return "encoder layer norms + residual"
            case .crossKeysValues: return "cross-attention K/V (once per request)"
            case .decoderEmbed: return "decoder embeddings + LN"
            case .decoderSelfProjections: return "decoder self Q/K/V/out (gemv/gemm)"
            case .decoderSelfAttention: return "decoder self-attention over KV cache"
            case .decoderCrossProjections: return "decoder cross Q/out (gemv/gemm)"
            case .decoderCrossAttention: return "decoder cross-attention (400 keys)"
            case .decoderFFN: return "decoder FFN (gemv/gemm)"
            case .decoderGELU: return "decoder GELU"
            case .decoderNormResidual: return "decoder layer norms + residual"
            case .outputProjection: return "output projection (50k vocab)"
            case .copyMixture: return "copy gate + mixture (copying models)"
            case .argmaxProcessors: return "logits processors + argmax"
            }
        }

        /// Whether the phase belongs to the encoder side (run once per request, before decoding).
        public var isEncoderSide: Bool { rawValue <= Phase.crossKeysValues.rawValue }
    }

    private let nanoseconds = Mutex([UInt64](repeating: 0, count: Phase.allCases.count))

    public init() {}

    /// Seconds accumulated in `phase`.
    public func seconds(_ phase: Phase) -> Double { nanoseconds.withLock { Double($0[phase.rawValue]) / 1e9 } }

    /// Sum over all phases.
    public var totalSeconds: Double { nanoseconds.withLock { Double($0.reduce(0, +)) / 1e9 } }

    public func reset() {
        nanoseconds.withLock { for i in $0.indices { $0[i] = 0 } }
    }

    /// Adds `ns` nanoseconds to `phase`.
    public func add(_ phase: Phase, _ ns: UInt64) { nanoseconds.withLock { $0[phase.rawValue] &+= ns } }

    /// Every phase's accumulated time now (for `scaleGrowth`).
    public func snapshot() -> [UInt64] { nanoseconds.withLock { $0 } }

    /// Scales what each phase gained since `snapshot` by `factor`: work timed on several threads at once
    /// counts as the wall time it took, not the sum of the threads' times.
    public func scaleGrowth(since snapshot: [UInt64], by factor: Double) {
        nanoseconds.withLock { values in
            for i in values.indices where i < snapshot.count && values[i] > snapshot[i] {
                values[i] = snapshot[i] + UInt64((Double(values[i] - snapshot[i]) * factor).rounded())
            }
        }
    }

    /// Monotonic clock in nanoseconds.
    @inline(__always)
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

extension BartModel {
    /// Runs `body`, charging its wall time to `phase` when profiling is on.
    @inline(__always)
    func timed<T>(_ phase: BartProfile.Phase, _ body: () throws -> T) rethrows -> T {
        guard let profile else { return try body() }
        let start = BartProfile.now()
        let result = try body()
        profile.add(phase, BartProfile.now() &- start)
        return result
    }
}
