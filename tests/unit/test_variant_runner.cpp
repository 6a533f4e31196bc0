// What MPI mode and sharding rely on: a variant's results do not depend on the batch
// that ran it. The same variants run as one batch, one by one, and in uneven slices
// give bit-identical results (blocked and interleaved layouts), and sharing a batch
// with a variant that has more materials (so every variant gets padded material
// slots) changes nothing either.
#include <gtest/gtest.h>

#include "host/results.hpp"
#include "host/run_codec.hpp"
#include "host/scenario_loader.hpp"
#include "host/variant_expansion.hpp"
#include "host/variant_runner.hpp"
#include "tests/unit/process_helpers.hpp"
#include "tests/unit/test_support.hpp"

using namespace strata;
using namespace strata::test;

namespace {

Scenario sweep_scenario(const fs::path& dir) {
  std::string text = slurp(std::string(STRATA_TEST_DATA_DIR) + "/cli_good.toml");
  text.replace(text.find("path = \"../../materials\""), 24, "path = \"" + std::string(STRATA_SOURCE_DIR) + "/materials\"");
  text.erase(text.find("[[batch.variants]]"));
  text += "[batch.sweep]\n\"layers[0].porosity\" = { from = 0.30, to = 0.45, count = 4 }\n"
          "\"layers[0].thickness_m\" = { from = 20e-6, to = 60e-6, count = 2 }\n";
  spit(dir / "s.toml", text);
  return load_scenario((dir / "s.toml").string());
}

// The scenario's variants run in requests of the given sizes, results in id order.
std::vector<VariantResult> results_in_slices(LocalVariantRunner& runner, const Scenario& s,
                                             const std::vector<int>& slice_sizes) {
  std::vector<VariantResult> out;
  size_t next = 0;
  for (int n : slice_sizes) {
    RunRequest q;
    for (int k = 0; k < n; ++k, ++next) {
      q.specs.push_back(s.variants[next]);
      q.ids.push_back(static_cast<int64_t>(next));
    }
    RunOutcome o = runner.run(q);
    for (auto& r : o.results) out.push_back(std::move(r));
  }
  return out;
}

// One variant's results, every value's bits.
std::string bits(const VariantResult& r) {
  SliceOutcome so;
  so.outcome.results = {r};
  return encode_outcome(so);
}

}  // namespace

TEST(VariantRunner, ResultsDoNotDependOnTheBatch) {
  TempDir tmp;
  const Scenario s = sweep_scenario(tmp.path());
  ASSERT_EQ(s.variants.size(), 8u);
  for (Layout layout : {Layout::Blocked, Layout::Interleaved}) {
    LocalVariantRunner runner(s, 1, layout);
    const std::vector<VariantResult> whole = results_in_slices(runner, s, {8});
    const std::vector<VariantResult> alone = results_in_slices(runner, s, {1, 1, 1, 1, 1, 1, 1, 1});
    const std::vector<VariantResult> uneven = results_in_slices(runner, s, {3, 5});
    ASSERT_EQ(whole.size(), 8u);
    for (size_t k = 0; k < 8; ++k) {
      EXPECT_EQ(whole[k].status, 0) << k;
      EXPECT_EQ(bits(alone[k]), bits(whole[k])) << "variant " << k << " alone";
      EXPECT_EQ(bits(uneven[k]), bits(whole[k])) << "variant " << k << " in a slice of 3 or 5";
    }
  }
}

TEST(VariantRunner, PaddedMaterialSlotsChangeNothing) {
  const std::vector<std::string> steps = {"Charge at 1C until 3.6 V", "Discharge at 1C until 2.3 V"};
  const Scenario one = bilayer_scenario(steps);
  Scenario blend = one;  // a second material in layer 0: the batch gets two slots per layer
  LayerMaterial lm = blend.layers[0].materials[0];
  lm.material = "plateau";
  lm.solid_volume_fraction = 0.1;
  blend.layers[0].materials[0].solid_volume_fraction = 0.7;
  blend.layers[0].materials.push_back(lm);
  Batch alone = run_scenarios({one}, Layout::Blocked, 1);
  Batch mixed = run_scenarios({one, blend}, Layout::Blocked, 1);
  ASSERT_GT(mixed.shape.n_slots, alone.shape.n_slots) << "the mixed batch pads the single-material variant";
  const std::vector<VariantResult> a = collect_results(alone), m = collect_results(mixed);
  EXPECT_EQ(a[0].status, 0);
  EXPECT_EQ(bits(a[0]), bits(m[0]));
}

