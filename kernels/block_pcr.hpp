#pragma once
// Cooperative solve of a block-tridiagonal system by parallel cyclic reduction (PCR):
// the rows of one system are shared by n_lanes workers (the lanes of a GPU warp),
// for the warp-per-variant mapping (docs/physics.md section 8). Same storage as
// block_thomas_solve (kernels/tridiag.hpp): per block row i, L_i at lower[i*B*B],
// D_i at diag[i*B*B], U_i at upper[i*B*B] (row-major; L_0 and U_{n-1} are ignored),
// R right-hand sides at rhs[i*B*R + r*R + k].
//
// The solve is a sequence of phases separated by barriers. Phase p < P (P =
// ceil(log2 n)) eliminates the couplings at distance s = 2^p: row i becomes
//   alpha = -L_i D_{i-s}^-1,  gamma = -U_i D_{i+s}^-1,
//   L'_i = alpha L_{i-s},  U'_i = gamma U_{i+s},
//   D'_i = D_i + alpha U_{i-s} + gamma L_{i+s},  r'_i = r_i + alpha r_{i-s} + gamma r_{i+s},
// reading one buffer and writing the other (ping-pong), so the lanes never race
// within a phase. After P phases every row is decoupled; phase P writes
// x_i = D_i^-1 r_i. Lane `lane` of n_lanes owns rows lane, lane + n_lanes, ...
// A GPU warp runs `block_pcr_phase` for p = 0..P with __syncwarp() between phases
// (kernels/cuda/block_pcr_warp.cuh); the CPU emulates the lanes by running the lane
// loop of each phase to the end before the next (block_pcr_solve_emulated). The
// operation count is O(n log n) against block Thomas's O(n), bought for a depth of
// O(log n) instead of O(n).
#include <cmath>

#include "kernels/config.hpp"
#include "kernels/tridiag.hpp"

