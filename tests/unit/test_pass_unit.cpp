// The integrator's pass unit (kernels/dfn_protocol.hpp, PassUnit) changes how much
// Newton work one pass of its loop runs, never the results: a whole attempt per pass
// (the CPU backend) and one Newton iteration per pass give the same bits in records,
// outputs and trajectories, over mixed designs, a protocol whose steps end on limits,
// on durations and at their start, and variants that fail before the protocol and
// inside a step.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "host/cpu_backend.hpp"
#include "kernels/dfn_protocol.hpp"
#include "tests/unit/test_support.hpp"

namespace strata {
namespace {

// Variants made to end otherwise: a NaN particle radius (fails before the protocol), a
// limit of 8 time steps per protocol step (TooManySteps in the first step), and salt
// transport cut to 3% (the 3C charge depletes the electrolyte after accepted steps).
constexpr int kFirstBroken = 13, kBrokenEvery = 17;
constexpr int kShortOfSteps = 7, kStarved = 9;

Batch mixed_batch() {
  const std::vector<ResolvedVariant> vars = test::mixed_bilayer_designs(
      test::bilayer_scenario({"Charge at 3C until 3.6 V", "Rest for 30 seconds", "Discharge at 1C until 2.5 V",
                              "Hold at 2.5 V until 0.05C", "Charge at 2C for 600 seconds", "Charge at 1C until 3.6 V",
                              "Charge at 1C until 3.6 V"}),
      40);
  Batch b = build_batch(vars, Layout::Interleaved);
  for (int v = kFirstBroken; v < b.n_variants; v += kBrokenEvery)
    b.view(v)[b.shape.o_slot + kSlotRadius_m] = std::numeric_limits<double>::quiet_NaN();
  b.view(kShortOfSteps)[b.shape.o_scalar + kMaxStepsPerProtocolStep] = 8;
  for (int i = 0; i < b.shape.nx; ++i) b.view(kStarved)[b.shape.o_trans + i] *= 3e-2;
  TrajectorySpec ts;
  ts.enabled = 1;
  ts.interval_s = 15.0;
  ts.capacity = 300;
  b.enable_trajectories(ts);
  return b;
}

TEST(PassUnit, OneNewtonIterationPerPassGivesTheSameBitsAsOneAttempt) {
  Batch b = mixed_batch(), by_iteration = mixed_batch();
  run_batch_cpu(b, 0);  // PassUnit::Attempt
  for (int v = 0; v < by_iteration.n_variants; ++v)
    run_protocol<PassUnit::NewtonIteration>(by_iteration.shape, by_iteration.tables, by_iteration.view(v),
                                            by_iteration.steps.data(), (int)by_iteration.steps.size(),
                                            by_iteration.out_view(v), by_iteration.trajectory_spec,
                                            by_iteration.trajectory_view(v));
  EXPECT_EQ(std::memcmp(b.records.data(), by_iteration.records.data(), 8 * b.records.size()), 0);
  EXPECT_EQ(std::memcmp(b.outputs.data(), by_iteration.outputs.data(), 8 * b.outputs.size()), 0);
  EXPECT_EQ(std::memcmp(b.trajectories.data(), by_iteration.trajectories.data(), 8 * b.trajectories.size()), 0);

  // What the batch exercises.
  const int n_steps = (int)b.steps.size();
  auto status = [&](int v) { return (VariantStatus)test::status(b, v); };
  auto end = [&](int v, int k) { return (StepEnd)(int)test::out(b, v, k, kOutEndReason); };
  int failed_elsewhere = 0, limit = 0, duration = 0, at_start = 0;
  for (int v = 0; v < b.n_variants; ++v) {
    const bool broken = v >= kFirstBroken && (v - kFirstBroken) % kBrokenEvery == 0;
    if (broken) EXPECT_NE(status(v), VariantStatus::Ok) << v;
    else if (v != kShortOfSteps && v != kStarved) failed_elsewhere += status(v) != VariantStatus::Ok;
    for (int k = 0; k < n_steps; ++k) {
      limit += end(v, k) == StepEnd::Limit;
      duration += end(v, k) == StepEnd::Duration;
      at_start += end(v, k) == StepEnd::AtStart;
    }
  }
  EXPECT_EQ(failed_elsewhere, 0);
  EXPECT_EQ(status(kShortOfSteps), VariantStatus::TooManySteps);
  EXPECT_EQ(end(kShortOfSteps, 0), StepEnd::Failed);
  EXPECT_EQ(status(kStarved), VariantStatus::ElectrolyteDepleted);
  EXPECT_EQ(end(kStarved, 0), StepEnd::Failed);  // inside the first charge, after accepted steps
  EXPECT_GT(test::out(b, kStarved, 0, kOutTimeSteps), 0.0);
  EXPECT_GT(limit, 100);
  EXPECT_GT(duration, 60);
  EXPECT_GT(at_start, 30);  // the second charge to 3.6 V finds the limit reached
  std::printf("step ends: %d on a limit, %d on duration, %d at start\n", limit, duration, at_start);
}

}  // namespace
}  // namespace strata
