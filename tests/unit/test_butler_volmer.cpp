// Butler-Volmer kinetics (butler_volmer_A_m2, kernels/dfn_physics.hpp) against the
// formula of docs/physics.md 2.3 written out here, for the symmetric transfer
// coefficients (which the kernel evaluates with one square root and one exponential)
// and asymmetric ones (the general form), with the dual-number derivatives checked
// against central differences of the kernel's own value.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/dfn_physics.hpp"

namespace strata {
namespace {

struct State {
  double phis_V, phie_V, ce_mol_m3, cs_mol_m3;
};

constexpr double kT_K = 298.15, kI0_A_m2 = 2.5, kCeRef = 1000.0, kCmax = 30000.0;

OcpFn linear_ocp() {
  OcpFn ocp;
  ocp.E0_V = 3.4;
  ocp.slope_V = 0.3;  // U = 3.4 - 0.3 (x - 0.5)
  return ocp;
}

// docs/physics.md 2.3, with x and 1 - x well inside (0, 1) (no floors involved).
double reference_A_m2(const State& s, double aa, double ac) {
  const double x = s.cs_mol_m3 / kCmax;
  const double i0 = kI0_A_m2 * std::pow(s.ce_mol_m3 / kCeRef, aa) * std::pow(x, ac) * std::pow(1.0 - x, aa) /
                    std::pow(0.5, aa + ac);
  const double eta = s.phis_V - s.phie_V - (3.4 - 0.3 * (x - 0.5));
  const double f = kFaraday_C_mol / (kGas_J_molK * kT_K);
  return i0 * (std::exp(aa * f * eta) - std::exp(-ac * f * eta));
}

Dual<3> kernel_A_m2(const State& s, double aa, double ac) {
  using D3 = Dual<3>;
  return butler_volmer_A_m2(nullptr, linear_ocp(), kT_K, kI0_A_m2, kCeRef, aa, ac, kCmax, D3::var(s.phis_V, 0),
                            D3(s.phie_V), D3::var(s.ce_mol_m3, 1), D3::var(s.cs_mol_m3, 2));
}

void expect_matches_formula_and_differences(double aa, double ac) {
  const State states[] = {{3.45, 0.01, 1200.0, 9000.0},   // oxidation, eta ~ 60 mV
                          {3.30, -0.02, 400.0, 27000.0},  // reduction near a full surface
                          {3.40, 0.0, 1000.0, 15000.0}};  // at equilibrium: j = 0
  for (const State& s : states) {
    const Dual<3> j = kernel_A_m2(s, aa, ac);
    const double ref = reference_A_m2(s, aa, ac);
    EXPECT_NEAR(j.v, ref, 1e-12 * std::fabs(ref) + 1e-14) << "aa " << aa << " phis " << s.phis_V;
    // d j / d(phis, ce, cs) against central differences of the kernel's value.
    const double steps[3] = {1e-6, 1e-3, 1e-2};
    for (int k = 0; k < 3; ++k) {
      State up = s, dn = s;
      double* u[3] = {&up.phis_V, &up.ce_mol_m3, &up.cs_mol_m3};
      double* d[3] = {&dn.phis_V, &dn.ce_mol_m3, &dn.cs_mol_m3};
      *u[k] += steps[k];
      *d[k] -= steps[k];
      const double fd = (kernel_A_m2(up, aa, ac).v - kernel_A_m2(dn, aa, ac).v) / (2.0 * steps[k]);
      EXPECT_NEAR(j.d[k], fd, 1e-6 * std::fabs(fd) + 1e-9) << "aa " << aa << " derivative " << k;
    }
  }
}

TEST(ButlerVolmer, SymmetricCaseMatchesTheFormula) { expect_matches_formula_and_differences(0.5, 0.5); }

TEST(ButlerVolmer, AsymmetricCaseMatchesTheFormula) { expect_matches_formula_and_differences(0.3, 0.7); }

// The exponent is capped at 200 (docs/physics.md 2.3) in both directions, so a wild
// Newton iterate gives a finite current of the right sign.
TEST(ButlerVolmer, CappedExponentStaysFinite) {
  for (double aa : {0.5, 0.3}) {
    const double ac = 1.0 - aa;
    const Dual<3> up = kernel_A_m2({3.4 + 20.0, 0.0, 1000.0, 15000.0}, aa, ac);
    const Dual<3> dn = kernel_A_m2({3.4 - 20.0, 0.0, 1000.0, 15000.0}, aa, ac);
    EXPECT_TRUE(std::isfinite(up.v) && up.v > 0.0) << aa;
    EXPECT_TRUE(std::isfinite(dn.v) && dn.v < 0.0) << aa;
    EXPECT_TRUE(std::isfinite(up.d[0]) && std::isfinite(dn.d[0])) << aa;
  }
}

}  // namespace
}  // namespace strata
