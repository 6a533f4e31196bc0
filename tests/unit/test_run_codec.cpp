// The byte encoding that MPI mode broadcasts and gathers: every request and outcome
// field round-trips bit for bit (NaN and -0.0 included); a truncated message is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "host/run_codec.hpp"

using namespace strata;

namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

RunRequest sample_request() {
  RunRequest q;
  VariantSpec a;
  a.label = "thin, porous";
  a.overrides = {{"layers[0].porosity", 0.1 + 0.2}, {"layers[0].thickness_m", 2.5e-5}};
  a.material_overrides = {{"layers[0].materials[0].name", "NVP"}};
  a.layer_order = {1, 0};
  VariantSpec b;
  b.label = "";
  q.specs = {a, b};
  q.ids = {7, 123456789012LL};
  q.record = true;
  q.trajectory_spec.enabled = 1;
  q.trajectory_spec.capacity = 4000;
  q.trajectory_spec.interval_s = 0.25;
  q.trajectory_spec.n_profiles = 1;
  q.trajectory_spec.profiles[0].step = 2;
  q.trajectory_spec.profiles[0].value = 1.5;
  q.name_trajectories = true;
  q.cancellable = true;
  return q;
}

}  // namespace

TEST(RunCodec, RequestRoundTripsEveryField) {
  const RunRequest q = sample_request();
  const RunRequest r = decode_request(encode_request(q));
  ASSERT_EQ(r.specs.size(), 2u);
  EXPECT_EQ(r.specs[0].label, "thin, porous");
  EXPECT_EQ(r.specs[0].overrides, q.specs[0].overrides);
  EXPECT_TRUE(same_bits(r.specs[0].overrides.at("layers[0].porosity"), 0.1 + 0.2));
  EXPECT_EQ(r.specs[0].material_overrides, q.specs[0].material_overrides);
  EXPECT_EQ(r.specs[0].layer_order, (std::vector<int>{1, 0}));
  EXPECT_TRUE(r.specs[1].overrides.empty());
  EXPECT_EQ(r.ids, q.ids);
  EXPECT_TRUE(r.record);
  EXPECT_TRUE(r.name_trajectories);
  EXPECT_TRUE(r.cancellable);
  EXPECT_EQ(r.trajectory_spec.capacity, 4000);
  EXPECT_EQ(r.trajectory_spec.interval_s, 0.25);
  EXPECT_EQ(r.trajectory_spec.n_profiles, 1);
  EXPECT_EQ(r.trajectory_spec.profiles[0].step, 2);
  EXPECT_EQ(r.trajectory_spec.profiles[0].value, 1.5);
}

