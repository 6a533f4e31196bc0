// The state copies of the integrator (kernels/dfn_step.hpp, kernels/dfn_protocol.hpp):
// the predictor shifts x -> xold -> xprev in its own pass when x holds a newly accepted
// state, extrapolates from xold and xprev otherwise, and a variant that fails on a
// rejected attempt ends on its last accepted state. A BDF2 shape keeps one more copy of
// the concentrations (xprev2), from which the error estimate's quadratic extrapolates.
// After a converged attempt that was not accepted, the guess is the chord through it.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "host/cpu_backend.hpp"
#include "host/warp_model.hpp"
#include "kernels/dfn_protocol.hpp"
#include "tests/unit/test_support.hpp"

namespace strata {
namespace {

// Design 9 of the mixed designs (the plateau layer first, 66 um of the sloping one).
Batch one_bilayer() {
  const std::vector<ResolvedVariant> vars =
      test::mixed_bilayer_designs(test::bilayer_scenario({"Charge at 3C until 3.6 V"}), 10);
  return build_batch({vars[9]}, Layout::Blocked);
}

std::vector<double> copy_of(Batch& b, long offset) {
  const Strided<double> v = b.view(0);
  std::vector<double> s(b.shape.state_size);
  for (long k = 0; k < b.shape.state_size; ++k) s[k] = v[offset + k];
  return s;
}

// Three distinct states around the consistent initial state; x takes one electrolyte
// cell and one shell far down, so that extrapolating from xold to x leaves the ranges
// there (the shift case; the no-shift test moves xprev instead).
struct ThreeStates {
  std::vector<double> x, xold, xprev;
  long ce_cut = 0, cs_cut = 0;  // state indices of the two cut values
};

ThreeStates set_three_states(Batch& b) {
  const DfnShape& S = b.shape;
  const Strided<double> v = b.view(0);
  EXPECT_EQ(initialize_state(S, b.tables, v), VariantStatus::Ok);
  ThreeStates t;
  t.ce_cut = S.s_ce() + 3;
  t.cs_cut = S.s_cs() + 2L * S.nr + 1;
  for (long k = 0; k < S.state_size; ++k) {
    const double s0 = v[S.o_x + k];
    v[S.o_xprev + k] = s0 * (1.0 - 1e-3) + 1e-6;
    v[S.o_xold + k] = s0;
    v[S.o_x + k] = s0 * (1.0 + 2e-3) + 2e-6;
  }
  v[S.o_x + t.ce_cut] = 0.3 * v[S.o_xold + t.ce_cut];
  v[S.o_x + t.cs_cut] = 0.3 * v[S.o_xold + t.cs_cut];
  t.x = copy_of(b, S.o_x);
  t.xold = copy_of(b, S.o_xold);
  t.xprev = copy_of(b, S.o_xprev);
  return t;
}

// x_pred = x0 + f (x0 - xp), with x0 kept where the prediction leaves the ranges
// (the two cut values: c_e below half, c_s more than half-way to 0).
void expect_prediction(Batch& b, const std::vector<double>& x0, const std::vector<double>& xp, double f,
                       const ThreeStates& t) {
  const std::vector<double> x = copy_of(b, b.shape.o_x);
  for (long k = 0; k < b.shape.state_size; ++k) {
    const double pred = x0[k] + f * (x0[k] - xp[k]);
    const bool cut = k == t.ce_cut || k == t.cs_cut;
    if (cut) {
      EXPECT_LT(pred, 0.5 * x0[k]) << k;  // the range check fires
      EXPECT_EQ(x[k], x0[k]) << k;
    } else {
      EXPECT_EQ(x[k], pred) << k;
    }
  }
}

TEST(StateCopies, PredictorShiftsAnAcceptedStateIntoTheCopiesOnce) {
  Batch b = one_bilayer();
  const ThreeStates t = set_three_states(b);
  const Strided<double> v = b.view(0);
  predict_state(b.shape, v, 2.0, 1.0, /*shift=*/true);
  EXPECT_EQ(copy_of(b, b.shape.o_xprev), t.xold);  // xprev <- xold
  EXPECT_EQ(copy_of(b, b.shape.o_xold), t.x);      // xold <- x
  expect_prediction(b, t.x, t.xold, 2.0, t);
}

TEST(StateCopies, PredictorWithoutShiftStartsFromXoldAndLeavesTheCopies) {
  Batch b = one_bilayer();
  ThreeStates t = set_three_states(b);
  // A retried attempt: x holds a failed iterate; the guess comes from xold and xprev.
  const Strided<double> v = b.view(0);
  t.xprev[t.ce_cut] = 4.0 * t.xold[t.ce_cut];
  t.xprev[t.cs_cut] = 4.0 * t.xold[t.cs_cut];
  v[b.shape.o_xprev + t.ce_cut] = t.xprev[t.ce_cut];
  v[b.shape.o_xprev + t.cs_cut] = t.xprev[t.cs_cut];

  predict_state(b.shape, v, 0.5, 1.0, /*shift=*/false);
  EXPECT_EQ(copy_of(b, b.shape.o_xprev), t.xprev);
  EXPECT_EQ(copy_of(b, b.shape.o_xold), t.xold);
  expect_prediction(b, t.xold, t.xprev, 0.5, t);
}

TEST(StateCopies, Bdf2ShapeShiftsTheConcentrationsTwiceAndEstimatesFromTheQuadratic) {
  Batch b = one_bilayer();
  const DfnShape& S = b.shape;
  ASSERT_EQ(S.time_order, 2);
  ASSERT_GT(S.o_xprev2, 0);
  const ThreeStates t = set_three_states(b);
  const Strided<double> v = b.view(0);
  for (long k = S.s_cs(); k < S.s_j(); ++k) v[S.o_xprev2 + k] = -1.0;  // overwritten by the shift
  predict_state(S, v, 2.0, 1.0, /*shift=*/true);
  auto differential = [&](long k) { return (k >= S.s_ce() && k < S.s_ce() + S.nx) || (k >= S.s_cs() && k < S.s_j()); };
  for (long k = 0; k < S.state_size; ++k) {
    if (differential(k)) {
      EXPECT_EQ(v[S.o_xprev2 + k], t.xprev[k]) << k;  // xprev2 <- xprev
    }
    EXPECT_EQ(v[S.o_xprev + k], t.xold[k]) << k;
    EXPECT_EQ(v[S.o_xold + k], t.x[k]) << k;
  }
  expect_prediction(b, t.x, t.xold, 2.0, t);  // the guess stays linear
  // The error estimate's order-2 predictor: the quadratic through (0, x), (-h1, xold),
  // (-h1 - h2, xprev) at h, here in its Lagrange form.
  const double h = 1.5, h1 = 1.0, h2 = 0.5, t1 = -h1, t2 = -h1 - h2;
  const Extrapolation ex = extrapolation(/*order=*/2, h, h1, h2);
  ASSERT_TRUE(ex.quadratic);
  for (long k = 0; k < S.state_size; ++k) {
    double x0;
    const double got = extrapolate_entry(S, v, k, /*shift=*/false, ex, x0, differential(k));
    const double quad = t.x[k] * (h - t1) * (h - t2) / (t1 * t2) + t.xold[k] * h * (h - t2) / (t1 * (t1 - t2)) +
                        t.xprev[k] * h * (h - t1) / (t2 * (t2 - t1));
    const double expected = differential(k) ? quad : t.x[k] + h / h1 * (t.x[k] - t.xold[k]);
    EXPECT_NEAR(got, expected, 1e-12 * std::fabs(expected) + 1e-300) << k;
  }
}

TEST(StateCopies, PredictorAfterAConvergedAttemptTakesTheChordThroughIt) {
  Batch b = one_bilayer();
  ThreeStates t = set_three_states(b);
  // x: the converged state of an attempt of length 2 from xold; the next attempt, of
  // length 0.5, starts from xold + 0.25 (x - xold), xprev unused.
  const Strided<double> v = b.view(0);
  predict_state(b.shape, v, 0.5, 1.0, /*shift=*/false, /*converged_len_s=*/2.0);
  EXPECT_EQ(copy_of(b, b.shape.o_xprev), t.xprev);
  EXPECT_EQ(copy_of(b, b.shape.o_xold), t.xold);
  const std::vector<double> x = copy_of(b, b.shape.o_x);
  for (long k = 0; k < b.shape.state_size; ++k) {
    const double chord = t.xold[k] + 0.25 * (t.x[k] - t.xold[k]);
    if (k == t.ce_cut || k == t.cs_cut) continue;  // 0.3 xold: inside the range at a quarter
    EXPECT_NEAR(x[k], chord, 1e-15 * std::fabs(chord)) << k;
  }
  EXPECT_NEAR(x[t.ce_cut], 0.825 * t.xold[t.ce_cut], 1e-12 * t.xold[t.ce_cut]);
}

TEST(StateCopies, TheStepThatEndsOnTheEventStartsNextToItsConvergedProbe) {
  // The event bracket's probes and the step that ends on the crossed side b all start
  // from the last accepted state; the chord through the last converged probe puts the
  // end step's guess at (or next to) its solution.
  Batch b = one_bilayer();
  const std::vector<AttemptTrace> traces = trace_attempts(b, 10000);
  ASSERT_EQ(traces.size(), 1u);
  const AttemptTrace& tr = traces[0];
  int finishes = 0, probes = 0;
  for (size_t a = 0; a < tr.kind.size(); ++a) {
    if (tr.kind[a] == (int)AttemptKind::Locate) ++probes;
    if (tr.kind[a] != (int)AttemptKind::Finish) continue;
    ++finishes;
    EXPECT_LE(tr.newton_iterations[a], 2) << "attempt " << a;
  }
  EXPECT_EQ(finishes, 1);  // one protocol step, ended by its 3.6 V limit
  EXPECT_GE(probes, 2);
}

TEST(StateCopies, AVariantFailingOnARejectedAttemptEndsOnItsLastAcceptedState) {
  // Salt transport cut to 3%: the 3C charge depletes the electrolyte after accepted
  // steps and the variant fails on rejections (as in test_pass_unit.cpp).
  Batch b = one_bilayer();
  for (int i = 0; i < b.shape.nx; ++i) b.view(0)[b.shape.o_trans + i] *= 3e-2;
  run_batch_cpu(b, 1);
  ASSERT_EQ(test::status(b, 0), (int)VariantStatus::ElectrolyteDepleted);
  ASSERT_GT(test::out(b, 0, 0, kOutTimeSteps), 0.0);
  // x was restored from xold (the start of the failed attempts, the last accepted state).
  EXPECT_EQ(copy_of(b, b.shape.o_x), copy_of(b, b.shape.o_xold));
  const Strided<double> v = b.view(0);
  const double V_end = measured_potential_V(b.shape, v, b.shape.o_x, locate_reference(b.shape, v));
  EXPECT_TRUE(std::isfinite(V_end));
  EXPECT_EQ(test::out(b, 0, 0, kOutEndPotential_V), V_end);
}

}  // namespace
}  // namespace strata
