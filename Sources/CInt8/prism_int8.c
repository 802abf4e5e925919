#include "prism_int8.h"

#include <dnnl.h>
#include <math.h>
#include <string.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

// libgomp's thread-count controls (oneDNN is built with its OpenMP runtime). The count is a per-thread
// setting, so it is set on the calling (inference) thread before each GEMM when it differs.
extern void omp_set_num_threads(int);
extern int omp_get_max_threads(void);

static float row_max_abs(const float *x, long n) {
  long c = 0;
  float m = 0;
#if defined(__AVX2__)
  __m256 sign = _mm256_set1_ps(-0.0f), acc = _mm256_setzero_ps();
  for (; c + 8 <= n; c += 8) acc = _mm256_max_ps(acc, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + c)));
  float lanes[8];
  _mm256_storeu_ps(lanes, acc);
  for (int i = 0; i < 8; i++) m = lanes[i] > m ? lanes[i] : m;
#endif
  for (; c < n; c++) { float a = fabsf(x[c]); m = a > m ? a : m; }
  return m;
}

void prism_int8_quantize_rows(const float *x, long rows, long cols, long ldx, int8_t *q, float *scales) {
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * ldx;
    int8_t *qr = q + r * cols;
    float m = row_max_abs(xr, cols);
    float scale = m / 127.0f, inv = m > 0 ? 127.0f / m : 0.0f;
    scales[r] = scale;
    long c = 0;
#if defined(__AVX2__)
    __m256 vinv = _mm256_set1_ps(inv), hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
    for (; c + 8 <= cols; c += 8) {
      __m256 v = _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_mul_ps(_mm256_loadu_ps(xr + c), vinv)));
      // cvtps rounds to nearest even (the default MXCSR mode), like rintf below.
      __m256i i32 = _mm256_cvtps_epi32(v);
      __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
      _mm_storel_epi64((__m128i *)(qr + c), _mm_packs_epi16(i16, i16));
    }
#endif
    for (; c < cols; c++) {
      float v = xr[c] * inv;
      v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
      qr[c] = (int8_t)rintf(v);
    }
  }
}

void prism_int8_quantize_activations(const float *x, long rows, long cols, uint8_t *q, float *scales,
                                     int32_t *zeros) {
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    uint8_t *qr = q + r * cols;
    float lo = 0, hi = 0;
    long c = 0;
#if defined(__AVX2__)
    __m256 vlo = _mm256_setzero_ps(), vhi = _mm256_setzero_ps();
    for (; c + 8 <= cols; c += 8) {
      __m256 v = _mm256_loadu_ps(xr + c);
      vlo = _mm256_min_ps(vlo, v);
      vhi = _mm256_max_ps(vhi, v);
    }
    float l[8], h[8];
    _mm256_storeu_ps(l, vlo);
    _mm256_storeu_ps(h, vhi);
    for (int i = 0; i < 8; i++) { lo = l[i] < lo ? l[i] : lo; hi = h[i] > hi ? h[i] : hi; }
#endif
    for (; c < cols; c++) { lo = xr[c] < lo ? xr[c] : lo; hi = xr[c] > hi ? xr[c] : hi; }
    float scale = (hi - lo) / 255.0f, inv = scale > 0 ? 1.0f / scale : 0.0f;
    int zero = (int)rintf(-lo * inv);
    zero = zero < 0 ? 0 : (zero > 255 ? 255 : zero);
    scales[r] = scale;
    zeros[r] = zero;
    c = 0;
#if defined(__AVX2__)
    __m256 vinv = _mm256_set1_ps(inv);
    __m256i vzero = _mm256_set1_epi32(zero);
    for (; c + 8 <= cols; c += 8) {
      // cvtps rounds to nearest even; the packs saturate to 0…255 (what the clamp below does).
      __m256i i32 = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xr + c), vinv)), vzero);
      __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
      _mm_storel_epi64((__m128i *)(qr + c), _mm_packus_epi16(i16, i16));
    }