TEST(RunCodec, OutcomeRoundTripsBitForBit) {
  SliceOutcome s;
  VariantResult v;
  v.id = 42;
  v.label = "base";
  v.status = 3;
  v.reason = "Newton failed";
  v.active_mass_mg_cm2 = 1.0 / 3.0;
  StepResult st;
  st.capacity_mAh_g = std::numeric_limits<double>::quiet_NaN();
  st.charge_mAh_g = -0.0;
  st.end_potential_V = 3.6000000000000001;
  st.min_ce_mol_m3 = 612.25;
  st.max_ce_mol_m3 = 2000.0 / 3.0;
  st.time_steps = 1234;
  st.newton_iterations = 5678;
  st.end_reason = "limit";
  st.material_charge_mAh_g = {{"NMO", 12.5}, {"NVP", 1e-300}};
  st.layer_charge_mAh_g = {1.0, 2.0};
  v.steps = {st, StepResult{}};
  s.outcome.results = {v};
  s.outcome.ran = {1};
  TrajectoryData t;
  t.design_id = 42;
  t.label = "base";
  t.time_s = {0.0, 1.5};
  t.step = {0, 1};
  t.material_soc = {0.1, std::nan("")};
  TrajectoryData::Profile p;
  p.request = 1;
  p.at = "end";
  p.x_m = {1e-6, 2e-6};
  p.eta_V = {0.01};
  t.profiles = {p};
  s.outcome.trajectories = {t};
  s.outcome.totals.time_steps = 99;
  s.outcome.totals.ok = 1;
  s.outcome.wall_s = 0.125;
  const SliceOutcome r = decode_outcome(encode_outcome(s));
  EXPECT_EQ(r.error, "");
  ASSERT_EQ(r.outcome.results.size(), 1u);
  const VariantResult& w = r.outcome.results[0];
  EXPECT_EQ(w.id, 42);
  EXPECT_EQ(w.reason, "Newton failed");
  EXPECT_TRUE(same_bits(w.active_mass_mg_cm2, 1.0 / 3.0));
  ASSERT_EQ(w.steps.size(), 2u);
  EXPECT_TRUE(std::isnan(w.steps[0].capacity_mAh_g));
  EXPECT_TRUE(same_bits(w.steps[0].charge_mAh_g, -0.0));
  EXPECT_TRUE(same_bits(w.steps[0].min_ce_mol_m3, 612.25));
  EXPECT_TRUE(same_bits(w.steps[0].max_ce_mol_m3, 2000.0 / 3.0));
  EXPECT_EQ(w.steps[0].time_steps, 1234);
  EXPECT_EQ(w.steps[0].newton_iterations, 5678);
  EXPECT_EQ(w.steps[0].material_charge_mAh_g, st.material_charge_mAh_g);
  EXPECT_EQ(w.steps[0].layer_charge_mAh_g, st.layer_charge_mAh_g);
  EXPECT_EQ(w.steps[1].end_reason, "");
  EXPECT_EQ(r.outcome.ran, std::vector<char>{1});
  ASSERT_EQ(r.outcome.trajectories.size(), 1u);
  EXPECT_EQ(r.outcome.trajectories[0].time_s, t.time_s);
  EXPECT_TRUE(std::isnan(r.outcome.trajectories[0].material_soc[1]));
  ASSERT_EQ(r.outcome.trajectories[0].profiles.size(), 1u);
  EXPECT_EQ(r.outcome.trajectories[0].profiles[0].x_m, p.x_m);
  EXPECT_EQ(r.outcome.trajectories[0].profiles[0].at, "end");
  EXPECT_EQ(r.outcome.totals.time_steps, 99);
  EXPECT_EQ(r.outcome.wall_s, 0.125);
}

TEST(RunCodec, TruncatedMessageIsRefused) {
  const std::string bytes = encode_request(sample_request());
  EXPECT_THROW(decode_request(bytes.substr(0, bytes.size() / 2)), CodecError);
  SliceOutcome s;
  s.error = "rank 2: cannot load";
  const std::string ob = encode_outcome(s);
  EXPECT_EQ(decode_outcome(ob).error, "rank 2: cannot load");
  EXPECT_THROW(decode_outcome(ob.substr(0, 5)), CodecError);
}

// A slice whose results exceed one MPI message is sent as an error that says so (every
// rank still takes part in the exchange, and the batch fails with the reason); within
// the limit, the encoding itself.
TEST(RunCodec, AnOutcomeBeyondOneMessageBecomesAnErrorThatSaysSo) {
  SliceOutcome s;
  for (int k = 0; k < 50; ++k) {
    VariantResult v;
    v.id = k;
    v.label = "design " + std::to_string(k);
    s.outcome.results.push_back(v);
  }
  const std::string full = encode_outcome(s);
  EXPECT_EQ(encode_outcome_within(s, 3, full.size()), full);
  const SliceOutcome e = decode_outcome(encode_outcome_within(s, 3, full.size() - 1));
  EXPECT_TRUE(e.outcome.results.empty());
  EXPECT_NE(e.error.find("rank 3: the results of its 50 designs take " + std::to_string(full.size()) + " bytes"),
            std::string::npos)
      << e.error;
  EXPECT_NE(e.error.find("smaller [output] batch_size"), std::string::npos);
}
