#pragma once
// Material and electrolyte property functions, as the kernels evaluate them.
// Each is templated on the scalar (double or Dual) so Jacobians come out exact.
#include "kernels/config.hpp"
#include "kernels/dual.hpp"
#include "kernels/pchip.hpp"

namespace strata {

constexpr int kMaxMaterials = 16;
constexpr int kMaxTanhTerms = 6;

// A property that is a constant or a table against one variable.
struct PropertyFn {
  double value = 0.0;
  TableRef table;  // n > 0: tabulated
};

template <class T>
STRATA_HD inline T eval_property(const double* data, const PropertyFn& p, const T& x) {
  if (p.table.n > 0) return pchip(data, p.table, x);
  return T(p.value);
}

// Open-circuit potential of an active material against x = c_s / c_max:
// tabulated (PCHIP), or U(x) = E0 - slope*(x-0.5) + ideality*(RT/F) ln((1-x)/x) + sum A tanh((x-c)/w).
struct OcpFn {
  TableRef table;  // n > 0: tabulated
  double E0_V = 0.0, slope_V = 0.0, ideality = 0.0;
  int n_tanh = 0;
  double tanh_amplitude_V[kMaxTanhTerms] = {}, tanh_center[kMaxTanhTerms] = {}, tanh_width[kMaxTanhTerms] = {};
};

template <class T>
STRATA_HD inline T eval_ocp_V(const double* data, const OcpFn& f, const T& x, double temperature_K) {
  if (f.table.n > 0) return pchip(data, f.table, x);
  // Keep the logarithm finite when a Newton iterate leaves (0, 1).
  const double lo = 1e-12;
  T xc = x;
  if (value_of(x) < lo) xc = T(lo);
  if (value_of(x) > 1.0 - lo) xc = T(1.0 - lo);
  T u = f.E0_V - f.slope_V * (x - 0.5);
  if (f.ideality != 0.0)
    u = u + f.ideality * (kGasOverFaraday_V_K * temperature_K) * log((1.0 - xc) / xc);
  for (int k = 0; k < f.n_tanh; ++k)
    u = u + f.tanh_amplitude_V[k] * tanh((x - f.tanh_center[k]) / f.tanh_width[k]);
  return u;
}

struct MaterialFns {
  OcpFn ocp;
  TableRef diffusivity_factor;  // x -> multiplier of the per-variant reference diffusivity
};

struct ElectrolyteFns {
  PropertyFn conductivity_S_m, diffusivity_m2_s, transference_number, thermodynamic_factor;  // of c (mol/m3)
};

// Everything the kernels read that all variants share: function shapes and tables.
struct SharedTables {
  const double* data = nullptr;
  int n_materials = 0;
  MaterialFns materials[kMaxMaterials];
  ElectrolyteFns electrolyte;
};

}  // namespace strata
