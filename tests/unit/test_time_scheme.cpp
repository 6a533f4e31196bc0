// The implicit time schemes (kernels/time_scheme.hpp): BDF2's variable-step
// coefficients, Milne's error estimate, and the order of each scheme on the DFN model.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/time_scheme.hpp"
#include "tests/unit/test_support.hpp"

using namespace strata;

namespace {

// A cubic x(t) and its derivatives.
struct Cubic {
  double a0, a1, a2, a3;
  double x(double t) const { return a0 + t * (a1 + t * (a2 + t * a3)); }
  double dx(double t) const { return a1 + t * (2.0 * a2 + t * 3.0 * a3); }
};

}  // namespace

// (x_n - x_hist) / h_eff is the derivative at t_n of the quadratic through the last three
// points, for any step ratio: exact on quadratics, and of order 1 for backward Euler.
TEST(TimeScheme, Bdf2DifferentiatesQuadraticsExactlyAtAnyStepRatio) {
  const Cubic q{0.3, -1.7, 2.9, 0.0};
  for (double h_prev : {0.5, 1.0, 2.0}) {
    for (double h : {0.25, 1.0, 2.0}) {
      const double t0 = 1.0, t1 = t0 + h_prev, t2 = t1 + h;
      const ImplicitStep ts = implicit_step(2, h, h_prev);
      const double hist = history_value(ts, q.x(t1), q.x(t0));
      EXPECT_NEAR((q.x(t2) - hist) / ts.h_eff_s, q.dx(t2), 1e-12) << "h " << h << ", h_prev " << h_prev;
    }
  }
  // Equal steps: the textbook BDF2, x_n - 4/3 x_n-1 + 1/3 x_n-2 = 2/3 h f_n.
  const ImplicitStep eq = implicit_step(2, 1.0, 1.0);
  EXPECT_DOUBLE_EQ(eq.h_eff_s, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(eq.beta, 1.0 / 3.0);
  // Backward Euler, and BDF2 with no previous step, are x_n - x_n-1 = h f_n.
  const ImplicitStep be = implicit_step(1, 0.7, 1.0);
  EXPECT_EQ(be.h_eff_s, 0.7);
  EXPECT_EQ(be.beta, 0.0);
  EXPECT_EQ(implicit_step(2, 0.7, 0.0).beta, 0.0);
  EXPECT_EQ(history_value(be, 2.0, 5.0), 2.0);
}

// A backward-Euler step misses a quadratic by h^2 x''/2 and the linear predictor by
// h (h + h1) x''/2 the other way: Milne's weight h/(2h + h1) turns their gap into the
// step's own error, 1/3 of it at equal steps (until 2026-12-07 the weight was
// h/(h + h1), which overstated the error 1.5 times at equal steps).
TEST(TimeScheme, MilneEstimateOfBackwardEulerMatchesTheLocalErrorOfAQuadratic) {
  EXPECT_DOUBLE_EQ(backward_euler_error_weight(1.0, 1.0), 1.0 / 3.0);
  const Cubic q{0.2, 0.9, -1.4, 0.0};
  for (double h : {0.1, 0.05})
    for (double ratio : {0.5, 1.0, 3.0}) {
      const double h1 = ratio * h, t1 = 0.3, t0 = t1 + h1, tn = t0 + h;
      const ImplicitStep ts = implicit_step(1, h, h1);
      const double xn = history_value(ts, q.x(t0), q.x(t1)) + ts.h_eff_s * q.dx(tn);
      const double true_error = xn - q.x(tn);
      const double predicted = q.x(t0) + (h / h1) * (q.x(t0) - q.x(t1));
      EXPECT_NEAR(backward_euler_error_weight(h, h1) * (xn - predicted), true_error, 1e-12 * std::fabs(true_error))
          << "h " << h << ", h1 " << h1;
      EXPECT_NEAR(true_error, h * h * q.a2, 1e-15) << "h " << h;  // h^2 x''/2 with x'' = 2 a2
    }
}

// The quadratic predictor is exact on quadratics and misses a cubic by
// h (h + h1) (h + h1 + h2) x'''/6; Milne's weight turns the corrector-predictor gap
// into the corrector's own error, 2/11 of it at equal steps.
TEST(TimeScheme, MilneEstimateOfBdf2MatchesTheLocalErrorOfACubic) {
  const Cubic q{0.3, -1.7, 2.9, 0.0};
  EXPECT_NEAR(quadratic_predictor(0.75, 0.5, 1.5).at(q.x(3.0), q.x(2.5), q.x(1.0)), q.x(3.75), 1e-12);
  EXPECT_DOUBLE_EQ(bdf2_error_weight(implicit_step(2, 1.0, 1.0), 1.0, 1.0, 1.0), 2.0 / 11.0);

  // x' = g(t) for a cubic x: one BDF2 step from exact history errs by h_eff h (h + h1) x'''/6.
  const Cubic c{0.1, 0.4, -0.8, 1.3};
  for (double h : {0.1, 0.05}) {
    const double h1 = 0.8 * h, h2 = 1.3 * h;
    const double t3 = 0.2, t2 = t3 + h2, t1 = t2 + h1, tn = t1 + h;
    const ImplicitStep ts = implicit_step(2, h, h1);
    const double xn = history_value(ts, c.x(t1), c.x(t2)) + ts.h_eff_s * c.dx(tn);
    const double true_error = xn - c.x(tn);
    const double estimate =
        bdf2_error_weight(ts, h, h1, h2) * (xn - quadratic_predictor(h, h1, h2).at(c.x(t1), c.x(t2), c.x(t3)));
    EXPECT_NEAR(estimate, true_error, 1e-9 * std::fabs(true_error) + 1e-15) << "h " << h;
    EXPECT_NEAR(true_error, ts.h_eff_s * h * (h + h1) * 6.0 * c.a3 / 6.0, 1e-12) << "h " << h;
  }
}

TEST(TimeScheme, StepFactorFollowsTheOrder) {
  EXPECT_DOUBLE_EQ(step_factor(1, 0.25, 3.0), 1.8);
  EXPECT_DOUBLE_EQ(step_factor(2, 0.125, 3.0), 1.8);
  EXPECT_DOUBLE_EQ(step_factor(2, 1e-6, kMaxGrowthBdf2), 2.0);
  EXPECT_DOUBLE_EQ(step_factor(1, 1e6, 3.0), 0.2);
}

// Gustafsson's predictive controller: without a previous accepted step it is
// step_factor; with one, the smaller of step_factor and
// 0.9 (h/h_acc) (err_acc/err^2)^(1/(order+1)), floored at 0.2.
TEST(TimeScheme, PredictiveStepFactorFollowsTheTrendOfTheError) {
  EXPECT_DOUBLE_EQ(predictive_step_factor(1, 0.25, 3.0, 2.0, 0.0, 0.0), step_factor(1, 0.25, 3.0));
  EXPECT_DOUBLE_EQ(predictive_step_factor(2, 0.125, 2.0, 2.0, 1.0, 0.0), step_factor(2, 0.125, 2.0));
  // Error ratio rising from 0.125 to 0.25 over two equal steps: 0.9 sqrt(0.125 / 0.0625),
  // less than step_factor's 1.8.
  EXPECT_DOUBLE_EQ(predictive_step_factor(1, 0.25, 3.0, 1.0, 1.0, 0.125), 0.9 * std::sqrt(2.0));
  // The same error after a step half as long: the trend allows twice that, still < 1.8.
  EXPECT_DOUBLE_EQ(predictive_step_factor(1, 0.25, 3.0, 1.0, 2.0, 0.125), 0.45 * std::sqrt(2.0));
  // Falling error ratio (0.5 to 0.125, order 2): the trend would allow 0.9 cbrt(32) = 2.86;
  // step_factor (1.8) bounds it.
  EXPECT_DOUBLE_EQ(predictive_step_factor(2, 0.125, 3.0, 1.0, 1.0, 0.5), 1.8);
  // A steep rise is floored like step_factor.
  EXPECT_DOUBLE_EQ(predictive_step_factor(1, 0.9, 3.0, 1.0, 10.0, 1e-2), 0.2);
}

namespace {

// The test bilayer charged at 3C for 400 s with the time step held at max_step_s: the
// error control is off (rtol 0.5), so after the first few doubling steps from 0.1 s every
// step is max_step_s and the error of the end state falls as max_step_s^order.
double end_potential_V(int order, double max_step_s, double* steps = nullptr) {
  Scenario s = test::bilayer_scenario({"Charge at 3C for 400 seconds"});
  s.numerics.time_order = order;
  s.numerics.relative_tolerance = 0.5;
  s.numerics.max_step_s = max_step_s;
  Batch b = test::run_scenarios({s});
  EXPECT_EQ(test::status(b, 0), 0);
  EXPECT_NEAR(test::out(b, 0, 0, kOutDuration_s), 400.0, 1e-9);
  if (steps) *steps = test::out(b, 0, 0, kOutTimeSteps);
  return test::out(b, 0, 0, kOutEndPotential_V);
}

}  // namespace

// The observed order of each scheme on the whole DFN model: halving the step halves
// backward Euler's error and quarters BDF2's.
TEST(DfnTimeOrder, FixedStepErrorsFallAtTheOrderOfEachScheme) {
  const double reference = end_potential_V(2, 0.25);
  const std::vector<double> h = {16.0, 8.0, 4.0};
  for (int order : {1, 2}) {
    std::vector<double> err;
    for (double hk : h) err.push_back(std::fabs(end_potential_V(order, hk) - reference));
    for (size_t k = 0; k + 1 < err.size(); ++k) {
      const double observed = std::log2(err[k] / err[k + 1]);
      EXPECT_NEAR(observed, order, 0.2) << "order " << order << ": error " << err[k] << " V at " << h[k]
                                         << " s, " << err[k + 1] << " V at " << h[k + 1] << " s";
    }
  }
}
