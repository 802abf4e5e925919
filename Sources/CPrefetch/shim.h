#ifndef PRISM_CPREFETCH_SHIM_H
#define PRISM_CPREFETCH_SHIM_H
// A software prefetch hint (the compiler's builtin: PREFETCHT0 on x86-64, PRFM on arm64), which Swift
// has no spelling for. Header-only: nothing to link.
static inline void prism_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
#endif
