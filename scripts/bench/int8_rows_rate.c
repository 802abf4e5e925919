// How fast Prism's few-row int8 kernel (prism_int8_small_linear, 1-16 rows of activations) streams its
// weights: a pool of matrices larger than the caches, so every call reads from memory as a decoder step does.
//
//   gcc -O3 -mavx2 -mfma -I Sources/CInt8/include -o /tmp/int8_rows_rate scripts/bench/int8_rows_rate.c \
//       Sources/CInt8/prism_int8.c -ldnnl -lgomp -lpthread -lm
//   for s in "768 768" "3072 768" "768 3072"; do /tmp/int8_rows_rate $s 1; done; /tmp/int8_rows_rate 50264 768 2
//
// Arguments: n (output rows), k (inputs), threads (the columns split in contiguous shares, one pthread each;
// thread start-up is inside the timing, so use 2 threads only on large shapes), and optionally rows of
// activations (default 1; a batch-16 decoder step: 16). Prints the best of 5 repetitions in µs, GB/s of
// weights and GOP/s (2 · rows · n · k).
#include "prism_int8.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

typedef struct { const uint8_t *x; long k, n, first, last; const int8_t *w; const float *ws; const int32_t *sums; float *y; } share;
static float rowscale[16] = {0.01f, 0.01f, 0.01f, 0.01f, 0.01f, 0.01f, 0.01f, 0.01f,
                             0.01f, 0.01f, 0.01f, 0.01f, 0.01f, 0.01f, 0.01f, 0.01f};
static int32_t rowzero[16] = {3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3};
static long rows = 1;

static void *run(void *p) {
  share *s = p;
  prism_int8_small_linear(prism_int8_small_kernel(), s->x, rowscale, rowzero, rows, s->k, s->w, s->ws, s->sums, NULL,
                          s->n, s->first, s->last, s->y);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s n k threads [rows]\n", argv[0]); return 2; }
  long n = atol(argv[1]), k = atol(argv[2]);
  int threads = atoi(argv[3]);
  rows = argc > 4 ? atol(argv[4]) : 1;
  if (n <= 0 || k <= 0 || threads < 1 || threads > 8 || rows < 1 || rows > 16 || prism_int8_small_kernel() == 0) {
    fprintf(stderr, "need n, k > 0, 1-8 threads, 1-16 rows and a VNNI CPU\n");
    return 2;
  }
  long pool = (64L << 20) / (n * k);
  if (pool < 2) pool = 2;
  int8_t **w = malloc(pool * sizeof *w);
  float *ws = malloc(n * sizeof *ws), *y = malloc(rows * n * sizeof *y);
  int32_t *sums = calloc(n, sizeof *sums);
  uint8_t *x = malloc(rows * k);
  for (long p = 0; p < pool; p++) {
    w[p] = malloc(n * k);
    for (long i = 0; i < n * k; i++) w[p][i] = (int8_t)(rand() % 255 - 127);
  }
  for (long i = 0; i < n; i++) ws[i] = 1e-3f;
  for (long i = 0; i < rows * k; i++) x[i] = (uint8_t)(rand() % 256);
  long reps = 2000000000L / (n * k);
  if (reps < 20) reps = 20;
  double best = 1e9;
  long blocks = (n + 3) / 4;
  for (int trial = 0; trial < 5; trial++) {
    double start = now();
    for (long r = 0; r < reps; r++) {
      share s[8];
      pthread_t t[8];
      for (int i = 0; i < threads; i++) {
        long first = blocks * i / threads * 4, last = blocks * (i + 1) / threads * 4;
        s[i] = (share){x, k, n, first, last < n ? last : n, w[r % pool], ws, sums, y};
      }
      if (threads == 1) run(&s[0]);
      else {
        for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, run, &s[i]);
        for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
      }
    }
    double per = (now() - start) / reps;
    if (per < best) best = per;
  }
  printf("n=%ld k=%ld threads=%d rows=%ld: %.1f us, %.1f GB/s, %.0f GOP/s\n", n, k, threads, rows, best * 1e6,
         n * k / best / 1e9, 2.0 * rows * n * k / best / 1e9);
  return 0;
}
