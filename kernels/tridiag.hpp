#pragma once
// Batched tridiagonal and block-tridiagonal solvers, one variant per call, over
// strided views (blocked or interleaved layout). The same code runs per CPU thread
// and per GPU thread. No pivoting across blocks: the systems strata builds are
// block diagonally dominant; within a block, Gauss-Jordan with partial pivoting.
#include <cmath>

#include "kernels/config.hpp"

namespace strata {

// Thomas algorithm. a: sub-diagonal (a[0] unused), b: diagonal, c: super-diagonal
// (c[n-1] unused), d: right-hand side, overwritten with the solution. cp: n scratch.
// Returns false on a zero pivot.
template <class VA, class VB, class VC, class VD, class VW>
STRATA_HD bool thomas_solve(int n, const VA& a, const VB& b, const VC& c, VD& d, VW& cp) {
  double piv = b[0];
  if (piv == 0.0) return false;
  cp[0] = c[0] / piv;
  d[0] = d[0] / piv;
  for (int i = 1; i < n; ++i) {
    piv = b[i] - a[i] * cp[i - 1];
    if (piv == 0.0) return false;
    cp[i] = (i < n - 1) ? c[i] / piv : 0.0;
    d[i] = (d[i] - a[i] * d[i - 1]) / piv;
  }
  for (int i = n - 2; i >= 0; --i) d[i] -= cp[i] * d[i + 1];
  return true;
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

// Block Thomas for n block rows of size B with R right-hand sides.
// Storage per block row i (row-major): lower L_i at lower[i*B*B], diagonal D_i at
// diag[i*B*B], upper U_i at upper[i*B*B] (L_0 and U_{n-1} unused); rhs[i*B*R + r*R + k].
// diag and upper are overwritten (factorisation), rhs with the solution.
template <int B, int R, class V>
STRATA_HD bool block_thomas_solve(int n, const V& lower, V& diag, V& upper, V& rhs) {
  constexpr int BB = B * B;
  for (int i = 0; i < n; ++i) {
    double d[BB], x[B * R];
    for (int k = 0; k < BB; ++k) d[k] = diag[i * BB + k];
    for (int k = 0; k < B * R; ++k) x[k] = rhs[i * B * R + k];
    if (i > 0) {
      // D_i -= L_i U'_{i-1};  x_i -= L_i x'_{i-1}
      for (int r = 0; r < B; ++r)
        for (int q = 0; q < B; ++q) {
          const double l = lower[i * BB + r * B + q];
          if (l == 0.0) continue;
          for (int c = 0; c < B; ++c) d[r * B + c] -= l * upper[(i - 1) * BB + q * B + c];
          for (int k = 0; k < R; ++k) x[r * R + k] -= l * rhs[(i - 1) * B * R + q * R + k];
        }
    }
    if (!invert_small<B>(d)) return false;
    // U'_i = D^-1 U_i; x'_i = D^-1 x_i
    for (int r = 0; r < B; ++r) {
      if (i < n - 1)
        for (int c = 0; c < B; ++c) {
          double s = 0.0;
          for (int q = 0; q < B; ++q) s += d[r * B + q] * upper[i * BB + q * B + c];
          diag[i * BB + r * B + c] = s;  // keep U' in diag's storage for now
        }
      for (int k = 0; k < R; ++k) {
        double s = 0.0;
        for (int q = 0; q < B; ++q) s += d[r * B + q] * x[q * R + k];
        rhs[i * B * R + r * R + k] = s;
      }
    }
    if (i < n - 1)
      for (int k = 0; k < BB; ++k) upper[i * BB + k] = diag[i * BB + k];
  }
  for (int i = n - 2; i >= 0; --i)
    for (int r = 0; r < B; ++r)
      for (int k = 0; k < R; ++k) {
        double s = rhs[i * B * R + r * R + k];
        for (int q = 0; q < B; ++q) s -= upper[i * BB + r * B + q] * rhs[(i + 1) * B * R + q * R + k];
        rhs[i * B * R + r * R + k] = s;
      }
  return true;
}

}  // namespace strata
