#ifndef PRISM_HALF_H
#define PRISM_HALF_H

#include <stdint.h>

// IEEE 754 binary16 storage for float32 data that is written once and read many times (the decoder's
// cross-attention keys and values): half the bytes per read, about 3 decimal digits kept.

/// out[i] = x[i] rounded to the nearest binary16 (ties to even), clamped to ±65504 (infinities too), so that
/// nothing stored is infinite. NaN stays NaN.
void prism_half_from_float(const float *x, long n, uint16_t *out);

/// out[i] = x[i] exactly (every binary16 value is a float32 value).
void prism_half_to_float(const uint16_t *x, long n, float *out);

/// Attention scores of one query row against keys stored position-major with the heads side by side
/// (`keys[j · heads · head_dim + h · head_dim + d]`): scores[h · length + j] = scale · q_h · k_{j,h}.
/// The key rows are read once, front to back, for all heads.
void prism_half_scores(const float *q, const uint16_t *keys, long length, long heads, long head_dim, float scale,
                       float *scores);

/// The attention output of one query row: out[h · head_dim + d] = Σ_j p[h · length + j] · v_{j,h,d}, values
/// laid out as the keys above and read once, front to back. Positions with p = 0 are skipped.
void prism_half_weighted_sum(const float *p, const uint16_t *values, long length, long heads, long head_dim,
                             float *out);

#endif
