// The models of how a warp's variants keep in step (host/warp_model.hpp), on traces
// worked by hand, and the attempt trace of a real batch.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

#include "host/warp_model.hpp"
#include "tests/unit/test_support.hpp"

namespace strata {
namespace {

// A trace from (protocol step, kind, Newton iterations) triples; kinds 0 step,
// 1 event probe, 2 event finish.
AttemptTrace trace(const std::vector<std::array<int, 3>>& attempts) {
  AttemptTrace t;
  for (const auto& a : attempts) {
    t.protocol_step.push_back(a[0]);
    t.kind.push_back(a[1]);
    t.newton_iterations.push_back(a[2]);
  }
  return t;
}

TEST(WarpLaneEfficiency, SlowestVariantHoldsItsWarp) {
  EXPECT_DOUBLE_EQ(warp_lane_efficiency(std::vector<long>(64, 7)), 1.0);
  std::vector<long> w(32, 1);
  w[5] = 4;  // one slow lane: 35 of 128 lane-units busy
  EXPECT_DOUBLE_EQ(warp_lane_efficiency(w), 35.0 / 128.0);
  EXPECT_DOUBLE_EQ(warp_lane_efficiency({2, 4, 1}, 2), (6.0 + 1.0) / (8.0 + 1.0));  // last warp: its own lane
  EXPECT_DOUBLE_EQ(warp_lane_efficiency({}), 1.0);
}

TEST(WarpLoopModel, IdenticalVariantsKeepInStep) {
  const AttemptTrace t = trace({{0, 0, 3}, {0, 0, 4}, {0, 1, 2}, {0, 2, 3}, {1, 0, 2}});
  const WarpLoopModel m = warp_loop_model(std::vector<AttemptTrace>(40, t));
  EXPECT_DOUBLE_EQ(m.nested, 1.0);
  EXPECT_DOUBLE_EQ(m.flat_attempts, 1.0);
  EXPECT_DOUBLE_EQ(m.flat_iterations, 1.0);
}

// Two lanes, one protocol step. A: attempts of 1, 5, 2 iterations. B: 3, then 4 with
// an event located by two probes of 2 and a finish of 3 (22 iterations in all).
// Nested: the passes cost 3, max(5, 4) + 7 (B's event while A waits), 2: 17 per lane.
// One attempt per pass: max(1,3) + max(5,4) + 2 + 2 + 3 = 15. Per iteration: B's 14.
TEST(WarpLoopModel, EventLocationHoldsTheWarpOnlyInNestedLoops) {
  const std::vector<AttemptTrace> w = {trace({{0, 0, 1}, {0, 0, 5}, {0, 0, 2}}),
                                       trace({{0, 0, 3}, {0, 0, 4}, {0, 1, 2}, {0, 1, 2}, {0, 2, 3}})};
  const WarpLoopModel m = warp_loop_model(w, 2);
  EXPECT_DOUBLE_EQ(m.nested, 22.0 / 34.0);
  EXPECT_DOUBLE_EQ(m.flat_attempts, 22.0 / 30.0);
  EXPECT_DOUBLE_EQ(m.flat_iterations, 22.0 / 28.0);
}

// Two lanes locating their events at the same time step probe in lockstep, probe by
// probe. A: step 2, probes 3 and 1, finish 2 (8). B: step 2, probes 1, 1 and 4, finish 1
// (9). Nested: 2 + (max(3,1) + max(1,1) + 4) + max(2,1) = 12 per lane. One attempt per
// pass: 2 + 3 + 1 + max(2,4) + 1 = 11. Per iteration: B's 9.
TEST(WarpLoopModel, LanesLocatingTogetherProbeInLockstep) {
  const std::vector<AttemptTrace> w = {trace({{0, 0, 2}, {0, 1, 3}, {0, 1, 1}, {0, 2, 2}}),
                                       trace({{0, 0, 2}, {0, 1, 1}, {0, 1, 1}, {0, 1, 4}, {0, 2, 1}})};
  const WarpLoopModel m = warp_loop_model(w, 2);
  EXPECT_DOUBLE_EQ(m.nested, 17.0 / 24.0);
  EXPECT_DOUBLE_EQ(m.flat_attempts, 17.0 / 22.0);
  EXPECT_DOUBLE_EQ(m.flat_iterations, 17.0 / 18.0);
}

// Nested loops line the lanes up at every protocol step: A (2 | 2) and B (1, 1 | 2)
// cost max(2,1) + 1 + 2 = 5 per lane nested; one attempt per pass pairs A's second
// protocol step with B's second attempt of the first: 2 + 2 + 2 = 6.
TEST(WarpLoopModel, NestedLoopsAlignProtocolSteps) {
  const std::vector<AttemptTrace> w = {trace({{0, 0, 2}, {1, 0, 2}}), trace({{0, 0, 1}, {0, 0, 1}, {1, 0, 2}})};
  const WarpLoopModel m = warp_loop_model(w, 2);
  EXPECT_DOUBLE_EQ(m.nested, 8.0 / 10.0);
  EXPECT_DOUBLE_EQ(m.flat_attempts, 8.0 / 12.0);
}

// The trace holds every Newton iteration the protocol steps count, and tracing
// changes nothing of the run.
TEST(TraceAttempts, SeesEveryNewtonIterationAndChangesNothing) {
  const Scenario s = test::bilayer_scenario({"Charge at 3C until 3.6 V", "Rest for 30 seconds",
                                             "Discharge at 1C until 2.5 V"});
  std::vector<ResolvedVariant> vars;
  for (int k = 0; k < 6; ++k) {
    Scenario v = s;
    v.layers[0].thickness_m = (30 + 8 * k) * 1e-6;
    vars.push_back({"d" + std::to_string(k), v, ""});
  }
  Batch plain = build_batch(vars, Layout::Blocked), traced = build_batch(vars, Layout::Blocked);
  run_batch_cpu(plain, 1);
  const std::vector<AttemptTrace> t = trace_attempts(traced);
  ASSERT_EQ(t.size(), vars.size());
  for (int v = 0; v < plain.n_variants; ++v) {
    long iterations = 0, events = 0;
    for (size_t a = 0; a < t[v].kind.size(); ++a) {
      iterations += t[v].newton_iterations[a];
      events += t[v].kind[a] == 2;
      EXPECT_GE(t[v].protocol_step[a], 0);
      EXPECT_LT(t[v].protocol_step[a], 3);
    }
    EXPECT_EQ(iterations, (long)plain.view(v)[plain.shape.o_misc + kMiscNewtonIters]) << v;
    EXPECT_EQ(events, 2) << v;  // the charge and the discharge end on a located limit
  }
  ASSERT_EQ(plain.records.size(), traced.records.size());
  EXPECT_EQ(std::memcmp(plain.records.data(), traced.records.data(), 8 * plain.records.size()), 0);
  EXPECT_EQ(std::memcmp(plain.outputs.data(), traced.outputs.data(), 8 * plain.outputs.size()), 0);
  EXPECT_THROW(trace_attempts(plain = build_batch(vars, Layout::Blocked), 10), std::runtime_error);
}

}  // namespace
}  // namespace strata
