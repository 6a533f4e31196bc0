// Calibration recovers known parameters from data synthesised by the engine itself
// (with seeded noise) within the uncertainty it reports.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "host/cpu_backend.hpp"
#include "host/simulate.hpp"
#include "optimizer/fit.hpp"
#include "tests/unit/test_support.hpp"

using namespace strata;

namespace {

// The last charge is 6C: at 8C (until 2026-12-07) the thick electrode's current ran
// the salt at the metal counter's face dry through this 4-cell separator, which the
// face term then held at ln(1e-6) instead of failing; it is now ElectrolyteDepleted.
Scenario fit_scenario() {
  Scenario s = test::bilayer_scenario({"Charge at 1C until 3.6 V", "Discharge at 1C until 2.3 V",
                                       "Charge at 4C until 3.6 V", "Discharge at 1C until 2.3 V",
                                       "Charge at 6C until 3.6 V"});
  for (Layer& l : s.layers) l.nodes = 6;
  s.separator.nodes = 4;
  s.numerics.particle_shells = 8;
  s.numerics.relative_tolerance = 1e-4;
  VariantSpec thin, thick;
  thin.label = "thin";
  thin.overrides = {{"layers[0].thickness_m", 30e-6}, {"layers[1].thickness_m", 30e-6}};
  thick.label = "thick";
  thick.overrides = {{"layers[0].thickness_m", 70e-6}, {"layers[1].thickness_m", 70e-6}};
  s.variants = {thin, thick};
  FitSpec& f = s.fit;
  f.present = true;
  f.parameters = {{"materials.plateau.diffusivity_m2_s", 1e-16, 1e-12, true},
                  {"materials.sloping.diffusivity_m2_s", 1e-16, 1e-12, true}};
  f.initial_population = 12;
  f.starts = 2;
  f.max_evaluations = 240;
  f.seed = 3;
  return s;
}

}  // namespace

TEST(Fit, RecoversSynthesisedParametersWithinReportedUncertainty) {
  Scenario s = fit_scenario();
  const std::vector<double> truth = {s.materials["plateau"].diffusivity_m2_s, s.materials["sloping"].diffusivity_m2_s};
  // Synthesise the measurements with the engine at the true values, plus noise.
  FitEvaluator synth(s, nullptr, nullptr, 0, Layout::Blocked);
  s.fit.targets.clear();
  for (const char* electrode : {"thin", "thick"})
    for (int step : {2, 4}) {
      FitTarget t;
      t.name = std::string(electrode) + "_s" + std::to_string(step);
      t.variant = electrode;
      t.metric.kind = "capacity_mAh_g";
      t.metric.step = step;
      t.sigma = 0.3;  // mAh/g
      s.fit.targets.push_back(t);
    }
  for (const ResolvedVariant& rv : resolve_variants(s)) ASSERT_TRUE(rv.rejected.empty()) << rv.rejected;
  FitEvaluator clean(s, nullptr, nullptr, 0, Layout::Blocked);
  const auto at_truth = clean.residuals({{0, truth, "truth"}})[0];
  ASSERT_TRUE(at_truth.ok) << ::testing::PrintToString(at_truth.simulated);
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0.0, 0.3);
  for (size_t t = 0; t < s.fit.targets.size(); ++t) s.fit.targets[t].value = at_truth.simulated[t] + noise(rng);

  FitEvaluator ev(s, nullptr, nullptr, 0, Layout::Blocked);
  const FitReport r = run_fit(s, ev);
  ASSERT_TRUE(r.jacobian_ok);
  ASSERT_EQ(r.values.size(), 2u);
  for (size_t j = 0; j < 2; ++j) {
    const double sigma_ln = std::sqrt(r.covariance[j * 2 + j]);
    ASSERT_TRUE(std::isfinite(sigma_ln) && sigma_ln > 0) << j;
    EXPECT_LT(std::fabs(std::log(r.values[j] / truth[j])), 3.0 * sigma_ln)
        << r.names[j] << ": fitted " << r.values[j] << " truth " << truth[j] << " sigma(ln) " << sigma_ln;
    EXPECT_LT(sigma_ln, 1.0) << "the targets constrain " << r.names[j];
  }
  EXPECT_LT(r.chi2, 4.0 * (r.dof + 1) + 10.0);
}

// A measured potential curve (the 4C charge of the thick electrode, 12 points) pins
// a kinetic parameter that capacities alone would not: the exchange current density
// of the sloping material, recovered within the reported uncertainty.
TEST(Fit, RecoversKineticsFromAPotentialCurve) {
  Scenario s = fit_scenario();
  s.fit.parameters = {{"materials.sloping.exchange_current_density_A_m2", 0.05, 50.0, true}};
  s.fit.max_evaluations = 120;
  const double truth = s.materials["sloping"].exchange_current_density_A_m2;
  FitTarget curve;
  curve.name = "thick_4C_curve";
  curve.variant = "thick";
  curve.metric.kind = "potential_curve";
  curve.metric.step = 2;
  curve.sigma = 0.002;  // V
  for (int k = 0; k < 12; ++k) curve.curve_capacity_mAh_g.push_back(5.0 + 8.0 * k);
  curve.curve_potential_V.assign(12, 0.0);
  s.fit.targets = {curve};
  FitEvaluator clean(s, nullptr, nullptr, 0, Layout::Blocked);
  // Synthesise: the engine's own curve at the true value, with noise.
  const auto at_truth = clean.residuals({{0, {truth}, "truth"}})[0];
  ASSERT_TRUE(at_truth.ok);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0.0, 0.002);
  for (size_t k = 0; k < 12; ++k)  // residuals against V = 0 are the simulated potentials / sigma
    s.fit.targets[0].curve_potential_V[k] = at_truth.weighted[k] * curve.sigma + noise(rng);
  FitEvaluator ev(s, nullptr, nullptr, 0, Layout::Blocked);
  const FitReport r = run_fit(s, ev);
  ASSERT_TRUE(r.jacobian_ok);
  const double sigma_ln = std::sqrt(r.covariance[0]);
  EXPECT_LT(std::fabs(std::log(r.values[0] / truth)), 3.0 * sigma_ln)
      << "fitted " << r.values[0] << " truth " << truth << " sigma(ln) " << sigma_ln;
  EXPECT_LT(sigma_ln, 0.5);
  EXPECT_EQ(r.dof, 11);
  EXPECT_LT(r.weighted_residuals[0], 2.0);  // RMS weighted residual near 1 for a good fit
}
