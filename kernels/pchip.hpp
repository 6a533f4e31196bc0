#pragma once
// Monotone piecewise-cubic Hermite interpolation (Fritsch-Butland weighted harmonic
// mean slopes, as SciPy's PCHIP, computed on the host once) over tables stored in one flat array. Linear beyond the ends.
#include "kernels/config.hpp"
#include "kernels/dual.hpp"

namespace strata {

// A table of n points: x at data[offset], y at data[offset+n], slopes at data[offset+2n].
struct TableRef {
  int offset = 0;
  int n = 0;  // 0: no table
};

// Value and derivative dy/dx of the table at x.
STRATA_HD inline void pchip_eval(const double* data, TableRef t, double x, double& y, double& dydx) {
  const double* xs = data + t.offset;
  const double* ys = xs + t.n;
  const double* ms = ys + t.n;
  const int n = t.n;
  if (x <= xs[0]) { dydx = ms[0]; y = ys[0] + ms[0] * (x - xs[0]); return; }
  if (x >= xs[n - 1]) { dydx = ms[n - 1]; y = ys[n - 1] + ms[n - 1] * (x - xs[n - 1]); return; }
  int lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (xs[mid] <= x) lo = mid; else hi = mid;
  }
  const double h = xs[hi] - xs[lo], inv_h = 1.0 / h;
  const double s = (x - xs[lo]) * inv_h;
  const double s2 = s * s, s3 = s2 * s;
  const double h00 = 2 * s3 - 3 * s2 + 1, h10 = s3 - 2 * s2 + s;
  const double h01 = -2 * s3 + 3 * s2, h11 = s3 - s2;
  y = h00 * ys[lo] + h10 * h * ms[lo] + h01 * ys[hi] + h11 * h * ms[hi];
  const double d00 = (6 * s2 - 6 * s) * inv_h, d10 = 3 * s2 - 4 * s + 1;
  const double d01 = -d00, d11 = 3 * s2 - 2 * s;
  dydx = d00 * ys[lo] + d10 * ms[lo] + d01 * ys[hi] + d11 * ms[hi];
}

STRATA_HD inline double pchip(const double* data, TableRef t, double x) {
  double y, d;
  pchip_eval(data, t, x, y, d);
  return y;
}
template <int N>
STRATA_HD inline Dual<N> pchip(const double* data, TableRef t, const Dual<N>& x) {
  double y, d;
  pchip_eval(data, t, x.v, y, d);
  return chain(x, y, d);
}

}  // namespace strata
