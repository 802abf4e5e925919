#ifndef PRISM_CPREFETCH_SHIM_H
#define PRISM_CPREFETCH_SHIM_H
// CPU hints Swift has no spelling for. A software prefetch hint (the compiler's builtin: PREFETCHT0 on x86-64, PRFM on arm64), which Swift
// has no spelling for. Header-only: nothing to link.
static inline void prism_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
// A spin-wait hint (PAUSE on x86-64, YIELD on arm64): lets the sibling hyper-thread run and eases the
// memory-order exit of a spin loop.
static inline void prism_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}
#endif
