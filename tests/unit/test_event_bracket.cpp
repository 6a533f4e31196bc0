// The event bracket of the integrator (StepRun, kernels/dfn_protocol.hpp): regula falsi
// with the Illinois rule on the step length. Whether the limit is located is decided
// by g(b) as evaluated, not by the weight the Illinois rule halved.
#include <gtest/gtest.h>

#include "kernels/dfn_protocol.hpp"

namespace strata {
namespace {

StepRun bracket(double h, double g0, double gh, double tol) {
  StepRun r;
  r.h_s = h;
  r.tol = tol;
  r.open_bracket(h, g0, gh);
  return r;
}

TEST(EventBracket, ProbesMoveTheEndOnTheirSide) {
  StepRun r = bracket(2.0, -1e-3, 1e-3, 1e-5);
  EXPECT_TRUE(r.keep_locating());
  r.narrow_bracket(1.2, 2e-4);
  EXPECT_EQ(r.b, 1.2);
  EXPECT_EQ(r.gb_seen, 2e-4);
  r.narrow_bracket(0.9, -3e-4);
  EXPECT_EQ(r.a, 0.9);
  EXPECT_EQ(r.ga, -3e-4);
  EXPECT_EQ(r.probes, 2);
}

// The case met in the Brown design checks at rtol 1e-7: two probes in a row on the
// a side halve b's weight below the tolerance while g(b) itself is above it. The
// search must go on (it stopped there, and the step ended 1.6e-5 V past a 1e-5 V
// tolerance, reported as located).
TEST(EventBracket, AHalvedWeightDoesNotCountAsLocated) {
  StepRun r = bracket(1.14652149, -1.799e-4, 1.557e-5, 1e-5);
  r.narrow_bracket(1.05519622, -1.513e-8);
  r.narrow_bracket(1.05528488, -1.283e-12);
  EXPECT_LT(r.gb, r.tol);  // the Illinois weight
  EXPECT_EQ(r.gb_seen, 1.557e-5);
  EXPECT_TRUE(r.keep_locating());
  r.narrow_bracket(1.05528490, 4e-6);
  EXPECT_FALSE(r.keep_locating());
}

}  // namespace
}  // namespace strata