#endif
    for (; c < cols; c++) {
      int v = (int)rintf(xr[c] * inv) + zero;
      qr[c] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
  }
}

void prism_int8_row_sums(const int8_t *w, long rows, long cols, int32_t *sums) {
  for (long r = 0; r < rows; r++) {
    int32_t s = 0;
    for (long c = 0; c < cols; c++) s += w[r * cols + c];
    sums[r] = s;
  }
}

int prism_int8_linear(const float *x, long rows, long in, const int8_t *w, const float *wscales,
                      const int32_t *wsums, const float *bias, long out, float *y, uint8_t *qscratch,
                      float *rowscales, int32_t *rowzeros, int threads) {
  if (threads > 0 && omp_get_max_threads() != threads) omp_set_num_threads(threads);
  prism_int8_quantize_activations(x, rows, in, qscratch, rowscales, rowzeros);
  int32_t *acc = (int32_t *)(void *)y;
  const int32_t zero = 0;
  // The A offset is applied here (acc − zero[r] · Σ_c w[j, c]) rather than by oneDNN: with a non-zero `ao`
  // its one-row path runs 3–5× slower (768×768: 0.027 vs 0.006 ms; 50265×768: 3.9 vs 1.5 ms, 2 threads).
  dnnl_status_t status = dnnl_gemm_u8s8s32('N', 'T', 'F', rows, out, in, 1.0f, qscratch, in, 0, w, in, 0,
                                           0.0f, acc, out, &zero);
  if (status != dnnl_success) return (int)status;
  for (long r = 0; r < rows; r++) {
    float *yr = y + r * out;
    const float rs = rowscales[r];
    const int32_t zr = rowzeros[r];
    long j = 0;
#if defined(__AVX2__)
    __m256 vrs = _mm256_set1_ps(rs);
    __m256i vz = _mm256_set1_epi32(zr);
    for (; j + 8 <= out; j += 8) {
      // Loaded as integers and stored as floats through the intrinsics (which may alias), in place.
      __m256i raw = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(yr + j)),
                                     _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)(wsums + j)), vz));
      __m256 a = _mm256_cvtepi32_ps(raw);
      __m256 s = _mm256_mul_ps(vrs, _mm256_loadu_ps(wscales + j));
      __m256 b = bias ? _mm256_loadu_ps(bias + j) : _mm256_setzero_ps();
      _mm256_storeu_ps(yr + j, _mm256_fmadd_ps(a, s, b));
    }
#endif
    for (; j < out; j++) {
      int32_t a;
      memcpy(&a, yr + j, sizeof a);
      a -= zr * wsums[j];
      float v = fmaf((float)a, rs * wscales[j], bias ? bias[j] : 0.0f);
      memcpy(yr + j, &v, sizeof v);
    }
  }
  return 0;
}

int prism_int8_cpu_isa(void) { return (int)dnnl_get_effective_cpu_isa(); }

int prism_int8_has_vnni(void) {
  // The AVX-512 VNNI bit (in avx512_core_vnni, _bf16, _amx) or AVX-VNNI's.
  return (prism_int8_cpu_isa() & 0x440) != 0;
}

// ---- Decoder steps: a few rows against the whole weight, read once ------------------------------------
// oneDNN's GEMM pays a fork–join and its own setup per call; a decoder step makes ~50 such calls per token
// on 1–16 rows, so those rows go through this kernel instead: blocks of 4 weight rows × up to 4 input rows
// held in 16 VNNI accumulators while the weight block streams from memory once.

#define PRISM_ALWAYS_INLINE inline __attribute__((always_inline))

