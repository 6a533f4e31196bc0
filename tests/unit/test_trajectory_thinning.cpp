// Thinning of a full trajectory (kernels/trajectory.hpp, thin_samples): every other
// sample of the step holding the most goes, except the start and each protocol step's
// first and last, so a curve keeps its ends, a long protocol keeps its every step
// however small the series, and a fast step after slow ones keeps its interval.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "host/cpu_backend.hpp"
#include "host/simulate.hpp"
#include "kernels/trajectory.hpp"
#include "test_support.hpp"

namespace strata {
namespace {

struct Sample {
  double t, step, I, V, Q, kept;
};

std::vector<Sample> samples(Batch& b, int v) {
  const Strided<double> tr = b.trajectory_view(v);
  const TrajectoryLayout& L = b.trajectory_layout;
  std::vector<Sample> out;
  for (long k = 0; k < (long)tr[L.o_count]; ++k) {
    const long o = L.o_samples + k * L.sample_size;
    out.push_back({tr[o + kSampleTime_s], tr[o + kSampleStep], tr[o + kSampleCurrent_A_m2], tr[o + kSamplePotential_V],
                   tr[o + kSampleCapacity_C_m2], tr[o + kSampleKept]});
  }
  return out;
}

Batch run_with_capacity(const Scenario& s, int capacity, double interval_s = 0.0) {
  Batch b = build_batch({ResolvedVariant{"v0", s, ""}}, Layout::Blocked);
  TrajectorySpec ts;
  ts.enabled = 1;
  ts.interval_s = interval_s;  // 0: a sample per accepted step
  ts.capacity = capacity;
  b.enable_trajectories(ts);
  run_batch_cpu(b, 1);
  return b;
}

TEST(TrajectoryThinning, KeepsEveryProtocolStepsFirstAndLastSample) {
  // Nine protocol steps, hundreds of accepted time steps, a series of 10 samples.
  Scenario s = test::bilayer_scenario({"Charge at 1C until 3.6 V", "Rest for 60 seconds", "Discharge at 1C until 2.3 V",
                                       "Rest for 60 seconds", "Charge at 3C until 3.6 V", "Hold at 3.6 V until 0.5C",
                                       "Rest for 5 seconds", "Discharge at 3C until 2.3 V", "Rest for 60 seconds"});
  const int n_steps = 9;
  Batch full = run_with_capacity(s, 100000);
  Batch thin = run_with_capacity(s, 10);
  ASSERT_EQ(test::status(full, 0), 0);
  ASSERT_EQ(test::status(thin, 0), 0);
  const std::vector<Sample> all = samples(full, 0), kept = samples(thin, 0);
  ASSERT_GT(all.size(), 200u);
  // Thinned, within its slots: 10 plus the 2 n + 1 kept.
  EXPECT_LE(kept.size(), 10u + 2u * n_steps + 1u);
  EXPECT_GE(kept.size(), 2u * n_steps + 1u);

  // Every kept sample of the thinned series is one of the full series (thinning moves
  // no value), in time order. (The others are interpolated once thinning has made the
  // interval longer than the accepted steps.)
  size_t j = 0;
  for (const Sample& x : kept) {
    if (x.kept == 0.0) continue;
    while (j < all.size() && all[j].t != x.t) ++j;
    ASSERT_LT(j, all.size()) << "sample at t = " << x.t << " is not in the full series";
    EXPECT_EQ(x.V, all[j].V);
    EXPECT_EQ(x.Q, all[j].Q);
    EXPECT_EQ(x.step, all[j].step);
  }

  // Each step: present, its first sample that of the full series (the jump after the
  // first time step), its last at the step's end with the population's end values.
  const double mass_g_m2 = thin.view(0)[thin.shape.o_scalar + kActiveMass_kg_m2] * 1000.0;
  for (int k = 0; k < n_steps; ++k) {
    auto first_of = [k](const std::vector<Sample>& v) {
      return std::find_if(v.begin(), v.end(), [k](const Sample& x) { return x.step == k; });
    };
    auto last_of = [k](const std::vector<Sample>& v) {
      return std::find_if(v.rbegin(), v.rend(), [k](const Sample& x) { return x.step == k; });
    };
    const auto f = first_of(kept), fa = first_of(all);
    ASSERT_NE(f, kept.end()) << "step " << k << " has no sample";
    EXPECT_EQ(f->t, fa->t) << "step " << k;
    EXPECT_EQ(f->kept, 1.0) << "step " << k;
    const auto l = last_of(kept);
    EXPECT_EQ(l->kept, 1.0) << "step " << k;
    EXPECT_EQ(l->t, last_of(all)->t) << "step " << k;
    EXPECT_EQ(l->V, test::out(thin, 0, k, kOutEndPotential_V)) << "step " << k;
    EXPECT_NEAR(l->Q / 3.6 / mass_g_m2, test::capacity_mAh_g(thin, 0, k), 1e-12) << "step " << k;
  }
  // Between the kept samples the series is still thinned: some samples are not kept.
  EXPECT_GT(std::count_if(kept.begin(), kept.end(), [](const Sample& x) { return x.kept == 0.0; }), 0);
}

// Thinning takes from the step holding the most samples, and each step starts at the
// interval asked for: after two slow steps that fill the series, a 3C charge is still
// sampled every 10 s (until 2026-12-07 the doubled interval of the slow steps carried
// over: the default scenario's 3C charge got 23 samples, 38 s apart, instead of 86),
// and the two slow steps of equal length keep about equal shares.
TEST(TrajectoryThinning, AFastStepAfterSlowOnesKeepsTheIntervalAskedFor) {
  const Scenario s = test::bilayer_scenario(
      {"Charge at 0.2C until 3.6 V", "Discharge at 0.2C until 2.3 V", "Charge at 3C until 3.6 V"});
  const int capacity = 300;
  Batch b = run_with_capacity(s, capacity, 10.0);
  ASSERT_EQ(test::status(b, 0), 0);
  const std::vector<Sample> xs = samples(b, 0);
  EXPECT_LE(xs.size(), (size_t)capacity + 2u * 3u + 1u);
  long per_step[3] = {0, 0, 0};
  for (const Sample& x : xs) ++per_step[(int)x.step];
  const double fast_s = test::out(b, 0, 2, kOutDuration_s), slow_s = test::out(b, 0, 0, kOutDuration_s);
  ASSERT_GT(slow_s / 10.0, 2.0 * capacity) << "the slow steps alone must overfill the series";
  // Every 10 s over the 3C charge (its first sample after its first time step, its last at its end).
  EXPECT_GE(per_step[2], (long)std::floor(fast_s / 10.0)) << "3C charge of " << fast_s << " s";
  for (size_t k = 1; k < xs.size(); ++k) {
    if (xs[k].step == 2 && xs[k - 1].step == 2) {
      EXPECT_LE(xs[k].t - xs[k - 1].t, 10.0 + 1e-9) << "at t = " << xs[k].t;
    }
  }
  EXPECT_LT(std::max(per_step[0], per_step[1]), 2 * std::min(per_step[0], per_step[1]) + 3)
      << per_step[0] << " and " << per_step[1] << " samples";
}

// A series full of short steps, each with its two kept ends and one ordinary sample
// between, has no step with two ordinary samples: thinning then counts over the whole
// series, so a full series always frees a slot and never outgrows its record.
TEST(TrajectoryThinning, ManyShortStepsNeverOverfillTheSeries) {
  DfnShape S;
  S.n_slots = 1;
  TrajectorySpec ts;
  ts.enabled = 1;
  ts.capacity = 10;
  ts.kept_slots = 2 * 40 + 1;
  const TrajectoryLayout L = trajectory_layout_of(S, ts);
  std::vector<double> record(L.record_size + 1, 0.0);
  record.back() = 12345.0;  // a guard just past the record
  const Strided<double> tr{record.data(), 1};
  const auto sodium = [](int) { return 1.0; };
  double t = 0.0;
  append_sample(S, ts, L, tr, t, 0, 0.0, 3.0, 0.0, sodium, true, true);  // the start
  for (int step = 0; step < 40; ++step) {
    append_sample(S, ts, L, tr, t += 1.0, step, 1.0, 3.0, 0.0, sodium, true, true);
    append_sample(S, ts, L, tr, t += 1.0, step, 1.0, 3.1, 1.0, sodium, true, false);
    append_sample(S, ts, L, tr, t += 1.0, step, 1.0, 3.2, 2.0, sodium, true, true);
    ASSERT_LE(tr[L.o_count], ts.capacity + ts.kept_slots) << "step " << step;
  }
  EXPECT_EQ(record.back(), 12345.0);
  long kept = 0;
  for (long k = 0; k < (long)tr[L.o_count]; ++k) kept += tr[L.o_samples + k * L.sample_size + kSampleKept] != 0.0;
  EXPECT_EQ(kept, 2 * 40 + 1) << "every step's ends and the start";
}

// A protocol step that ends at a voltage wall ends on its last accepted state
// (docs/physics.md 6), whose sample, taken as an ordinary one at interval 0, is then
// flagged kept as the step's end, so that a later step's thinning cannot drop it.
TEST(TrajectoryThinning, KeepsTheEndOfAStepThatEndsAtAVoltageWall) {
  // The 3C discharge to its wall, then a rest whose samples thin the series again.
  const Scenario s =
      test::nvpf_discharge_then_rest(std::string(STRATA_SOURCE_DIR) + "/tests/data/nvpf_1C_discharge/scenario.toml", "35.4");
  Batch b = build_batch(resolve_variants(s), Layout::Blocked);
  TrajectorySpec ts;
  ts.enabled = 1;
  ts.interval_s = 0.0;
  ts.capacity = 10;
  b.enable_trajectories(ts);
  run_batch_cpu(b, 1);
  test::expect_ended_at_the_nvpf_wall(b, 0, "thinned series");
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_EQ((int)test::out(b, 0, 0, kOutEndReason), (int)StepEnd::LimitUnlocated) << "the wall rule's end";
  const std::vector<Sample> xs = samples(b, 0);
  const auto last0 = std::find_if(xs.rbegin(), xs.rend(), [](const Sample& x) { return x.step == 0; });
  ASSERT_NE(last0, xs.rend());
  EXPECT_EQ(last0->kept, 1.0);
  EXPECT_EQ(last0->V, test::out(b, 0, 0, kOutEndPotential_V));
  EXPECT_NEAR(last0->Q, test::out(b, 0, 0, kOutCapacity_C_m2), 1e-9 * test::out(b, 0, 0, kOutCapacity_C_m2));
  EXPECT_GT(std::count_if(xs.begin(), xs.end(), [](const Sample& x) { return x.step == 1; }), 1);
}

}  // namespace
}  // namespace strata
