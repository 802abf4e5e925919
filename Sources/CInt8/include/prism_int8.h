#ifndef PRISM_INT8_H
#define PRISM_INT8_H
// int8 linear layers over oneDNN (Debian libdnnl-dev 2.6): symmetric per-row quantization, the
// u8s8s32 GEMM, and the float32 result. Kept in C for the AVX2 conversions Swift's SIMD types lower poorly.
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Quantizes each of `rows` rows of `x` (row stride `ldx`; weights, token tables) symmetrically:
/// `scale[r] = max|x[r, :]| / 127`, `q[r, c] = round_half_even(x[r, c] / scale[r])` clamped to ±127
/// (0 for an all-zero row, whose scale is 0). `q` has row stride `cols`.
void prism_int8_quantize_rows(const float *x, long rows, long cols, long ldx, int8_t *q, float *scales);

/// Quantizes activations per row, asymmetrically into unsigned bytes: over `[lo, hi]` = the row's range
/// widened to include 0, `scale[r] = (hi − lo) / 255`, `zero[r] = round(−lo / scale)`,
/// `q = clamp(round_half_even(x / scale) + zero, 0, 255)`, so `x ≈ (q − zero) · scale` (an all-zero row has
/// scale 0 and zero 0). Twice the resolution of the symmetric form on one-sided rows (after GELU).
void prism_int8_quantize_activations(const float *x, long rows, long cols, uint8_t *q, float *scales,
                                     int32_t *zeros);

/// `sums[r] = Σ_c w[r, c]` for an int8 `[rows × cols]` matrix (the offset correction of `prism_int8_linear`).
void prism_int8_row_sums(const int8_t *w, long rows, long cols, int32_t *sums);

/// `y[rows × out] = x[rows × in] · Wᵀ + bias` with `W` held as int8 `[out × in]` with per-row `wscales`
/// and `wsums` (`prism_int8_row_sums`): `x` is quantized by `prism_int8_quantize_activations` into
/// `qscratch` (`rows × in` bytes), `rowscales` and `rowzeros` (`rows` each); oneDNN's `dnnl_gemm_u8s8s32`
/// multiplies into `y` (as int32) on `threads` OpenMP threads; then, in place,
/// `y[r, j] = (acc[r, j] − zero[r] · wsums[j]) · rowscale[r] · wscale[j] + bias[j]`. `bias` may be NULL.
/// Returns 0, or oneDNN's status on failure.
int prism_int8_linear(const float *x, long rows, long in, const int8_t *w, const float *wscales,
                      const int32_t *wsums, const float *bias, long out, float *y, uint8_t *qscratch,
                      float *rowscales, int32_t *rowzeros, int threads);

/// Which of this file's own few-row kernels the CPU runs: 2 AVX-512 VNNI, 1 AVX-VNNI, 0 none.
int prism_int8_small_kernel(void);

/// Whether the CPU has AVX-VNNI (the 256-bit kernel, also on CPUs that prefer the AVX-512 one).
int prism_int8_has_avx_vnni(void);

/// Output columns `[first, last)` of the same product as `prism_int8_linear` for `rows` (a decoder step's
/// 1–16) rows already quantized by `prism_int8_quantize_activations` into `xq`, `rowscales`, `rowzeros`,
/// written as floats into `y` (`rows × out`). Each weight row is read once. `first` must be a multiple of 4
/// unless it is 0; parts with disjoint ranges may run at once. `kernel` from `prism_int8_small_kernel`;
/// returns -1 (and writes nothing) when it names no kernel.
int prism_int8_small_linear(int kernel, const uint8_t *xq, const float *rowscales, const int32_t *rowzeros, long rows,
                            long in, const int8_t *w, const float *wscales, const int32_t *wsums, const float *bias,
                            long out, long first, long last, float *y);

/// oneDNN's effective CPU instruction set (`dnnl_cpu_isa_t`), e.g. 0x67 AVX-512 VNNI, 0x407 AVX-VNNI.
int prism_int8_cpu_isa(void);

/// Whether that instruction set has VNNI dot products, without which oneDNN's u8 × s8 products can
/// saturate 16-bit intermediates: int8 is then not offered.
int prism_int8_has_vnni(void);

#ifdef __cplusplus
}
#endif
#endif
