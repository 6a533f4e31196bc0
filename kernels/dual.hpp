#pragma once
// Forward-mode dual numbers: exact local Jacobians of fluxes and kinetics without
// hand-derived derivatives. Dual<N> carries a value and N partial derivatives.
#include <cmath>

#include "kernels/config.hpp"

namespace strata {

template <int N>
struct Dual {
  double v = 0.0;
  double d[N] = {};
  STRATA_HD Dual() {}
  STRATA_HD Dual(double value) : v(value) {}  // a constant
  // The k-th independent variable with value `value`.
  STRATA_HD static Dual var(double value, int k) {
    Dual r(value);
    r.d[k] = 1.0;
    return r;
  }
};

template <int N>
STRATA_HD inline Dual<N> chain(const Dual<N>& a, double f, double df) {
  Dual<N> r(f);
  for (int k = 0; k < N; ++k) r.d[k] = df * a.d[k];
  return r;
}

template <int N>
STRATA_HD inline Dual<N> operator+(const Dual<N>& a, const Dual<N>& b) {
  Dual<N> r(a.v + b.v);
  for (int k = 0; k < N; ++k) r.d[k] = a.d[k] + b.d[k];
  return r;
}
template <int N>
STRATA_HD inline Dual<N> operator-(const Dual<N>& a, const Dual<N>& b) {
  Dual<N> r(a.v - b.v);
  for (int k = 0; k < N; ++k) r.d[k] = a.d[k] - b.d[k];
  return r;
}
template <int N>
STRATA_HD inline Dual<N> operator-(const Dual<N>& a) {
  Dual<N> r(-a.v);
  for (int k = 0; k < N; ++k) r.d[k] = -a.d[k];
  return r;
}
template <int N>
STRATA_HD inline Dual<N> operator*(const Dual<N>& a, const Dual<N>& b) {
  Dual<N> r(a.v * b.v);
  for (int k = 0; k < N; ++k) r.d[k] = a.d[k] * b.v + a.v * b.d[k];
  return r;
}
template <int N>
STRATA_HD inline Dual<N> operator/(const Dual<N>& a, const Dual<N>& b) {
  const double inv = 1.0 / b.v;
  Dual<N> r(a.v * inv);
  for (int k = 0; k < N; ++k) r.d[k] = (a.d[k] - r.v * b.d[k]) * inv;
  return r;
}
template <int N> STRATA_HD inline Dual<N> operator+(const Dual<N>& a, double b) { return a + Dual<N>(b); }
template <int N> STRATA_HD inline Dual<N> operator+(double a, const Dual<N>& b) { return Dual<N>(a) + b; }
template <int N> STRATA_HD inline Dual<N> operator-(const Dual<N>& a, double b) { return a - Dual<N>(b); }
template <int N> STRATA_HD inline Dual<N> operator-(double a, const Dual<N>& b) { return Dual<N>(a) - b; }
template <int N> STRATA_HD inline Dual<N> operator*(const Dual<N>& a, double b) { return chain(a, a.v * b, b); }
template <int N> STRATA_HD inline Dual<N> operator*(double a, const Dual<N>& b) { return chain(b, a * b.v, a); }
template <int N> STRATA_HD inline Dual<N> operator/(const Dual<N>& a, double b) {
  const double inv = 1.0 / b;  // one division, not two (costly on a GPU)
  return chain(a, a.v * inv, inv);
}
template <int N> STRATA_HD inline Dual<N> operator/(double a, const Dual<N>& b) { return Dual<N>(a) / b; }

template <int N> STRATA_HD inline Dual<N> exp(const Dual<N>& a) { const double e = ::exp(a.v); return chain(a, e, e); }
template <int N> STRATA_HD inline Dual<N> log(const Dual<N>& a) { return chain(a, ::log(a.v), 1.0 / a.v); }
template <int N> STRATA_HD inline Dual<N> sqrt(const Dual<N>& a) { const double s = ::sqrt(a.v); return chain(a, s, 0.5 / s); }
template <int N> STRATA_HD inline Dual<N> tanh(const Dual<N>& a) { const double t = ::tanh(a.v); return chain(a, t, 1.0 - t * t); }
template <int N> STRATA_HD inline Dual<N> sinh(const Dual<N>& a) { return chain(a, ::sinh(a.v), ::cosh(a.v)); }
template <int N> STRATA_HD inline Dual<N> asinh(const Dual<N>& a) { return chain(a, ::asinh(a.v), 1.0 / ::sqrt(1.0 + a.v * a.v)); }
template <int N> STRATA_HD inline Dual<N> pow(const Dual<N>& a, double p) {
  const double f = ::pow(a.v, p);
  return chain(a, f, p * ::pow(a.v, p - 1.0));
}

// Plain-double versions, so templated physics code can call exp(x) for any scalar.
STRATA_HD inline double exp(double a) { return ::exp(a); }
STRATA_HD inline double log(double a) { return ::log(a); }
STRATA_HD inline double sqrt(double a) { return ::sqrt(a); }
STRATA_HD inline double tanh(double a) { return ::tanh(a); }
STRATA_HD inline double sinh(double a) { return ::sinh(a); }
STRATA_HD inline double asinh(double a) { return ::asinh(a); }
STRATA_HD inline double pow(double a, double p) { return ::pow(a, p); }

// Value access that works for double and Dual alike.
STRATA_HD inline double value_of(double a) { return a; }
template <int N> STRATA_HD inline double value_of(const Dual<N>& a) { return a.v; }

}  // namespace strata
