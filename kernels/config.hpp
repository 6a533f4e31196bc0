#pragma once
// STRATA_HD marks the numerics shared by the CPU and CUDA backends.
#if defined(__CUDACC__)
#define STRATA_HD __host__ __device__
#define STRATA_INLINE __forceinline__
#define STRATA_NOINLINE __noinline__
#else
#define STRATA_HD
#define STRATA_INLINE inline
#define STRATA_NOINLINE __attribute__((noinline))
#endif

namespace strata {
// Physical constants (CODATA 2018).
constexpr double kFaraday_C_mol = 96485.33212;
constexpr double kGas_J_molK = 8.314462618;
// R/F, so that RT/F is a product (a division by a constant is not folded into one:
// it stays a division, costly on a GPU).
constexpr double kGasOverFaraday_V_K = kGas_J_molK / kFaraday_C_mol;
constexpr double kInverseFaraday_mol_C = 1.0 / kFaraday_C_mol;

// True when x is neither NaN nor infinite (works on host and device alike).
STRATA_HD inline bool is_finite(double x) { return x - x == 0.0; }

// fmax and fmin with their results (a NaN argument loses to a number), inline: GCC
// calls glibc's for them unless math is finite-only (4% of a CPU run's time in
// __fmax, perf, 2026-12-08); on a GPU they are one instruction each. For operands of
// the same sign of zero, as at every use (magnitudes and step factors).
STRATA_HD inline double max_num(double a, double b) {
#if defined(__CUDA_ARCH__)
  return fmax(a, b);
#else
  return (a < b || a != a) ? b : a;
#endif
}
STRATA_HD inline double min_num(double a, double b) {
#if defined(__CUDA_ARCH__)
  return fmin(a, b);
#else
  return (b < a || a != a) ? b : a;
#endif
}

}  // namespace strata
