#include <gtest/gtest.h>

#include "tests/unit/test_support.hpp"

using namespace strata;

TEST(DfnSmoke, BilayerChargesToCutoff) {
  Scenario s = test::bilayer_scenario({"Charge at 1C until 3.6 V"});
  Batch b = test::run_scenarios({s});
  EXPECT_EQ(test::status(b, 0), 0) << status_reason((VariantStatus)test::status(b, 0));
  const double cap = test::capacity_mAh_g(b, 0, 0);
  std::printf("cap %.4f mAh/g, V_end %.6f, steps %.0f newton %.0f duration %.1f\n", cap,
              test::out(b, 0, 0, kOutEndPotential_V), test::out(b, 0, 0, kOutTimeSteps),
              test::out(b, 0, 0, kOutNewtonIterations), test::out(b, 0, 0, kOutDuration_s));
  EXPECT_GT(cap, 10.0);
  EXPECT_NEAR(test::out(b, 0, 0, kOutEndPotential_V), 3.6, 1e-4);
}
