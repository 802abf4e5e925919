#include "prism_bf16.h"

#include <math.h>
#include <stdatomic.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// The vector math around the bf16 products: softmax (with the probabilities rounded to bf16 for P · V) and
// exact GELU, 16 lanes at a time on AVX-512 CPUs.

#define PRISM_ALWAYS_INLINE inline __attribute__((always_inline))

#if defined(__x86_64__)
#define PRISM_BF16_TARGET "avx512f,avx512bw,avx512vl,avx512bf16"

// e^x on 16 lanes: x·log2(e) split into an integer n and r = x − n·ln 2 (in two parts), a degree-5
// polynomial for e^r, then scaled by 2^n (`vscalefps`); below −87.3 the result is 0 (so −∞ gives 0).
__attribute__((target("avx512f"))) static PRISM_ALWAYS_INLINE __m512 exp16(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-87.3f);
  __mmask16 zero = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
  __m512 xc = _mm512_min_ps(_mm512_max_ps(x, lo), _mm512_set1_ps(88.7f));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), xc);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  __m512 e = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
  return _mm512_maskz_mov_ps((__mmask16)~zero, _mm512_scalef_ps(e, n));
}

// bf16 bits of 16 finite floats (round to nearest even), narrowed to 16 bits.
__attribute__((target(PRISM_BF16_TARGET))) static PRISM_ALWAYS_INLINE __m256i round16(__m512 v) {
  __m512i u = _mm512_castps_si512(v);
  __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)), odd), 16);
  return _mm512_cvtepi32_epi16(rounded);
}

__attribute__((target(PRISM_BF16_TARGET))) static void avx512_softmax(float *x, long n, uint16_t *out) {
  __m512 mv = _mm512_set1_ps(-INFINITY);
  long i = 0;
  for (; i + 16 <= n; i += 16) mv = _mm512_max_ps(mv, _mm512_loadu_ps(x + i));
  __mmask16 tail = (__mmask16)((1u << (n - i)) - 1);
  if (tail) mv = _mm512_max_ps(mv, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail, x + i));
  float m = _mm512_reduce_max_ps(mv);
  if (m == -INFINITY) {
    float u = 1.0f / (float)n;
    for (long k = 0; k < n; k++) x[k] = u;
    prism_bf16_round(x, n, out);
    return;
  }
  __m512 vm = _mm512_set1_ps(m), sum = _mm512_setzero_ps();
  for (i = 0; i + 16 <= n; i += 16) {
    __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm));
    _mm512_storeu_ps(x + i, e);
    sum = _mm512_add_ps(sum, e);
  }
  if (tail) {
    __m512 e = exp16(_mm512_sub_ps(_mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail, x + i), vm));
    _mm512_mask_storeu_ps(x + i, tail, e);
    sum = _mm512_add_ps(sum, e);
  }
  __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
  for (i = 0; i + 16 <= n; i += 16) {
    __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + i), inv);
    _mm512_storeu_ps(x + i, v);
    _mm256_storeu_si256((__m256i *)(out + i), round16(v));
  }
  if (tail) {
    __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + i), inv);
    _mm512_mask_storeu_ps(x + i, tail, v);
    _mm256_mask_storeu_epi16(out + i, tail, round16(v));
  }
}

// Exact GELU, 0.5·x·(1 + erf(x/√2)), with erf from Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), the
// formula of `VectorMath.erf`, 16 lanes at a time; the tail goes through the same vector (masked), so an
// element's result never depends on its position.
__attribute__((target("avx512f"))) static PRISM_ALWAYS_INLINE __m512 gelu16(__m512 v) {
  const __m512 one = _mm512_set1_ps(1.0f);
  __m512 x = _mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752f));
  __m512 a = _mm512_abs_ps(x);
  __m512 t = _mm512_div_ps(one, _mm512_fmadd_ps(_mm512_set1_ps(0.3275911f), a, one));
  __m512 p = _mm512_set1_ps(1.061405429f);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
  __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(a, a)));
  __m512 y = _mm512_fnmadd_ps(_mm512_mul_ps(p, t), e, one);
  __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  y = _mm512_mask_sub_ps(y, negative, _mm512_setzero_ps(), y);
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), _mm512_add_ps(one, y));
}

__attribute__((target("avx512f"))) static void avx512_gelu(float *x, long n) {
  long i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, gelu16(_mm512_loadu_ps(x + i)));
  if (i < n) {
    __mmask16 tail = (__mmask16)((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(x + i, tail, gelu16(_mm512_maskz_loadu_ps(tail, x + i)));
  }
}
#endif

void prism_bf16_softmax(float *x, long n, uint16_t *out) {
  if (n <= 0) return;
#if defined(__x86_64__)
  if (prism_bf16_kernel() == 1) {
    avx512_softmax(x, n, out);
    return;
  }
#endif
  float m = -INFINITY;
  for (long i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
  if (m == -INFINITY) {
    for (long i = 0; i < n; i++) x[i] = 1.0f / (float)n;
  } else {
    float sum = 0;
    for (long i = 0; i < n; i++) { x[i] = expf(x[i] - m); sum += x[i]; }
    float inv = 1.0f / sum;
    for (long i = 0; i < n; i++) x[i] *= inv;
  }
  prism_bf16_round(x, n, out);
}

int prism_gelu(float *x, long n) {
#if defined(__x86_64__)
  static atomic_int available = -1;
  int known = atomic_load_explicit(&available, memory_order_relaxed);
  if (known < 0) {
    __builtin_cpu_init();
    known = __builtin_cpu_supports("avx512f") ? 1 : 0;
    atomic_store_explicit(&available, known, memory_order_relaxed);
  }
  if (known) {
    if (n > 0) avx512_gelu(x, n);
    return 1;
  }
#endif
  (void)x;
  (void)n;
  return 0;
}
