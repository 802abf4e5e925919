#include "prism_half.h"

#include <math.h>
#include <string.h>

#if defined(__F16C__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define PRISM_HALF_SIMD 1
#endif

// ---- Scalar conversions (builds without F16C, and the tails) ------------------------------------------

static uint16_t half_from_float(float value) {
  if (value != value) return 0x7e00;  // NaN
  if (value > 65504.0f) value = 65504.0f;
  if (value < -65504.0f) value = -65504.0f;
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  const uint16_t sign = (uint16_t)((bits >> 16) & 0x8000);
  bits &= 0x7fffffff;
  if (bits < 0x38800000) {
    // Below the smallest normal half (2^-14): a subnormal half, value / 2^-24 rounded to nearest even.
    float magnitude;
    memcpy(&magnitude, &bits, sizeof magnitude);
    const float scaled = magnitude * 16777216.0f;  // exact: a power of two
    return (uint16_t)(sign | (uint16_t)nearbyintf(scaled));
  }
  // Normal: rebias the exponent (127 → 15) and round the 23-bit mantissa to 10 bits, ties to even; a carry
  // out of the mantissa correctly bumps the exponent (65504 is the largest value reaching here).
  const uint32_t rounded = bits + 0x0fff + ((bits >> 13) & 1);
  return (uint16_t)(sign | ((rounded - 0x38000000) >> 13));
}

static float half_to_float(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1f;
  const uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    const float magnitude = (float)mantissa / 16777216.0f;  // subnormal (or zero): mantissa · 2^-24
    memcpy(&bits, &magnitude, sizeof bits);
    bits |= sign;
  } else if (exponent == 31) {
    bits = sign | 0x7f800000 | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  }
  float out;
  memcpy(&out, &bits, sizeof out);
  return out;
}

void prism_half_from_float(const float *x, long n, uint16_t *out) {
  long i = 0;
#ifdef PRISM_HALF_SIMD
  const __m256 high = _mm256_set1_ps(65504.0f), low = _mm256_set1_ps(-65504.0f);
  for (; i + 8 <= n; i += 8) {
    // min/max return their second operand for NaN lanes: the NaN passes through.
    __m256 v = _mm256_min_ps(high, _mm256_max_ps(low, _mm256_loadu_ps(x + i)));
    _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
#endif
  for (; i < n; i++) out[i] = half_from_float(x[i]);
}

void prism_half_to_float(const uint16_t *x, long n, float *out) {
  long i = 0;
#ifdef PRISM_HALF_SIMD
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
#endif
  for (; i < n; i++) out[i] = half_to_float(x[i]);
}

// ---- Cross-attention over float16 keys and values ----------------------------------------------------

void prism_half_scores(const float *q, const uint16_t *keys, long length, long heads, long head_dim, float scale,
                       float *scores) {
  const long ld = heads * head_dim;
  for (long j = 0; j < length; j++) {
    const uint16_t *row = keys + j * ld;
    for (long h = 0; h < heads; h++) {
      const float *qh = q + h * head_dim;
      const uint16_t *kh = row + h * head_dim;
      long d = 0;
      float sum = 0;
#ifdef PRISM_HALF_SIMD
      // Two accumulators: one chain of dependent adds would bound the loop.
      __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
      for (; d + 16 <= head_dim; d += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qh + d), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(kh + d))), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(qh + d + 8),
                             _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(kh + d + 8))), a1);
      }
      for (; d + 8 <= head_dim; d += 8)
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qh + d), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(kh + d))), a0);
      __m256 a = _mm256_add_ps(a0, a1);
      __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
      s = _mm_add_ps(s, _mm_movehl_ps(s, s));
      s = _mm_add_ss(s, _mm_movehdup_ps(s));
      sum = _mm_cvtss_f32(s);
#endif
      for (; d < head_dim; d++) sum += qh[d] * half_to_float(kh[d]);
      scores[h * length + j] = sum * scale;
    }
  }
}

void prism_half_weighted_sum(const float *p, const uint16_t *values, long length, long heads, long head_dim,
                             float *out) {
  const long ld = heads * head_dim;
  memset(out, 0, (size_t)ld * sizeof *out);
  for (long j = 0; j < length; j++) {
    const uint16_t *row = values + j * ld;
    for (long h = 0; h < heads; h++) {
      const float w = p[h * length + j];
      if (w == 0) continue;
      const uint16_t *vh = row + h * head_dim;
      float *oh = out + h * head_dim;
      long d = 0;
#ifdef PRISM_HALF_SIMD
      const __m256 w8 = _mm256_set1_ps(w);
      for (; d + 8 <= head_dim; d += 8)
        _mm256_storeu_ps(oh + d, _mm256_fmadd_ps(w8, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(vh + d))),
                                                 _mm256_loadu_ps(oh + d)));
#endif
      for (; d < head_dim; d++) oh[d] += w * half_to_float(vh[d]);
    }
  }
}
