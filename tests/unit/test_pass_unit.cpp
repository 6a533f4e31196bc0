// The integrator's pass unit (kernels/dfn_protocol.hpp, PassUnit) changes how much
// Newton work one pass of its loop runs, never the results: a whole attempt per pass
// (the CPU backend) and one Newton iteration per pass give the same bits in records,
// outputs and trajectories, over mixed designs, a protocol with every kind of step
// end, and failing variants.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "host/cpu_backend.hpp"
#include "kernels/dfn_protocol.hpp"
#include "tests/unit/test_support.hpp"

namespace strata {
namespace {

constexpr int kFirstBroken = 13, kBrokenEvery = 17;

Batch mixed_batch() {
  const Scenario base = test::bilayer_scenario(
      {"Charge at 3C until 3.6 V", "Rest for 30 seconds", "Discharge at 1C until 2.5 V", "Hold at 2.5 V until 0.05C",
       "Charge at 2C for 600 seconds", "Charge at 1C until 3.6 V"});
  std::vector<ResolvedVariant> vars;
  for (int k = 0; k < 40; ++k) {
    Scenario s = base;
    s.layers[0].thickness_m = (30 + (k % 10) * 4) * 1e-6;
    s.layers[1].porosity = 0.3 + 0.02 * ((k / 10) % 10);
    if (k % 2) std::swap(s.layers[0], s.layers[1]);
    if (k % 5 == 0) {
      LayerMaterial second = s.layers[0].materials[0];
      second.material = second.material == "sloping" ? "plateau" : "sloping";
      s.layers[0].materials[0].solid_volume_fraction = 0.5;
      second.solid_volume_fraction = 0.3;
      s.layers[0].materials.push_back(second);
    }
    vars.push_back({"d" + std::to_string(k), s, ""});
  }
  Batch b = build_batch(vars, Layout::Interleaved);
  for (int v = kFirstBroken; v < b.n_variants; v += kBrokenEvery)  // fails in the run
    b.view(v)[b.shape.o_slot + kSlotRadius_m] = std::numeric_limits<double>::quiet_NaN();
  TrajectorySpec ts;
  ts.enabled = 1;
  ts.interval_s = 15.0;
  ts.capacity = 300;
  b.enable_trajectories(ts);
  return b;
}

TEST(PassUnit, OneNewtonIterationPerPassGivesTheSameBitsAsOneAttempt) {
  Batch by_attempt = mixed_batch(), by_iteration = mixed_batch();
  run_batch_cpu(by_attempt, 0);  // PassUnit::Attempt
  for (int v = 0; v < by_iteration.n_variants; ++v)
    run_protocol<PassUnit::NewtonIteration>(by_iteration.shape, by_iteration.tables, by_iteration.view(v),
                                            by_iteration.steps.data(), (int)by_iteration.steps.size(),
                                            by_iteration.out_view(v), by_iteration.trajectory_spec,
                                            by_iteration.trajectory_view(v));
  int failed = 0, failed_unbroken = 0, ended_by_limit = 0;
  for (int v = 0; v < by_attempt.n_variants; ++v) {
    const bool broken = v >= kFirstBroken && (v - kFirstBroken) % kBrokenEvery == 0;
    const bool f = by_attempt.view(v)[by_attempt.shape.o_misc + kMiscStatus] != 0.0;
    failed += f;
    failed_unbroken += f && !broken;
    ended_by_limit += by_attempt.out_view(v)[kOutEndReason] == (double)StepEnd::Limit;
  }
  EXPECT_EQ(failed, 2);  // designs 13 and 30, and they only
  EXPECT_EQ(failed_unbroken, 0);
  EXPECT_GT(ended_by_limit, 30);
  EXPECT_EQ(std::memcmp(by_attempt.records.data(), by_iteration.records.data(), 8 * by_attempt.records.size()), 0);
  EXPECT_EQ(std::memcmp(by_attempt.outputs.data(), by_iteration.outputs.data(), 8 * by_attempt.outputs.size()), 0);
  EXPECT_EQ(std::memcmp(by_attempt.trajectories.data(), by_iteration.trajectories.data(),
                        8 * by_attempt.trajectories.size()),
            0);
}

}  // namespace
}  // namespace strata