// A block's 4 weight rows are contiguous (4·k bytes), read as 4 streams at once; the hardware prefetcher
// follows such short interleaved streams poorly, so the kernel prefetches the bytes PRISM_PREFETCH_AHEAD
// past the block's consumption front, in memory order. One row of x against [n × 768] int8, one thread,
// streaming a pool larger than the caches (GB/s): 768×768 7.3 → 11.1–12.2, 3072×768 7.3 → 11.1–12.7,
// 50264×768 on 2 threads 13.4 → 16.0–18.7 (768 bytes ahead: less; 2,048: no better, noisier); reducing
// the 4 rows' accumulators together instead of one by one adds ~1 GB/s to the short rows.
#define PRISM_PREFETCH_AHEAD 1536
// With more than 4 rows the block is computed once per group of 4 rows, so it takes several times longer
// than its bytes take to arrive, and a prefetch half a block ahead came too late: the groups take turns
// (one chunk in `groups`) prefetching into L2 the block PRISM_PREFETCH_BLOCKS_AHEAD blocks ahead. 16 rows,
// GOP/s (scripts/bench/int8_rows_rate.c): 50264×768 on 2 threads 153–211 → 264–279, 3072×768 on 1 thread
// 109–144 → 160–185; 8 rows of 768×3072 94–112 → 196–216 (1, 4 or 8 blocks ahead: within the noise of 2).
#define PRISM_PREFETCH_BLOCKS_AHEAD 2

#define PRISM_BLOCK_KERNEL(NAME, TARGET, VEC, WIDTH, ZERO, MASKLOAD, DOT, REDUCE4)                         \
  __attribute__((target(TARGET))) static PRISM_ALWAYS_INLINE void NAME##_block(                             \
      int nr, const uint8_t *x, long k, const int8_t *w, long ahead, int phase, int groups,                   \
      __m128i sums[4]) {                                                                                     \
    VEC acc[4][4];                                                                                         \
    for (int i = 0; i < 4; i++)                                                                            \
      for (int r = 0; r < 4; r++) acc[i][r] = ZERO;                                                        \
    int turn = 0;                                                                                          \
    for (long c = 0; c < k; c += WIDTH) {                                                                  \
      long left = k - c;                                                                                   \
      VEC b[4], a;                                                                                         \
      /* Past the matrix a prefetch never faults. */                                                    \
      if (groups == 1) {                                                                                   \
        for (int i = 0; i < 4 * WIDTH / 64; i++)                                                           \
          _mm_prefetch((const char *)w + PRISM_PREFETCH_AHEAD + 4 * c + 64 * i, _MM_HINT_T0);              \
      } else if (turn == phase) {                                                                          \
        for (int i = 0; i < 4 * WIDTH / 64; i++)                                                           \
          _mm_prefetch((const char *)w + ahead + 4 * c + 64 * i, _MM_HINT_T1);                             \
      }                                                                                                    \
      if (++turn == groups) turn = 0;                                                                      \
      for (int i = 0; i < 4; i++) b[i] = MASKLOAD(w + i * k + c, left);                                    \
      for (int r = 0; r < nr; r++) {                                                                       \
        a = MASKLOAD((const int8_t *)(x + r * k + c), left);                                               \
        for (int i = 0; i < 4; i++) acc[i][r] = DOT(acc[i][r], a, b[i]);                                   \
      }                                                                                                    \
    }                                                                                                      \
    for (int r = 0; r < nr; r++) REDUCE4(acc[0][r], acc[1][r], acc[2][r], acc[3][r], sums, r);            \
  }

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw"))) static PRISM_ALWAYS_INLINE __m512i load512(const int8_t *p, long left) {
  return left >= 64 ? _mm512_loadu_si512((const void *)p)
                    : _mm512_maskz_loadu_epi8((__mmask64)((1ULL << left) - 1), (const void *)p);
}
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static PRISM_ALWAYS_INLINE __m512i dot512(__m512i acc, __m512i a,
                                                                                                 __m512i b) {
  return _mm512_dpbusd_epi32(acc, a, b);
}
// sums[r] lane i = the lane sum of a_i, for 4 accumulators at once (two transposing adds, then the halves).
__attribute__((target("avx512f"))) static PRISM_ALWAYS_INLINE void reduce4_512(__m512i a0, __m512i a1, __m512i a2,
                                                                              __m512i a3, __m128i sums[4], int r) {
  __m512i s01 = _mm512_add_epi32(_mm512_unpacklo_epi32(a0, a1), _mm512_unpackhi_epi32(a0, a1));
  __m512i s23 = _mm512_add_epi32(_mm512_unpacklo_epi32(a2, a3), _mm512_unpackhi_epi32(a2, a3));
  __m512i v = _mm512_add_epi32(_mm512_unpacklo_epi64(s01, s23), _mm512_unpackhi_epi64(s01, s23));
  __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  __m128i q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  sums[r] = q;
}
PRISM_BLOCK_KERNEL(avx512, "avx512f,avx512bw,avx512vnni", __m512i, 64, _mm512_setzero_si512(), load512, dot512, reduce4_512)

