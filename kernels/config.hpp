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

}  // namespace strata
