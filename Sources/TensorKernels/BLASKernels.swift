import COpenBLAS

/// Which kernels OpenBLAS runs, and when to make it run better ones.
///
/// OpenBLAS (Debian's DYNAMIC_ARCH build) picks its kernels once, when the library loads, from the CPU's
/// model. Under a model it does not know — virtual machines that report "Intel(R) Xeon(R) Processor" —
/// it falls back to its oldest x86-64 kernels ("Prescott", SSE3), even on a CPU with AVX-512. Measured on
/// such a 2-core VM with AVX-512 (2 threads): a 400×3072×768 sgemm ran at 38–60 GFLOP/s as Prescott and
/// 280 GFLOP/s as SkylakeX; BART-base greedy, 400 tokens in and 40 out, took 1.70 s against 0.88 s at
/// batch 1 and 15.1 s against 5.6 s at batch 16. The choice can only be changed before the library
/// loads (`OPENBLAS_CORETYPE`), so `prism` starts itself again with it when `betterCore` names one.
public enum BLASKernels {
    /// The kernel family OpenBLAS chose ("Prescott", "Haswell", "SkylakeX", "Zen", …).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's kernel families that use AVX2 and FMA (and the AVX-512 ones).
    static let avx2Cores: Set<String> = ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"]
    static let avx512Flags: Set<String> = ["avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"]

    /// The `OPENBLAS_CORETYPE` to load OpenBLAS with when it chose kernels older than the CPU's flags allow
    /// (`flags` as `/proc/cpuinfo` lists them): "SkylakeX" with AVX-512, else "Haswell" with AVX2 and
    /// FMA. nil when its choice already uses AVX2 (a known CPU: its own choice stands) or the CPU has
    /// neither.
    public static func betterCore(than core: String, flags: Set<String>) -> String? {
        guard !avx2Cores.contains(core.lowercased()) else { return nil }
        if avx512Flags.isSubset(of: flags) { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }
}
