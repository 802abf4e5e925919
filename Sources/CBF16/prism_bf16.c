#include "prism_bf16.h"

#include <ctype.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// oneDNN's cap on the instruction set (ONEDNN_MAX_CPU_ISA, or its older name DNNL_MAX_CPU_ISA) caps this
// file's too, so one setting plays an older CPU for both int8 and bf16: the kernel runs unless the cap names
// a set below AVX512_CORE_BF16.
static int isa_cap_allows_bf16(void) {
  const char *cap = getenv("ONEDNN_MAX_CPU_ISA");
  if (!cap) cap = getenv("DNNL_MAX_CPU_ISA");
  if (!cap || !*cap) return 1;
  char upper[64];
  size_t i = 0;
  for (; cap[i] && i + 1 < sizeof upper; i++) upper[i] = (char)toupper((unsigned char)cap[i]);
  upper[i] = 0;
  return strcmp(upper, "ALL") == 0 || strstr(upper, "BF16") || strstr(upper, "FP16") || strstr(upper, "AMX");
}

int prism_bf16_kernel(void) {
  static atomic_int kernel = -1;  // found once; a race only computes the same value twice
  int known = atomic_load_explicit(&kernel, memory_order_relaxed);
  if (known >= 0) return known;
  int found = 0;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      isa_cap_allows_bf16())
    found = 1;
#endif
  atomic_store_explicit(&kernel, found, memory_order_relaxed);
  return found;
}

// Branch-free so that the loop vectorizes; the same bits as `vcvtneps2bf16` except for denormal inputs,
// which that instruction flushes to zero and this keeps.
void prism_bf16_round(const float *x, long n, uint16_t *out) {
  for (long i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, x + i, 4);
    uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    uint32_t nan = (u >> 16) | 0x40u;
    out[i] = (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
  }
}

static inline float widen(uint16_t b) {
  uint32_t u = (uint32_t)b << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

// Input rows per chunk: a chunk (64 × in bf16: 96 KB at in = 768, 384 KB at 3072) stays in L2 while every
// weight block passes over it, and a block (4 rows: 6–24 KB) stays in L1 across the chunk's 16 groups.
#define PRISM_BF16_CHUNK 64
// As the int8 kernel: a block streamed once (≤ 4 input rows) prefetches this many bytes past its front;
// with more groups, the groups take turns prefetching the block PRISM_BF16_BLOCKS_AHEAD blocks ahead into L2.
#define PRISM_BF16_PREFETCH_AHEAD 3072
#define PRISM_BF16_BLOCKS_AHEAD 2

#define PRISM_ALWAYS_INLINE inline __attribute__((always_inline))

#if defined(__x86_64__)
#define PRISM_BF16_TARGET "avx512f,avx512bw,avx512vl,avx512bf16"

__attribute__((target(PRISM_BF16_TARGET))) static PRISM_ALWAYS_INLINE __m512i load32(const uint16_t *p, long left) {
  return left >= 32 ? _mm512_loadu_si512((const void *)p)
                    : _mm512_maskz_loadu_epi16((__mmask32)((1ULL << left) - 1), (const void *)p);
}

// Lane i of the result: the lane sum of a_i (two transposing adds, then the 128-bit quarters).
__attribute__((target(PRISM_BF16_TARGET))) static PRISM_ALWAYS_INLINE __m128 reduce4(__m512 a0, __m512 a1, __m512 a2,
                                                                                     __m512 a3) {
  __m512 s01 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1), _mm512_unpackhi_ps(a0, a1));
  __m512 s23 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3), _mm512_unpackhi_ps(a2, a3));
  __m512d lo = _mm512_unpacklo_pd(_mm512_castps_pd(s01), _mm512_castps_pd(s23));
  __m512d hi = _mm512_unpackhi_pd(_mm512_castps_pd(s01), _mm512_castps_pd(s23));
  __m512 v = _mm512_add_ps(_mm512_castpd_ps(lo), _mm512_castpd_ps(hi));
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// 4 weight rows × `nr` (1–4) input rows in 16 accumulators; sums[r] holds row r's 4 dot products.
__attribute__((target(PRISM_BF16_TARGET))) static PRISM_ALWAYS_INLINE void avx512_block(
    int nr, const uint16_t *x, long k, const uint16_t *w, long ahead, int phase, int groups, __m128 sums[4]) {
  __m512 acc[4][4];
  for (int i = 0; i < 4; i++)
    for (int r = 0; r < 4; r++) acc[i][r] = _mm512_setzero_ps();
  int turn = 0;
  for (long c = 0; c < k; c += 32) {
    long left = k - c;
    // 4 rows × 64 bytes consumed per step: the front moves 8·c bytes through the block's 8·k. Past the
    // matrix a prefetch never faults.
    if (groups == 1) {
      for (int i = 0; i < 4; i++) _mm_prefetch((const char *)w + PRISM_BF16_PREFETCH_AHEAD + 8 * c + 64 * i, _MM_HINT_T0);
    } else if (turn == phase) {
      for (int i = 0; i < 4; i++) _mm_prefetch((const char *)w + ahead + 8 * c + 64 * i, _MM_HINT_T1);
    }
    if (++turn == groups) turn = 0;
    __m512i b[4];
    for (int i = 0; i < 4; i++) b[i] = load32(w + i * k + c, left);
    for (int r = 0; r < nr; r++) {
      __m512i a = load32(x + r * k + c, left);
      for (int i = 0; i < 4; i++) acc[i][r] = _mm512_dpbf16_ps(acc[i][r], (__m512bh)a, (__m512bh)b[i]);
    }
  }
  for (int r = 0; r < nr; r++) sums[r] = reduce4(acc[0][r], acc[1][r], acc[2][r], acc[3][r]);
}