// With cells in proportion to thickness the sweep's two thicknesses mesh differently:
// one request is two batches, run as one pool of variants over the threads (the CPU
// backend), with every bit as when each variant runs alone, progress counting over
// both batches, and a cancelled request running none.
TEST(VariantRunner, BatchesOfTwoShapesRunAsOnePool) {
  TempDir tmp;
  Scenario s = sweep_scenario(tmp.path());
  s.numerics.cell_size_m = 5e-6;  // 20 um: 4 cells (the floor 3 is below), 60 um: 12
  for (Layer& l : s.layers) l.nodes = 0;
  std::vector<ResolvedVariant> vars;
  for (const VariantSpec& spec : s.variants) vars.push_back(resolve_variant(s, spec));
  ASSERT_EQ(group_by_shape(vars).size(), 2u);
  LocalVariantRunner runner(s, 2, Layout::Blocked);
  const std::vector<VariantResult> alone = results_in_slices(runner, s, {1, 1, 1, 1, 1, 1, 1, 1});
  RunRequest q;
  for (size_t k = 0; k < s.variants.size(); ++k) {
    q.specs.push_back(s.variants[k]);
    q.ids.push_back(static_cast<int64_t>(k));
  }
  int last_progress = -1;
  const RunOutcome whole = runner.run(q, [&](int d) { last_progress = d; });
  EXPECT_EQ(last_progress, 8);
  EXPECT_EQ(whole.totals.ok, 8);
  for (size_t k = 0; k < 8; ++k) {
    EXPECT_EQ(whole.ran[k], 1) << k;
    EXPECT_EQ(bits(whole.results[k]), bits(alone[k])) << "variant " << k;
  }
  std::vector<Batch> batches;
  for (const std::vector<int>& g : group_by_shape(vars)) {
    std::vector<ResolvedVariant> members;
    for (int k : g) members.push_back(vars[k]);
    batches.push_back(build_batch(members, Layout::Blocked));
  }
  const RunStats none = run_batches_cpu({&batches[0], &batches[1]}, 2, {}, [] { return true; });
  EXPECT_EQ(none.ran, std::vector<char>(8, 0));
}

// What simulate keeps of a design to batch it: its shape key (empty when rejected),
// grouped in first-seen order with the rejected ones in the first group, as the
// resolved variants group.
TEST(VariantRunner, ShapeKeysGroupAsTheResolvedVariants) {
  TempDir tmp;
  Scenario s = sweep_scenario(tmp.path());
  s.numerics.cell_size_m = 5e-6;
  for (Layer& l : s.layers) l.nodes = 0;
  VariantSpec bad;
  bad.label = "bad";
  bad.overrides["layers[0].porosity"] = 1.3;
  s.variants.insert(s.variants.begin() + 1, bad);
  const Scenario light = light_base(s);
  std::vector<ResolvedVariant> vars;
  std::vector<ShapeKey> keys;
  for (const VariantSpec& spec : s.variants) {
    vars.push_back(resolve_variant(light, spec));
    keys.push_back(shape_key(vars.back()));
  }
  ASSERT_FALSE(vars[1].rejected.empty());
  EXPECT_TRUE(keys[1].empty());
  EXPECT_FALSE(keys[0].empty());
  const std::vector<std::vector<int>> groups = group_by_shape(keys);
  EXPECT_EQ(groups, group_by_shape(vars));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].back(), 1);  // the rejected design joins the first group
}