__attribute__((target("avx2"))) static PRISM_ALWAYS_INLINE __m256i load256(const int8_t *p, long left) {
  if (left >= 32) return _mm256_loadu_si256((const __m256i *)p);
  int8_t tail[32] = {0};
  memcpy(tail, p, (size_t)left);
  return _mm256_loadu_si256((const __m256i *)tail);
}
__attribute__((target("avx2,avxvnni"))) static PRISM_ALWAYS_INLINE __m256i dot256(__m256i acc, __m256i a, __m256i b) {
  return _mm256_dpbusd_avx_epi32(acc, a, b);
}
__attribute__((target("avx2"))) static PRISM_ALWAYS_INLINE void reduce4_256(__m256i a0, __m256i a1, __m256i a2,
                                                                            __m256i a3, __m128i sums[4], int r) {
  __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
  __m128i q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  sums[r] = q;
}
PRISM_BLOCK_KERNEL(avx2vnni, "avx2,avxvnni", __m256i, 32, _mm256_setzero_si256(), load256, dot256, reduce4_256)
#endif

int prism_int8_has_avx_vnni(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avxvnni");
#else
  return 0;
#endif
}

int prism_int8_small_kernel(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) return 2;
  if (__builtin_cpu_supports("avxvnni")) return 1;
#endif
  return 0;
}