__attribute__((target(PRISM_BF16_TARGET))) static void avx512_linear(const uint16_t *x, long rows, long in,
                                                                     const uint16_t *w, const float *bias, long first,
                                                                     long last, float *y, long ldy) {
  __m128 sums[4];
  uint16_t *tail = NULL;
  for (long r0 = 0; r0 < rows; r0 += PRISM_BF16_CHUNK) {
    long chunk = rows - r0 < PRISM_BF16_CHUNK ? rows - r0 : PRISM_BF16_CHUNK;
    const int groups = (int)((chunk + 3) / 4);
    const long ahead = PRISM_BF16_BLOCKS_AHEAD * 4 * in * 2;
    for (long j = first; j < last; j += 4) {
      int nj = last - j < 4 ? (int)(last - j) : 4;
      const uint16_t *wj = w + j * in;
      if (nj < 4) {
        // The last, partial block repeats its last row (computed, not stored).
        if (!tail) {
          tail = __builtin_alloca((size_t)(4 * in * 2));
          for (int i = 0; i < 4; i++) memcpy(tail + i * in, wj + (i < nj ? i : nj - 1) * in, (size_t)(in * 2));
        }
        wj = tail;
      }
      float b4v[4] = {0, 0, 0, 0};
      for (int i = 0; i < nj; i++) b4v[i] = bias ? bias[j + i] : 0.0f;
      __m128 b4 = _mm_loadu_ps(b4v);
      for (long r = r0; r < r0 + chunk; r += 4) {
        int nr = r0 + chunk - r < 4 ? (int)(r0 + chunk - r) : 4;
        int phase = (int)((r - r0) / 4);
        const uint16_t *xr = x + r * in;
        switch (nr) {
        case 1: avx512_block(1, xr, in, wj, ahead, phase, groups, sums); break;
        case 2: avx512_block(2, xr, in, wj, ahead, phase, groups, sums); break;
        case 3: avx512_block(3, xr, in, wj, ahead, phase, groups, sums); break;
        default: avx512_block(4, xr, in, wj, ahead, phase, groups, sums); break;
        }
        for (int q = 0; q < nr; q++) {
          __m128 v = _mm_add_ps(sums[q], b4);
          if (nj == 4) {
            _mm_storeu_ps(y + (r + q) * ldy + j, v);
          } else {
            float cols[4];
            _mm_storeu_ps(cols, v);
            for (int i = 0; i < nj; i++) y[(r + q) * ldy + j + i] = cols[i];
          }
        }
      }
    }
  }
}
#endif

