#ifndef PRISM_COPENBLAS_SHIM_H
#define PRISM_COPENBLAS_SHIM_H
// OpenBLAS's CBLAS interface (Debian libopenblas-dev, pthread variant), including
// openblas_set_num_threads / openblas_get_num_threads.
#include <cblas.h>
#endif
