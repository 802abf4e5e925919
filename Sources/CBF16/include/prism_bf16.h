#ifndef PRISM_BF16_H
#define PRISM_BF16_H
// bfloat16 linear layers: weights held as bf16 `[out × in]`, activations rounded to bf16 at each product,
// float32 accumulation. On CPUs with AVX512-BF16 the products are `vdpbf16ps` (32 multiply–adds per
// instruction, twice float32 FMA's rate, half its bytes); elsewhere a portable loop computes the same sums
// in another order. Kept in C for the intrinsics Swift cannot express.
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU runs the AVX512-BF16 kernel, 0 when only the portable one (also when
/// `ONEDNN_MAX_CPU_ISA` caps the instruction set below AVX512_CORE_BF16, as it caps oneDNN's).
int prism_bf16_kernel(void);

/// `out[i] = bf16(x[i])`: round to nearest, ties to even (NaN stays a quiet NaN).
void prism_bf16_round(const float *x, long n, uint16_t *out);

/// `y[r, j] = Σ_c x[r, c] · w[j, c] + bias[j]` for every row `r < rows` and output column `first ≤ j < last`,
/// with `x` (`rows × in`) and `w` (`out × in`) as bf16 bits and `y` float32 with row stride `ldy` (≥ `last`);
/// `bias` may be NULL. Each block of 4 weight rows is read once per chunk of 64 input rows (once in all for a decoder
/// step's 1–16). Parts with disjoint column ranges may run at once. `kernel` from `prism_bf16_kernel` (a
/// kernel this CPU lacks runs the portable loop).
void prism_bf16_linear(int kernel, const uint16_t *x, long rows, long in, const uint16_t *w, const float *bias,
                       long first, long last, float *y, long ldy);

/// `c[i, j] = Σ_p a[i, 2p] · b[p, j].lo + a[i, 2p + 1] · b[p, j].hi` for `i < m`, `j < n`: `a` bf16 rows of
/// `2 · pairs` values (row stride `lda`), `b` packed as `[pairs × n]` 32-bit words, each the bf16 pair
/// (element 2p in the low half, 2p + 1 in the high), `c` float32 with row stride `ldc`. The layout of a
/// product whose right side is not rows against rows (P · V), or whose inner dimension is too short for
/// `prism_bf16_linear`'s per-output reductions (Q · Kᵀ over a 64-wide head): tiles of 8 rows × 32 columns
/// accumulate with no reduction at all.
void prism_bf16_gemm_packed(int kernel, const uint16_t *a, long m, long lda, const uint32_t *b, long pairs, long n,
                            float *c, long ldc);

/// In-place softmax of `n` floats (−∞ entries get 0; an all −∞ row becomes uniform), each probability
/// also written rounded to bf16 into `out`.
void prism_bf16_softmax(float *x, long n, uint16_t *out);

/// Exact GELU in place on AVX-512 CPUs (erf as `VectorMath.erf`: Abramowitz–Stegun 7.1.26), 16 lanes at a
/// time; returns 1, or 0 without touching `x` on a CPU without AVX-512 (the caller's 8-lane loop then runs).
int prism_gelu(float *x, long n);

#ifdef __cplusplus
}
#endif
#endif
