// GEMM rates on BART-base's shapes (C = A · Wᵀ, W [out, in]): OpenBLAS sgemm, oneDNN sgemm and oneDNN
// u8s8s32, one engine per process (interleaved, the idle workers of one library spin against the other's).
//
//   apt-get install libdnnl-dev    # oneDNN 2.6
//   gcc -O2 -o /tmp/gemm_peaks scripts/bench/gemm_peaks.c -lopenblas -ldnnl
//   for e in 0 1 2; do OMP_NUM_THREADS=2 /tmp/gemm_peaks $e; done     # 0 OpenBLAS, 1 dnnl fp32, 2 dnnl int8
//
// Shapes: the encoder's projections and FFN at 400 tokens; decoder steps of 1 and 16 rows; the 50k-vocab
// output projection. Prints the median of 9 runs (15 for one row) in ms and GOP/s.
#include <cblas.h>
#include <dnnl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
extern void openblas_set_num_threads(int);
int main(int argc, char **argv) {
  int engine = argc > 1 ? atoi(argv[1]) : 0;
  openblas_set_num_threads(engine == 0 ? 2 : 1);
  int shapes[][3] = {{400, 3072, 768}, {400, 768, 3072}, {400, 768, 768}, {1, 768, 768}, {1, 3072, 768}, {16, 3072, 768},
                     {1, 50265, 768}, {16, 50265, 768}};
  for (int s = 0; s < 8; s++) {
    int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
    float *A = malloc(sizeof(float) * M * K), *W = malloc(sizeof(float) * N * K), *C = malloc(sizeof(float) * M * N);
    uint8_t *Aq = malloc(M * K); int8_t *Wq = malloc((size_t)N * K); int32_t *Ci = malloc(sizeof(int32_t) * M * N);
    for (long i = 0; i < (long)M * K; i++) { A[i] = (rand() % 200 - 100) / 100.f; Aq[i] = rand() % 256; }
    for (long i = 0; i < (long)N * K; i++) { W[i] = (rand() % 200 - 100) / 100.f; Wq[i] = rand() % 255 - 127; }
    int32_t co = 0;
    double flop = 2.0 * M * N * K, t[3][15];
    int reps = M == 1 ? 15 : 9;
    for (int r = 0; r < reps; r++) {
      double t0 = now();
      if (engine == 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, A, K, W, K, 0, C, N);
      else if (engine == 1) dnnl_sgemm('N', 'T', M, N, K, 1, A, K, W, K, 0, C, N);
      else dnnl_gemm_u8s8s32('N', 'T', 'F', M, N, K, 1, Aq, K, 0, Wq, K, 0, 0, Ci, N, &co);
      t[engine][r] = now() - t0;
    }
    printf("M=%5d N=%5d K=%4d", M, N, K);
    const char *names[] = {"openblas sgemm", "dnnl sgemm", "dnnl u8s8s32"};
    { int e = engine;
      qsort(t[e], reps, sizeof(double), cmp);
      double med = t[e][reps / 2];
      printf(" | %s %8.3f ms %6.1f GOP/s", names[e], med * 1e3, flop / med * 1e-9);
    }
    printf("\n");
    free(A); free(W); free(C); free(Aq); free(Wq); free(Ci);
  }
  return 0;
}