#define PRISM_SMALL_LINEAR(NAME)                                                                            \
  __attribute__((target(NAME##_target))) static void NAME##_linear(                                        \
      const uint8_t *xq, const float *rowscales, const int32_t *rowzeros, long rows, long in,                \
      const int8_t *w, const float *wscales, const int32_t *wsums, const float *bias, long out, long first,  \
      long last, float *y) {                                                                                \
    __m128i sums[4];                                                                                       \
    int8_t *tail = NULL;                                                                                   \
    const int groups = (int)((rows + 3) / 4);                                                              \
    const long ahead = PRISM_PREFETCH_BLOCKS_AHEAD * 4 * in;                                               \
    for (long j = first; j < last; j += 4) {                                                               \
      int nj = last - j < 4 ? (int)(last - j) : 4;                                                         \
      /* Past the last weight row the block repeats it (computed, not stored). */                          \
      const int8_t *wj = w + j * in;                                                                       \
      for (long r = 0; r < rows; r += 4) {                                                                 \
        int nr = rows - r < 4 ? (int)(rows - r) : 4;                                                       \
        int phase = (int)(r / 4);                                                                          \
        if (nj == 4) {                                                                                     \
          switch (nr) {                                                                                    \
          case 1: NAME##_block(1, xq + r * in, in, wj, ahead, phase, groups, sums); break;                                       \
          case 2: NAME##_block(2, xq + r * in, in, wj, ahead, phase, groups, sums); break;                                       \
          case 3: NAME##_block(3, xq + r * in, in, wj, ahead, phase, groups, sums); break;                                       \
          default: NAME##_block(4, xq + r * in, in, wj, ahead, phase, groups, sums); break;                                      \
          }                                                                                                \
        } else {                                                                                           \
          if (!tail) { /* the last, partial block: once per call */                                       \
            tail = __builtin_alloca((size_t)(4 * in));                                                     \
            for (int i = 0; i < 4; i++) memcpy(tail + i * in, wj + (i < nj ? i : nj - 1) * in, (size_t)in); \
          }                                                                                                \
          NAME##_block(nr, xq + r * in, in, tail, ahead, phase, groups, sums);                                                   \
        }                                                                                                  \
        /* (sum − zero · Σw) · (rowScale · channelScale) + bias for 4 columns of each row at once: the      \
           scalar formula's operations in its order (the same bits, checked on 144 shapes against the      \
           scalar epilogue). 16 rows, GOP/s: 256×768 from L2 204–211 → 293–333; 50264×768 streamed on 2    \
           threads 254–270 → 295–369; 3072×768 168–180 → 224–239; one row unchanged (memory-bound). */    \
        float cols4[4][4];                                                                                 \
        const int full = nj == 4;                                                                          \
        __m128i ws4 = full ? _mm_loadu_si128((const __m128i *)(wsums + j)) : _mm_setzero_si128();          \
        __m128 sc4 = full ? _mm_loadu_ps(wscales + j) : _mm_setzero_ps();                                  \
        __m128 b4 = full && bias ? _mm_loadu_ps(bias + j) : _mm_setzero_ps();                              \
        if (!full) {                                                                                       \
          int32_t wsv[4] = {0, 0, 0, 0};                                                                   \
          float scv[4] = {0, 0, 0, 0}, bv[4] = {0, 0, 0, 0};                                               \
          for (int i = 0; i < nj; i++) {                                                                   \
            wsv[i] = wsums[j + i];                                                                         \
            scv[i] = wscales[j + i];                                                                       \
            bv[i] = bias ? bias[j + i] : 0.0f;                                                             \
          }                                                                                                \
          ws4 = _mm_loadu_si128((const __m128i *)wsv);                                                     \
          sc4 = _mm_loadu_ps(scv);                                                                         \
          b4 = _mm_loadu_ps(bv);                                                                           \
        }                                                                                                  \
        for (int q = 0; q < nr; q++) {                                                                     \
          __m128i a = _mm_sub_epi32(sums[q], _mm_mullo_epi32(_mm_set1_epi32(rowzeros[r + q]), ws4));       \
          __m128 v = _mm_mul_ps(_mm_cvtepi32_ps(a), _mm_mul_ps(_mm_set1_ps(rowscales[r + q]), sc4));       \
          v = _mm_add_ps(v, b4);                                                                           \
          if (full) _mm_storeu_ps(y + (r + q) * out + j, v);                                               \
          else _mm_storeu_ps(cols4[q], v);                                                                 \
        }                                                                                                  \
        if (!full)                                                                                         \
          for (int q = 0; q < nr; q++)                                                                     \
            for (int i = 0; i < nj; i++) y[(r + q) * out + j + i] = cols4[q][i];                           \
      }                                                                                                    \
    }                                                                                                      \
  }

#if defined(__x86_64__)
#define avx512_target "avx512f,avx512bw,avx512vnni"
#define avx2vnni_target "avx2,avxvnni"
PRISM_SMALL_LINEAR(avx512)
PRISM_SMALL_LINEAR(avx2vnni)
#endif

int prism_int8_small_linear(int kernel, const uint8_t *xq, const float *rowscales, const int32_t *rowzeros, long rows,
                            long in, const int8_t *w, const float *wscales, const int32_t *wsums, const float *bias,
                            long out, long first, long last, float *y) {
#if defined(__x86_64__)
  if (kernel == 2) { avx512_linear(xq, rowscales, rowzeros, rows, in, w, wscales, wsums, bias, out, first, last, y); return 0; }
  if (kernel == 1) { avx2vnni_linear(xq, rowscales, rowzeros, rows, in, w, wscales, wsums, bias, out, first, last, y); return 0; }
#endif
  return -1;
}
