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

/// 1 when this CPU runs the AVX512-BF16 kernel, 0 when only the portable one.
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

#ifdef __cplusplus
}
#endif
#endif