#if defined(__x86_64__)
// ---- Packed products: 8 rows × 32 columns per tile, no reductions -----------------------------------------
__attribute__((target(PRISM_BF16_TARGET))) static PRISM_ALWAYS_INLINE void packed_tile(
    int nr, const uint16_t *a, long lda, const uint32_t *b, long pairs, long n, long j, float *c, long ldc) {
  long left = n - j;
  __mmask16 m0 = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
  __mmask16 m1 = left >= 32 ? (__mmask16)0xffff : (left > 16 ? (__mmask16)((1u << (left - 16)) - 1) : 0);
  __m512 acc[8][2];
  for (int r = 0; r < 8; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (long p = 0; p < pairs; p++) {
    __m512i b0 = _mm512_maskz_loadu_epi32(m0, b + p * n + j);
    __m512i b1 = _mm512_maskz_loadu_epi32(m1, b + p * n + j + 16);
    for (int r = 0; r < nr; r++) {
      int32_t pair;
      memcpy(&pair, a + r * lda + 2 * p, 4);
      __m512i a2 = _mm512_set1_epi32(pair);
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], (__m512bh)a2, (__m512bh)b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], (__m512bh)a2, (__m512bh)b1);
    }
  }
  for (int r = 0; r < nr; r++) {
    _mm512_mask_storeu_ps(c + r * ldc + j, m0, acc[r][0]);
    if (m1) _mm512_mask_storeu_ps(c + r * ldc + j + 16, m1, acc[r][1]);
  }
}

__attribute__((target(PRISM_BF16_TARGET))) static void avx512_packed(const uint16_t *a, long m, long lda, const uint32_t *b,
                                                                     long pairs, long n, float *c, long ldc) {
  for (long j = 0; j < n; j += 32) {
    for (long i = 0; i < m; i += 8) {
      const uint16_t *ai = a + i * lda;
      float *ci = c + i * ldc;
      switch (m - i < 8 ? (int)(m - i) : 8) {
      case 1: packed_tile(1, ai, lda, b, pairs, n, j, ci, ldc); break;
      case 2: packed_tile(2, ai, lda, b, pairs, n, j, ci, ldc); break;
      case 3: packed_tile(3, ai, lda, b, pairs, n, j, ci, ldc); break;
      case 4: packed_tile(4, ai, lda, b, pairs, n, j, ci, ldc); break;
      case 5: packed_tile(5, ai, lda, b, pairs, n, j, ci, ldc); break;
      case 6: packed_tile(6, ai, lda, b, pairs, n, j, ci, ldc); break;
      case 7: packed_tile(7, ai, lda, b, pairs, n, j, ci, ldc); break;
      default: packed_tile(8, ai, lda, b, pairs, n, j, ci, ldc); break;
      }
    }
  }
}

#endif

// The same products in plain C (float32 sums of the widened values, in column order).
static void portable_linear(const uint16_t *x, long rows, long in, const uint16_t *w, const float *bias, long first,
                            long last, float *y, long ldy) {
  for (long r = 0; r < rows; r++) {
    const uint16_t *xr = x + r * in;
    for (long j = first; j < last; j++) {
      const uint16_t *wj = w + j * in;
      float s = 0;
      for (long c = 0; c < in; c++) s += widen(xr[c]) * widen(wj[c]);
      y[r * ldy + j] = s + (bias ? bias[j] : 0.0f);
    }
  }
}

void prism_bf16_linear(int kernel, const uint16_t *x, long rows, long in, const uint16_t *w, const float *bias,
                       long first, long last, float *y, long ldy) {
  if (rows <= 0 || first >= last) return;
#if defined(__x86_64__)
  if (kernel == 1 && prism_bf16_kernel() == 1) {
    avx512_linear(x, rows, in, w, bias, first, last, y, ldy);
    return;
  }
#endif
  portable_linear(x, rows, in, w, bias, first, last, y, ldy);
}

static void portable_packed(const uint16_t *a, long m, long lda, const uint32_t *b, long pairs, long n, float *c,
                            long ldc) {
  for (long i = 0; i < m; i++)
    for (long j = 0; j < n; j++) {
      float s = 0;
      for (long p = 0; p < pairs; p++) {
        uint32_t w = b[p * n + j];
        s += widen(a[i * lda + 2 * p]) * widen((uint16_t)(w & 0xffffu)) + widen(a[i * lda + 2 * p + 1]) * widen((uint16_t)(w >> 16));
      }
      c[i * ldc + j] = s;
    }
}

void prism_bf16_gemm_packed(int kernel, const uint16_t *a, long m, long lda, const uint32_t *b, long pairs, long n,
                            float *c, long ldc) {
  if (m <= 0 || n <= 0) return;
#if defined(__x86_64__)
  if (kernel == 1 && prism_bf16_kernel() == 1) {
    avx512_packed(a, m, lda, b, pairs, n, c, ldc);
    return;
  }
#endif
  portable_packed(a, m, lda, b, pairs, n, c, ldc);
}
