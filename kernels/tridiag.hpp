#pragma once
// Batched tridiagonal and block-tridiagonal solvers, one variant per call, over
// strided views (blocked or interleaved layout). The same code runs per CPU thread
// and per GPU thread. No pivoting across blocks: the systems strata builds are
// block diagonally dominant; within a block, Gauss-Jordan with partial pivoting.
#include <cmath>

#include "kernels/config.hpp"

namespace strata {

// Thomas algorithm for one tridiagonal matrix and one or more right-hand sides.
// a: sub-diagonal (a[0] unused), b: diagonal, c: super-diagonal (c[n-1] unused),
// d...: right-hand sides, each overwritten with its solution. cp: n scratch.
// One reciprocal per row, shared by every right-hand side. False on a zero pivot.
template <class VA, class VB, class VC, class VW, class... VD>
STRATA_HD bool thomas_solve_many(int n, const VA& a, const VB& b, const VC& c, VW& cp, VD&... d) {
  if (b[0] == 0.0) return false;
  double inv = 1.0 / b[0];
  cp[0] = c[0] * inv;
  ((d[0] *= inv), ...);
  for (int i = 1; i < n; ++i) {
    const double piv = b[i] - a[i] * cp[i - 1];
    if (piv == 0.0) return false;
    inv = 1.0 / piv;
    cp[i] = (i < n - 1) ? c[i] * inv : 0.0;
    ((d[i] = (d[i] - a[i] * d[i - 1]) * inv), ...);
  }
  for (int i = n - 2; i >= 0; --i) ((d[i] -= cp[i] * d[i + 1]), ...);
  return true;
}

template <class VA, class VB, class VC, class VD, class VW>
STRATA_HD bool thomas_solve(int n, const VA& a, const VB& b, const VC& c, VD& d, VW& cp) {
  return thomas_solve_many(n, a, b, c, cp, d);
}

// Inverts the B x B matrix m (row-major, in registers) in place. False if singular.
template <int B>
STRATA_HD bool invert_small(double m[B * B]) {
  double inv[B * B];
  for (int r = 0; r < B; ++r)
    for (int c = 0; c < B; ++c) inv[r * B + c] = (r == c) ? 1.0 : 0.0;
  for (int col = 0; col < B; ++col) {
    int p = col;
    double best = fabs(m[col * B + col]);
    for (int r = col + 1; r < B; ++r)
      if (fabs(m[r * B + col]) > best) { best = fabs(m[r * B + col]); p = r; }
    if (best == 0.0 || !(best == best)) return false;
    if (p != col)
      for (int c = 0; c < B; ++c) {
        double t = m[p * B + c]; m[p * B + c] = m[col * B + c]; m[col * B + c] = t;
        t = inv[p * B + c]; inv[p * B + c] = inv[col * B + c]; inv[col * B + c] = t;
      }
    const double s = 1.0 / m[col * B + col];
    for (int c = 0; c < B; ++c) { m[col * B + c] *= s; inv[col * B + c] *= s; }
    for (int r = 0; r < B; ++r) {
      if (r == col) continue;
      const double f = m[r * B + col];
      if (f == 0.0) continue;
      for (int c = 0; c < B; ++c) { m[r * B + c] -= f * m[col * B + c]; inv[r * B + c] -= f * inv[col * B + c]; }
    }
  }
  for (int k = 0; k < B * B; ++k) m[k] = inv[k];
  return true;
}

// Solves m X = x in place of x (B x C, row-major) by Gaussian elimination with
// partial pivoting; m (row-major, in registers) is destroyed. No inverse is formed:
// for the block Thomas step (C = B + R) that costs about half the flops of inverting
// m and multiplying. False if m is singular (a zero or NaN pivot).
template <int B, int C>
STRATA_HD bool solve_small(double m[B * B], double x[B * C]) {
  for (int col = 0; col < B; ++col) {
    // Partial pivoting by compare-and-swap against each row below: the largest entry
    // of the column ends in the pivot row (the first of equals, as a search would
    // find). Every index is known at compile time once the loops unroll, so on a GPU
    // m and x stay in registers (a swap with a searched row index would put them in
    // local memory).
    for (int r = col + 1; r < B; ++r)
      if (fabs(m[r * B + col]) > fabs(m[col * B + col])) {
        for (int c = col; c < B; ++c) { const double t = m[r * B + c]; m[r * B + c] = m[col * B + c]; m[col * B + c] = t; }
        for (int c = 0; c < C; ++c) { const double t = x[r * C + c]; x[r * C + c] = x[col * C + c]; x[col * C + c] = t; }
      }
    const double best = fabs(m[col * B + col]);
    if (best == 0.0 || !(best == best)) return false;
    const double inv = 1.0 / m[col * B + col];
    for (int r = col + 1; r < B; ++r) {
      const double f = m[r * B + col] * inv;
      for (int c = col + 1; c < B; ++c) m[r * B + c] -= f * m[col * B + c];
      for (int c = 0; c < C; ++c) x[r * C + c] -= f * x[col * C + c];
    }
    m[col * B + col] = inv;  // the pivot's reciprocal, for the back substitution
  }
  for (int r = B - 1; r >= 0; --r)
    for (int c = 0; c < C; ++c) {
      double s = x[r * C + c];
      for (int q = r + 1; q < B; ++q) s -= m[r * B + q] * x[q * C + c];
      x[r * C + c] = s * m[r * B + r];
    }
  return true;
}

// Block Thomas for n block rows of size B with R right-hand sides.
// Storage per block row i (row-major): lower L_i at lower[i*B*B], diagonal D_i at
// diag[i*B*B], upper U_i at upper[i*B*B] (L_0 and U_{n-1} unused); rhs[i*B*R + r*R + k].
// upper is overwritten with the eliminated U'_i = D'_i^-1 U_i, rhs with the solution;
// diag is left as it was. The eliminated row [U'_{i-1} | x'_{i-1}] that row i needs,
// and the solution x_{i+1} that the back substitution of row i needs, are carried in
// registers rather than read back from the record: each value of the record is read
// once per sweep (on a GPU these are global-memory reads).
template <int B, int R, class V>
STRATA_HD bool block_thomas_solve(int n, const V& lower, V& diag, V& upper, V& rhs) {
  constexpr int BB = B * B, C = B + R;
  // [U'_{i-1} | x'_{i-1}], row-major; set by row i - 1 before row i reads it (zeroed
  // only so that no compiler sees a read of an unset value)
  double prev[B * C] = {};
  for (int i = 0; i < n; ++i) {
    // Row r of the augmented right-hand side: U_i's row r, then x_i's row r.
    double d[BB], ux[B * C];
    for (int k = 0; k < BB; ++k) d[k] = diag[i * BB + k];
    for (int r = 0; r < B; ++r)
      for (int k = 0; k < R; ++k) ux[r * C + B + k] = rhs[i * B * R + r * R + k];
    if (i > 0) {
      // D_i -= L_i U'_{i-1};  x_i -= L_i x'_{i-1}  (before U_i is loaded: fewer
      // values live at once)
      for (int r = 0; r < B; ++r)
        for (int q = 0; q < B; ++q) {
          const double l = lower[i * BB + r * B + q];
          if (l == 0.0) continue;
          for (int c = 0; c < B; ++c) d[r * B + c] -= l * prev[q * C + c];
          for (int k = 0; k < R; ++k) ux[r * C + B + k] -= l * prev[q * C + B + k];
        }
    }
    for (int r = 0; r < B; ++r)
      for (int c = 0; c < B; ++c) ux[r * C + c] = (i < n - 1) ? upper[i * BB + r * B + c] : 0.0;
    // [U'_i | x'_i] = D_i^-1 [U_i | x_i]
    if (!solve_small<B, C>(d, ux)) return false;
    for (int r = 0; r < B; ++r) {
      if (i < n - 1)
        for (int c = 0; c < B; ++c) upper[i * BB + r * B + c] = ux[r * C + c];
      for (int k = 0; k < R; ++k) rhs[i * B * R + r * R + k] = ux[r * C + B + k];
    }
    for (int k = 0; k < B * C; ++k) prev[k] = ux[k];
  }
  // x_{n-1} = x'_{n-1} is the last row eliminated; x_i = x'_i - U'_i x_{i+1}.
  double next[B * R];
  for (int r = 0; r < B; ++r)
    for (int k = 0; k < R; ++k) next[r * R + k] = prev[r * C + B + k];
  for (int i = n - 2; i >= 0; --i) {
    double x[B * R];
    for (int r = 0; r < B; ++r) {
      double u[B];
      for (int q = 0; q < B; ++q) u[q] = upper[i * BB + r * B + q];
      for (int k = 0; k < R; ++k) {
        double s = rhs[i * B * R + r * R + k];
        for (int q = 0; q < B; ++q) s -= u[q] * next[q * R + k];
        x[r * R + k] = s;
        rhs[i * B * R + r * R + k] = s;
      }
    }
    for (int k = 0; k < B * R; ++k) next[k] = x[k];
  }
  return true;
}

}  // namespace strata
