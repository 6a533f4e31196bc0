// The memory side of the cost model in docs/performance.md ("Cost per time step"):
// the counted record accesses of the reference bilayer at the default resolution.
// When the numerics change, this fails until the table is updated.
#include <gtest/gtest.h>

#include "host/access_count.hpp"
#include "host/scenario_loader.hpp"
#include "host/simulate.hpp"

namespace strata {
namespace {

TEST(CostModel, ReferenceBilayerRecordAccesses) {
  const Scenario base = load_scenario(std::string(STRATA_SOURCE_DIR) + "/scenarios/bench_bilayer_3C.toml");
  const std::vector<ResolvedVariant> vars = resolve_variants(base);
  const Batch b = build_batch({vars.front()}, Layout::Blocked);
  EXPECT_EQ(b.shape.nx, 21);
  EXPECT_EQ(b.shape.n_cols, 16);
  EXPECT_EQ(b.shape.time_order, 2);
  // docs: 2,170 doubles (2,169 before the two-electrode switch's scalar, 2,168 before the
  // step controller's, 2,167 before the Newton contraction limit's; 1,959 before BDF2's
  // third copy of c_e, c_s)
  EXPECT_EQ(b.shape.record_size, 2170);
  const AccessCount c = count_record_accesses(b, 0);
  EXPECT_GT(c.time_steps, 30);
  // docs: 6,299 accesses per Newton iteration with the convergence test of 2026-12-07
  // and the predictive step controller (variant 0: 3.33 iterations per step instead of
  // 4.27, so the bookkeeping of an attempt is spread over fewer iterations again);
  // 6,187 with the Newton contraction test (the same effect; 6,069 before it, with
  // BDF2 and the chord predictor; 6,021 before the chord; 5,945 with backward Euler, the only scheme
  // before 2026-12-06; 9,619 before the block
  // Thomas step stopped forming inverses and the particle columns stopped zeroing z,
  // 8,002 before the solvers carried the previous row in registers, 6,748 before the
  // assembly stopped zeroing the workspace and the predictor took over the state
  // copies, 2026-12-05); within 2%.
  EXPECT_NEAR(c.accesses_per_newton(), 6299.0, 0.02 * 6299.0);
  // Counting does not change the numerics: the same steps as the CPU backend.
  Batch run = build_batch({vars.front()}, Layout::Blocked);
  run_batch_cpu(run, 1);
  EXPECT_EQ(c.time_steps, (long)run.view(0)[run.shape.o_misc + kMiscTimeSteps]);
  EXPECT_EQ(c.newton_iterations, (long)run.view(0)[run.shape.o_misc + kMiscNewtonIters]);
}

}  // namespace
}  // namespace strata