namespace strata {

template <class V>
struct BlockSystem {
  V lower, diag, upper, rhs;
};

// Number of reduction phases: ceil(log2 n) (0 for n = 1).
STRATA_HD inline int block_pcr_reductions(int n) {
  int p = 0;
  while ((1 << p) < n) ++p;
  return p;
}

namespace pcr_detail {
// out = a (B x B) * b (B x C), all row-major in registers.
template <int B, int C>
STRATA_HD inline void mat_mul(const double* a, const double* b, double* out) {
  for (int r = 0; r < B; ++r)
    for (int c = 0; c < C; ++c) {
      double s = 0.0;
      for (int q = 0; q < B; ++q) s += a[r * B + q] * b[q * C + c];
      out[r * C + c] = s;
    }
}
}  // namespace pcr_detail

// One phase for the rows of one lane. in: the system of phase p (buffer p % 2),
// out: the buffer of phase p + 1; phase P writes the solution to x (n*B*R). Returns
// false when a diagonal block is singular.
template <int B, int R, class V>
STRATA_HD bool block_pcr_phase(int p, int P, int lane, int n_lanes, int n, const BlockSystem<V>& in,
                               const BlockSystem<V>& out, const V& x) {
  constexpr int BB = B * B, BR = B * R;
  bool ok = true;
  if (p == P) {
    for (int i = lane; i < n; i += n_lanes) {
      double d[BB], r[BR], y[BR];
      for (int k = 0; k < BB; ++k) d[k] = in.diag[i * BB + k];
      for (int k = 0; k < BR; ++k) r[k] = in.rhs[i * BR + k];
      if (invert_small<B>(d)) {
        pcr_detail::mat_mul<B, R>(d, r, y);
      } else {
        ok = false;
        for (int k = 0; k < BR; ++k) y[k] = NAN;
      }
      for (int k = 0; k < BR; ++k) x[i * BR + k] = y[k];
    }
    return ok;
  }
  const int s = 1 << p;
  for (int i = lane; i < n; i += n_lanes) {
    double D[BB], r[BR], Ln[BB], Un[BB];
    bool row_ok = true;
    for (int k = 0; k < BB; ++k) { D[k] = in.diag[i * BB + k]; Ln[k] = 0.0; Un[k] = 0.0; }
    for (int k = 0; k < BR; ++k) r[k] = in.rhs[i * BR + k];
    if (i - s >= 0) {
      double inv[BB], L[BB], alpha[BB], t[BB], tr[BR], nb[BB];
      for (int k = 0; k < BB; ++k) { inv[k] = in.diag[(i - s) * BB + k]; L[k] = in.lower[i * BB + k]; }
      row_ok = invert_small<B>(inv);
      pcr_detail::mat_mul<B, B>(L, inv, alpha);
      for (int k = 0; k < BB; ++k) alpha[k] = -alpha[k];
      for (int k = 0; k < BB; ++k) nb[k] = in.upper[(i - s) * BB + k];
      pcr_detail::mat_mul<B, B>(alpha, nb, t);
      for (int k = 0; k < BB; ++k) D[k] += t[k];
      for (int k = 0; k < BR; ++k) tr[k] = in.rhs[(i - s) * BR + k];
      double ar[BR];
      pcr_detail::mat_mul<B, R>(alpha, tr, ar);
      for (int k = 0; k < BR; ++k) r[k] += ar[k];
      if (i - 2 * s >= 0) {
        for (int k = 0; k < BB; ++k) nb[k] = in.lower[(i - s) * BB + k];
        pcr_detail::mat_mul<B, B>(alpha, nb, Ln);
      }
    }
    if (row_ok && i + s < n) {
      double inv[BB], U[BB], gamma[BB], t[BB], tr[BR], nb[BB];
      for (int k = 0; k < BB; ++k) { inv[k] = in.diag[(i + s) * BB + k]; U[k] = in.upper[i * BB + k]; }
      row_ok = invert_small<B>(inv);
      pcr_detail::mat_mul<B, B>(U, inv, gamma);
      for (int k = 0; k < BB; ++k) gamma[k] = -gamma[k];
      for (int k = 0; k < BB; ++k) nb[k] = in.lower[(i + s) * BB + k];
      pcr_detail::mat_mul<B, B>(gamma, nb, t);
      for (int k = 0; k < BB; ++k) D[k] += t[k];
      for (int k = 0; k < BR; ++k) tr[k] = in.rhs[(i + s) * BR + k];
      double gr[BR];
      pcr_detail::mat_mul<B, R>(gamma, tr, gr);
      for (int k = 0; k < BR; ++k) r[k] += gr[k];
      if (i + 2 * s < n) {
        for (int k = 0; k < BB; ++k) nb[k] = in.upper[(i + s) * BB + k];
        pcr_detail::mat_mul<B, B>(gamma, nb, Un);
      }
    }
    if (!row_ok) {  // a singular block: the row is written as NaN, never left stale
      ok = false;
      for (int k = 0; k < BB; ++k) D[k] = Ln[k] = Un[k] = NAN;
      for (int k = 0; k < BR; ++k) r[k] = NAN;
    }
    for (int k = 0; k < BB; ++k) {
      out.lower[i * BB + k] = Ln[k];
      out.diag[i * BB + k] = D[k];
      out.upper[i * BB + k] = Un[k];
    }
    for (int k = 0; k < BR; ++k) out.rhs[i * BR + k] = r[k];
  }
  return ok;
}

// The buffer phase p reads: a for even p, b for odd p.
template <class V>
STRATA_HD const BlockSystem<V>& block_pcr_source(int p, const BlockSystem<V>& a, const BlockSystem<V>& b) {
  return (p % 2 == 0) ? a : b;
}

// The whole solve with n_lanes emulated lanes, one after the other between the
// barriers (what a warp does in parallel). a holds the system (overwritten), b is
// scratch of the same size, x receives the solution. False when singular.
template <int B, int R, class V>
STRATA_HD bool block_pcr_solve_emulated(int n, int n_lanes, const BlockSystem<V>& a, const BlockSystem<V>& b,
                                        const V& x) {
  const int P = block_pcr_reductions(n);
  bool ok = true;
  for (int p = 0; p <= P; ++p) {
    const BlockSystem<V>& in = block_pcr_source(p, a, b);
    const BlockSystem<V>& out = block_pcr_source(p + 1, a, b);
    for (int lane = 0; lane < n_lanes; ++lane) ok = block_pcr_phase<B, R>(p, P, lane, n_lanes, n, in, out, x) && ok;
    // barrier
  }
  return ok;
}

}  // namespace strata
