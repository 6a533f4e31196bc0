// Scenario files, the material library and batch variants.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "host/protocol_parser.hpp"
#include "host/scenario_loader.hpp"

namespace strata {
namespace {

const std::string kData = STRATA_TEST_DATA_DIR;
const std::string kSource = STRATA_SOURCE_DIR;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string minimal_text() { return slurp(kData + "/scenario_minimal.toml"); }

// The minimal fixture with `from` replaced by `to` (exactly once).
std::string edited(const std::string& from, const std::string& to) {
  std::string t = minimal_text();
  const size_t pos = t.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) t.replace(pos, from.size(), to);
  return t;
}

// Loads text as if it were tests/data/<name> and returns the error message ("" if none).
std::string load_error(const std::string& text, const std::string& name = "bad.toml") {
  try {
    load_scenario_text(text, kData + "/" + name);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << "message: " << (msg)

TEST(ScenarioLoader, DefaultScenarioLoads) {
  const Scenario s = load_scenario(kSource + "/scenarios/default.toml");
  EXPECT_EQ(s.name, "bilayer_reference");
  ASSERT_EQ(s.layers.size(), 2u);
  EXPECT_EQ(s.layers[0].materials.at(0).material, "NMO");
  EXPECT_EQ(s.layers[1].materials.at(0).material, "NVP");
  EXPECT_NEAR(s.layers[0].tortuosity / s.layers[1].tortuosity, 1.42, 0.01);
  EXPECT_FALSE(s.layers[0].use_bruggeman);
  EXPECT_TRUE(s.separator.use_bruggeman);
  EXPECT_DOUBLE_EQ(s.separator.thickness_m, 260e-6);
  EXPECT_EQ(s.materials.size(), 2u);
  EXPECT_TRUE(s.materials.at("NMO").ocp_tabulated);
  EXPECT_FALSE(s.materials.at("NVP").ocp_tabulated);
  EXPECT_EQ(s.electrolyte.name, "NaPF6_EC_PC");
  EXPECT_DOUBLE_EQ(s.electrolyte.initial_concentration_mol_m3, 1000.0);
  EXPECT_DOUBLE_EQ(s.cell.area_m2, 1.539e-4);
  EXPECT_FALSE(s.cell.counter_ideal);
  ASSERT_EQ(s.protocol.steps.size(), 6u);
  ASSERT_EQ(s.protocol.step_texts.size(), 6u);
  EXPECT_EQ(s.protocol.step_texts[3], "Hold at 2.3 V until 50% of initial current");
  EXPECT_EQ(s.protocol.steps[0].kind, StepKind::ConstantCurrent);
  EXPECT_EQ(s.protocol.steps[1].kind, StepKind::Rest);
  EXPECT_EQ(s.protocol.steps[3].kind, StepKind::ConstantVoltage);
  ASSERT_EQ(s.variants.size(), 2u);
  EXPECT_EQ(s.variants[0].label, "CC/NMO/NVP");
  EXPECT_TRUE(s.variants[0].layer_order.empty());
  EXPECT_EQ(s.variants[1].label, "CC/NVP/NMO");
  EXPECT_EQ(s.variants[1].layer_order, (std::vector<int>{1, 0}));
  EXPECT_FALSE(s.text.empty());
  EXPECT_EQ(s.file, kSource + "/scenarios/default.toml");
}

TEST(ScenarioLoader, SweepScenarioLoads) {
  const Scenario s = load_scenario(kSource + "/scenarios/bilayer_sweep.toml");
  ASSERT_EQ(s.protocol.steps.size(), 1u);
  EXPECT_EQ(s.protocol.steps[0].kind, StepKind::ConstantCurrent);
  ASSERT_EQ(s.variants.size(), 2u * 4u * 4u * 3u);
  // Axes in key order, last fastest: layers[0].porosity, layers[0].thickness_m, layers[1].thickness_m.
  const VariantSpec& v0 = s.variants[0];
  EXPECT_EQ(v0.label,
            "CC/NMO/NVP layers[0].porosity=0.3 layers[0].thickness_m=3e-05 "
            "layers[1].thickness_m=3e-05");
  EXPECT_EQ(v0.overrides.size(), 3u);
  EXPECT_DOUBLE_EQ(s.variants[1].overrides.at("layers[1].thickness_m"), 45e-6);
  EXPECT_DOUBLE_EQ(s.variants[47].overrides.at("layers[0].porosity"), 0.40);
  const VariantSpec& v48 = s.variants[48];
  EXPECT_EQ(v48.layer_order, (std::vector<int>{1, 0}));
  EXPECT_EQ(v48.label.rfind("CC/NVP/NMO ", 0), 0u) << v48.label;
  // Applying a swept variant of the second order: NVP now at the collector, overrides by position.
  const Scenario a = apply_variant(s, s.variants[95]);
  EXPECT_EQ(a.layers[0].materials[0].material, "NVP");
  EXPECT_DOUBLE_EQ(a.layers[0].thickness_m, 75e-6);
  EXPECT_DOUBLE_EQ(a.layers[1].thickness_m, 75e-6);
  EXPECT_DOUBLE_EQ(a.layers[0].porosity, 0.40);
  EXPECT_DOUBLE_EQ(a.layers[1].porosity, 0.40);
  EXPECT_TRUE(a.variants.empty());
}

TEST(ScenarioVariant, ApplyOrderAndOverrides) {
  const Scenario s = load_scenario(kSource + "/scenarios/default.toml");
  const Scenario swapped = apply_variant(s, s.variants[1]);
  EXPECT_EQ(swapped.layers[0].materials[0].material, "NVP");
  EXPECT_EQ(swapped.layers[1].materials[0].material, "NMO");
  EXPECT_DOUBLE_EQ(swapped.layers[0].tortuosity, 2.11);
  EXPECT_DOUBLE_EQ(swapped.layers[0].conductivity_S_m, 33.7);
  EXPECT_TRUE(swapped.variants.empty());
  EXPECT_EQ(swapped.protocol.steps.size(), 6u);

  VariantSpec v;
  v.label = "custom";
  v.layer_order = {1, 0};
  v.overrides = {{"layers[0].porosity", 0.35},
                 {"layers[1].bruggeman_exponent", 1.8},
                 {"layers[0].materials[0].particle_radius_m", 1e-6},
                 {"separator.tortuosity", 1.5},
                 {"cell.temperature_K", 310.0},
                 {"electrolyte.initial_concentration_mol_m3", 800.0},
                 {"materials.NVP.diffusivity_m2_s", 2e-15}};
  const Scenario a = apply_variant(s, v);
  EXPECT_EQ(a.layers[0].materials[0].material, "NVP");
  EXPECT_DOUBLE_EQ(a.layers[0].porosity, 0.35);
  EXPECT_DOUBLE_EQ(a.layers[1].porosity, 0.40);
  EXPECT_TRUE(a.layers[1].use_bruggeman);
  EXPECT_DOUBLE_EQ(a.layers[1].bruggeman_exponent, 1.8);
  EXPECT_FALSE(a.layers[0].use_bruggeman);
  EXPECT_DOUBLE_EQ(a.layers[0].materials[0].particle_radius_m, 1e-6);
  EXPECT_FALSE(a.separator.use_bruggeman);
  EXPECT_DOUBLE_EQ(a.separator.tortuosity, 1.5);
  EXPECT_DOUBLE_EQ(a.cell.temperature_K, 310.0);
  EXPECT_DOUBLE_EQ(a.electrolyte.initial_concentration_mol_m3, 800.0);
  EXPECT_DOUBLE_EQ(a.materials.at("NVP").diffusivity_m2_s, 2e-15);
  EXPECT_DOUBLE_EQ(s.materials.at("NVP").diffusivity_m2_s, 1e-15);  // base untouched
}

TEST(ScenarioVariant, ApplyRejectsOutOfRangeAndBadPaths) {
  const Scenario s = load_scenario(kSource + "/scenarios/default.toml");
  VariantSpec v;
  v.label = "too porous";
  v.overrides = {{"layers[1].porosity", 1.3}};
  try {
    apply_variant(s, v);
    FAIL() << "no error";
  } catch (const ScenarioError& e) {
    const std::string m = e.what();
    EXPECT_HAS(m, "default.toml");
    EXPECT_HAS(m, "too porous");
    EXPECT_HAS(m, "layers[1].porosity");
    EXPECT_HAS(m, "1.3");
    EXPECT_HAS(m, "0 < porosity < 1");
  }
  v.overrides = {{"layers[2].porosity", 0.3}};
  EXPECT_THROW(apply_variant(s, v), ScenarioError);
  v.overrides = {{"materials.LFP.diffusivity_m2_s", 1e-14}};
  EXPECT_THROW(apply_variant(s, v), ScenarioError);
  v.overrides = {{"materials.NVP.stoichiometry_charged", 0.99}};
  EXPECT_THROW(apply_variant(s, v), ScenarioError);
  v.overrides.clear();
  v.layer_order = {0, 0};
  EXPECT_THROW(apply_variant(s, v), ScenarioError);
}

TEST(ScenarioLoader, MinimalFixtureAndDefaults) {
  const Scenario s = load_scenario(kData + "/scenario_minimal.toml");
  ASSERT_EQ(s.layers.size(), 2u);
  EXPECT_EQ(s.layers[0].materials.size(), 2u);
  EXPECT_EQ(s.materials.size(), 2u);
  EXPECT_EQ(s.layers[0].nodes, 0);
  EXPECT_EQ(s.numerics.nodes_per_layer, Numerics{}.nodes_per_layer);
  EXPECT_DOUBLE_EQ(s.cell.temperature_K, Cell{}.temperature_K);
  EXPECT_DOUBLE_EQ(s.protocol.nominal_capacity_mAh_g, 70.0);
  ASSERT_EQ(s.variants.size(), 1u);
  EXPECT_EQ(s.variants[0].label, "minimal");
  EXPECT_TRUE(s.variants[0].overrides.empty());
}

TEST(ScenarioProtocol, NestedRepeatBlocksAreFlattened) {
  const std::string text = edited(
      R"(steps = ["Charge at 1C until 3.6 V", "Rest for 30 seconds"])",
      R"(steps = ["Rest for 30 seconds",
         { repeat = 2, steps = ["Charge at 1C until 3.6 V",
                                { repeat = 3, steps = ["Discharge at 0.5C until 2.3 V"] }] },
         "Rest for 30 seconds"])");
  const Scenario s = load_scenario_text(text, kData + "/repeat.toml");
  const std::vector<std::string> want = {
      "Rest for 30 seconds",           "Charge at 1C until 3.6 V",      "Discharge at 0.5C until 2.3 V",
      "Discharge at 0.5C until 2.3 V", "Discharge at 0.5C until 2.3 V", "Charge at 1C until 3.6 V",
      "Discharge at 0.5C until 2.3 V", "Discharge at 0.5C until 2.3 V", "Discharge at 0.5C until 2.3 V",
      "Rest for 30 seconds"};
  EXPECT_EQ(s.protocol.step_texts, want);
  ASSERT_EQ(s.protocol.steps.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const ProtocolStep p = parse_protocol_step(want[i]);
    EXPECT_EQ(s.protocol.steps[i].kind, p.kind) << i;
    EXPECT_EQ(s.protocol.steps[i].c_rate, p.c_rate) << i;
  }
}

// --- bad files: each message names the file, the key and the value ----------

TEST(ScenarioErrors, UnknownKey) {
  const std::string m = load_error(edited("porosity = 0.35", "porosity = 0.35\nporosty = 0.3"),
                                   "unknown_key.toml");
  EXPECT_HAS(m, "unknown_key.toml");
  EXPECT_HAS(m, "layers[0].porosty");
  EXPECT_HAS(m, "0.3");
  EXPECT_HAS(m, "thickness_m, porosity");  // the allowed keys are listed
  const std::string top = load_error(minimal_text() + "\n[numerix]\nx = 1\n", "top.toml");
  EXPECT_HAS(top, "top.toml");
  EXPECT_HAS(top, "numerix");
  EXPECT_HAS(top, "numerics");
}

TEST(ScenarioErrors, PorosityOutOfRange) {
  const std::string m = load_error(edited("porosity = 0.35", "porosity = 1.3"), "porous.toml");
  EXPECT_HAS(m, "porous.toml");
  EXPECT_HAS(m, "layers[0].porosity = 1.3");
  EXPECT_HAS(m, "0 < porosity < 1");
}

TEST(ScenarioErrors, OtherRanges) {
  EXPECT_HAS(load_error(edited("thickness_m = 40e-6", "thickness_m = 0.01")),
             "layers[0].thickness_m = 0.01");
  EXPECT_HAS(load_error(edited("tortuosity = 2.0", "tortuosity = 0.5")), "layers[0].tortuosity = 0.5");
  EXPECT_HAS(load_error(edited("solid_volume_fraction = 0.3", "solid_volume_fraction = 0.5")),
             "layers[0].materials[*].solid_volume_fraction sum to 1.1");
  EXPECT_HAS(load_error(edited("particle_radius_m = 2e-6", "particle_radius_m = 0.01")),
             "layers[0].materials[0].particle_radius_m = 0.01");
  EXPECT_HAS(load_error(minimal_text() + "\n[cell]\ntemperature_K = 500\n"),
             "cell.temperature_K = 500");
  EXPECT_HAS(load_error(minimal_text() + "\n[numerics]\nparticle_shells = 2\n"),
             "numerics.particle_shells = 2");
  EXPECT_HAS(load_error(minimal_text() + "\n[cell]\ncounter_electrode = \"hard carbon\"\n"),
             "cell.counter_electrode = \"hard carbon\"");
  // Both transport descriptions, or neither.
  EXPECT_HAS(load_error(edited("tortuosity = 2.0", "tortuosity = 2.0\nbruggeman_exponent = 1.5")),
             "layers[0].tortuosity");
  EXPECT_HAS(load_error(edited("tortuosity = 2.0", "")), "layers[0].bruggeman_exponent");
  // A zero-fraction material is allowed (it must still simulate); an all-zero layer is not.
  EXPECT_EQ(load_error(edited("solid_volume_fraction = 0.3", "solid_volume_fraction = 0.0")), "");
  EXPECT_HAS(load_error(edited("solid_volume_fraction = 0.9", "solid_volume_fraction = 0")),
             "layers[1].materials[*].solid_volume_fraction are all 0");
}

TEST(ScenarioErrors, MissingMaterial) {
  const std::string m = load_error(edited("name = \"test_sloping\"", "name = \"unobtainium\""),
                                   "missing_material.toml");
  EXPECT_HAS(m, "missing_material.toml");
  EXPECT_HAS(m, "layers[0].materials[0].name");
  EXPECT_HAS(m, "unobtainium");
  EXPECT_HAS(m, "materials");       // the directory searched
  EXPECT_HAS(m, "test_plateau");    // what is available
  EXPECT_HAS(m, "NVP");
  const std::string e = load_error(edited("material = \"test_electrolyte\"", "material = \"NVP\""));
  EXPECT_HAS(e, "electrolyte.material");
  EXPECT_HAS(e, "NVP");
}

TEST(ScenarioErrors, WrongUnitInKeyName) {
  const std::string m = load_error(edited("thickness_m = 40e-6", "thickness_um = 40"), "unit.toml");
  EXPECT_HAS(m, "unit.toml");
  EXPECT_HAS(m, "layers[0].thickness_um");
  EXPECT_HAS(m, "40");
  EXPECT_HAS(m, "units are SI and stated in the key name: use thickness_m");
  const std::string c = load_error(minimal_text() + "\n[cell]\ntemperature_C = 25\n");
  EXPECT_HAS(c, "use temperature_K");
}

TEST(ScenarioErrors, StringWithUnitsForNumber) {
  const std::string m =
      load_error(edited("thickness_m = 40e-6", "thickness_m = \"50 um\""), "string.toml");
  EXPECT_HAS(m, "string.toml");
  EXPECT_HAS(m, "layers[0].thickness_m");
  EXPECT_HAS(m, "\"50 um\"");
  EXPECT_HAS(m, "expects a number in m");
}

TEST(ScenarioErrors, MalformedProtocolStep) {
  const std::string m = load_error(
      edited("\"Rest for 30 seconds\"]", "{ repeat = 2, steps = [\"Charge quickly please\"] }]"),
      "step.toml");
  EXPECT_HAS(m, "step.toml");
  EXPECT_HAS(m, "protocol.steps[1].steps[0]");
  EXPECT_HAS(m, "Charge quickly please");
  EXPECT_HAS(load_error(edited("\"Rest for 30 seconds\"]", "{ repeat = 0, steps = [\"Rest for 1 s\"] }]")),
             "protocol.steps[1].repeat = 0");
  EXPECT_HAS(load_error(edited("\"Rest for 30 seconds\"]", "3]")), "protocol.steps[1] = 3");
}

TEST(ScenarioErrors, BadOverridePath) {
  const std::string m = load_error(
      minimal_text() + "\n[[batch.variants]]\nlabel = \"A\"\nset = { \"layers[0].porosityy\" = 0.3 }\n",
      "override.toml");
  EXPECT_HAS(m, "override.toml");
  EXPECT_HAS(m, "batch.variants[0].set.\"layers[0].porosityy\"");
  EXPECT_HAS(m, "0.3");
  EXPECT_HAS(m, "layers[i].materials[j].<solid_volume_fraction|particle_radius_m>");  // allowed forms
  const std::string idx = load_error(minimal_text() + "\n[batch.sweep]\n\"layers[5].porosity\" = [0.3]\n");
  EXPECT_HAS(idx, "batch.sweep.\"layers[5].porosity\"");
  EXPECT_HAS(idx, "out of range");
  // Index valid only after the reorder: layers[1] of the reordered stack has 2 materials.
  EXPECT_EQ(load_error(minimal_text() + "\n[[batch.variants]]\nlayer_order = [1, 0]\n"
                                        "set = { \"layers[1].materials[1].particle_radius_m\" = 3e-6 }\n"),
            "");
  // Nested (unquoted) form of a material override.
  const Scenario s = load_scenario_text(
      minimal_text() + "\n[[batch.variants]]\nlabel = \"D\"\nset = { materials.test_plateau.diffusivity_m2_s = 5e-15 }\n",
      kData + "/nested.toml");
  EXPECT_DOUBLE_EQ(s.variants.at(0).overrides.at("materials.test_plateau.diffusivity_m2_s"), 5e-15);
  // Out-of-range override values are caught at load time.
  const std::string r = load_error(minimal_text() + "\n[[batch.variants]]\nlabel = \"wet\"\n"
                                                    "set = { \"separator.porosity\" = 1.5 }\n",
                                   "range.toml");
  EXPECT_HAS(r, "range.toml");
  EXPECT_HAS(r, "wet");
  EXPECT_HAS(r, "separator.porosity = 1.5");
}

TEST(ScenarioErrors, SweepCountZero) {
  const std::string m = load_error(
      minimal_text() + "\n[batch.sweep]\n\"layers[0].porosity\" = { from = 0.3, to = 0.4, count = 0 }\n",
      "sweep.toml");
  EXPECT_HAS(m, "sweep.toml");
  EXPECT_HAS(m, "batch.sweep.\"layers[0].porosity\".count = 0");
  EXPECT_HAS(m, "count >= 1");
  EXPECT_HAS(load_error(minimal_text() + "\n[batch.sweep]\n\"layers[0].porosity\" = []\n"), "is empty");
  EXPECT_HAS(load_error(minimal_text() +
                        "\n[batch.sweep]\n\"layers[0].thickness_m\" = { from = 0, to = 1e-5, count = 3, log = true }\n"),
             "log");
}

TEST(ScenarioErrors, MissingRequiredKeyAndSyntax) {
  const std::string m = load_error(edited("conductivity_S_m = 10.0", ""), "missing.toml");
  EXPECT_HAS(m, "missing.toml");
  EXPECT_HAS(m, "layers[0].conductivity_S_m");
  EXPECT_HAS(load_error(edited("[protocol]", "[protocoll]")), "protocol");
  const std::string syn = load_error("[scenario\nname = 1\n", "syntax.toml");
  EXPECT_HAS(syn, "syntax.toml:1:");
  EXPECT_HAS(load_error(edited("[[layers]]\nthickness_m = 40e-6", "[layers]\nthickness_m = 40e-6")),
             "layers");
}

TEST(ScenarioErrors, LayerOrderMustBePermutation) {
  const std::string m = load_error(
      minimal_text() + "\n[[batch.variants]]\nlabel = \"X\"\nlayer_order = [0, 2]\n", "order.toml");
  EXPECT_HAS(m, "order.toml");
  EXPECT_HAS(m, "layer_order = [0, 2]");
}

// K up to 16 layers and up to 4 materials per layer load; more is an error.
TEST(ScenarioLoader, LayerAndMaterialCounts) {
  auto stack = [](int K, int M) {
    std::string t =
        "[scenario]\nname = \"stack\"\n[library]\npath = \"../../materials\"\n"
        "[electrolyte]\nmaterial = \"test_electrolyte\"\n"
        "[separator]\nthickness_m = 25e-6\nporosity = 0.5\nbruggeman_exponent = 1.5\n"
        "[protocol]\nsteps = [\"Charge at 1C until 3.6 V\"]\n";
    for (int k = 0; k < K; ++k) {
      t += "[[layers]]\nthickness_m = 10e-6\nporosity = 0.4\ntortuosity = 2.0\nconductivity_S_m = 10\n";
      for (int m = 0; m < M; ++m)
        t += std::string("[[layers.materials]]\nname = \"") + (m % 2 ? "test_plateau" : "test_sloping") +
             "\"\nsolid_volume_fraction = 0.2\nparticle_radius_m = 1e-6\n";
    }
    return t;
  };
  const Scenario s8 = load_scenario_text(stack(8, 3), kData + "/stack.toml");
  EXPECT_EQ(s8.layers.size(), 8u);
  EXPECT_EQ(s8.layers[7].materials.size(), 3u);
  EXPECT_EQ(load_scenario_text(stack(16, 4), kData + "/stack.toml").layers.size(), 16u);
  EXPECT_HAS(load_error(stack(17, 1)), "at most 16");
  EXPECT_HAS(load_error(stack(1, 5)), "allowed 1 to 4 materials per layer");
  // A reversed 8-layer stack via layer_order.
  VariantSpec v;
  v.label = "reversed";
  v.layer_order = {7, 6, 5, 4, 3, 2, 1, 0};
  v.overrides["layers[0].thickness_m"] = 20e-6;
  const Scenario r = apply_variant(s8, v);
  EXPECT_DOUBLE_EQ(r.layers[0].thickness_m, 20e-6);
  EXPECT_DOUBLE_EQ(r.layers[7].thickness_m, 10e-6);
}

// --- sweeps -----------------------------------------------------------------

TEST(ScenarioSweep, ValuesAndExpansion) {
  const auto lin = sweep_values(0.3, 0.4, 3, false);
  ASSERT_EQ(lin.size(), 3u);
  EXPECT_DOUBLE_EQ(lin[0], 0.3);
  EXPECT_NEAR(lin[1], 0.35, 1e-15);
  EXPECT_DOUBLE_EQ(lin[2], 0.4);
  const auto lg = sweep_values(1e-6, 1e-4, 3, true);
  EXPECT_DOUBLE_EQ(lg[0], 1e-6);
  EXPECT_NEAR(lg[1], 1e-5, 1e-18);
  EXPECT_DOUBLE_EQ(lg[2], 1e-4);
  EXPECT_EQ(sweep_values(2.0, 3.0, 1, false), std::vector<double>{2.0});
  EXPECT_THROW(sweep_values(0.3, 0.4, 0, false), std::invalid_argument);

  const Scenario s = load_scenario_text(
      minimal_text() +
          "\n[batch.sweep]\n\"layers[0].materials[0].particle_radius_m\" = { from = 1e-6, to = 1e-5, count = 3, log = true }\n"
          "\"layers[1].porosity\" = [0.3, 0.4]\n",
      kData + "/grid.toml");
  ASSERT_EQ(s.variants.size(), 6u);
  // No explicit variants: the scenario name stands in for the label.
  EXPECT_EQ(s.variants[0].label,
            "minimal layers[0].materials[0].particle_radius_m=1e-06 layers[1].porosity=0.3");
  EXPECT_EQ(s.variants[1].label,
            "minimal layers[0].materials[0].particle_radius_m=1e-06 layers[1].porosity=0.4");
  EXPECT_NEAR(s.variants[2].overrides.at("layers[0].materials[0].particle_radius_m"),
              std::sqrt(1e-6 * 1e-5), 1e-18);
  const Scenario a = apply_variant(s, s.variants[5]);
  EXPECT_DOUBLE_EQ(a.layers[0].materials[0].particle_radius_m, 1e-5);
  EXPECT_DOUBLE_EQ(a.layers[1].porosity, 0.4);
}

TEST(ScenarioSweep, SweepOnTopOfExplicitVariantsWins) {
  std::vector<VariantSpec> ex(2);
  ex[0].label = "A";
  ex[0].overrides["layers[0].porosity"] = 0.2;
  ex[1].label = "B";
  ex[1].layer_order = {1, 0};
  const auto out = expand_variants(ex, {{"layers[0].porosity", {0.3, 0.35}}}, "base");
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].label, "A layers[0].porosity=0.3");
  EXPECT_DOUBLE_EQ(out[0].overrides.at("layers[0].porosity"), 0.3);
  EXPECT_EQ(out[3].label, "B layers[0].porosity=0.35");
  EXPECT_EQ(out[3].layer_order, (std::vector<int>{1, 0}));
  EXPECT_THROW(expand_variants(ex, {{"a", std::vector<double>(1000, 0.0)}}, "b", 1000),
               std::invalid_argument);
}

// --- objectives and output --------------------------------------------------

std::string output_text() { return slurp(kData + "/output_full.toml"); }

// The output fixture with `from` replaced by `to` (exactly once).
std::string output_edited(const std::string& from, const std::string& to) {
  std::string t = output_text();
  const size_t pos = t.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) t.replace(pos, from.size(), to);
  return t;
}

const std::string kBest = "trajectories = \"best\"\nbest_k = 2\nbest_by = \"q_1C\"\n";

TEST(ScenarioOutput, FixtureLoadsWithObjectivesAndOutput) {
  const Scenario s = load_scenario(kData + "/output_full.toml");
  ASSERT_EQ(s.protocol.steps.size(), 8u);  // the repeat block is expanded
  ASSERT_EQ(s.variants.size(), 4u);
  ASSERT_EQ(s.objectives.size(), 3u);
  EXPECT_EQ(s.objectives[0].name, "retention_3C");
  EXPECT_EQ(s.objectives[0].kind, "retention");  // the default kind
  EXPECT_EQ(s.objectives[0].step, 7);
  EXPECT_EQ(s.objectives[0].reference_step, 0);
  EXPECT_TRUE(s.objectives[0].maximize);  // the default sense
  EXPECT_EQ(s.objectives[1].name, "q_1C");
  EXPECT_EQ(s.objectives[1].kind, "capacity_mAh_cm2");
  EXPECT_EQ(s.objectives[1].step, 5);
  EXPECT_EQ(s.objectives[1].reference_step, -1);
  EXPECT_TRUE(s.objectives[1].maximize);
  EXPECT_EQ(s.objectives[2].kind, "energy_Wh_kg");
  EXPECT_EQ(s.objectives[2].step, 2);
  EXPECT_FALSE(s.objectives[2].maximize);

  const OutputSpec& o = s.output;
  EXPECT_EQ(o.trajectories, "best");
  EXPECT_EQ(o.best_k, 2);
  EXPECT_EQ(o.best_by, "q_1C");
  EXPECT_TRUE(o.design_ids.empty());
  EXPECT_DOUBLE_EQ(o.trajectory_interval_s, 10.0);
  EXPECT_EQ(o.trajectory_max_points, 500);
  EXPECT_EQ(o.batch_size, 64);
  ASSERT_EQ(o.profiles.size(), 4u);
  EXPECT_EQ(o.profiles[0].step, 7);
  EXPECT_EQ(o.profiles[0].at, ProfileRequest::At::End);
  EXPECT_DOUBLE_EQ(o.profiles[0].value, 0.0);
  EXPECT_EQ(o.profiles[1].at, ProfileRequest::At::Time);
  EXPECT_DOUBLE_EQ(o.profiles[1].value, 300.0);
  EXPECT_EQ(o.profiles[2].at, ProfileRequest::At::Capacity);
  EXPECT_DOUBLE_EQ(o.profiles[2].value, 30.0);  // an integer is accepted
  EXPECT_EQ(o.profiles[3].step, 1);             // the end of a Rest step
  EXPECT_EQ(o.profiles[3].at, ProfileRequest::At::End);  // the default
}

TEST(ScenarioOutput, ListAllAndDefaultBestBy) {
  const Scenario l = load_scenario_text(
      output_edited(kBest, "trajectories = \"list\"\ndesign_ids = [3, 0]\n"), kData + "/list.toml");
  EXPECT_EQ(l.output.trajectories, "list");
  EXPECT_EQ(l.output.design_ids, (std::vector<long>{3, 0}));
  EXPECT_EQ(l.output.best_k, 0);
  EXPECT_EQ(l.output.best_by, "");
  const Scenario a =
      load_scenario_text(output_edited(kBest, "trajectories = \"all\"\n"), kData + "/all.toml");
  EXPECT_EQ(a.output.trajectories, "all");
  EXPECT_TRUE(a.output.design_ids.empty());
  // best_by defaults to the first objective.
  const Scenario b = load_scenario_text(
      output_edited(kBest, "trajectories = \"best\"\nbest_k = 1\n"), kData + "/best.toml");
  EXPECT_EQ(b.output.best_by, "retention_3C");
  EXPECT_EQ(b.output.best_k, 1);
  // [[objectives]] without [output], and an [output] with only defaults.
  const Scenario o = load_scenario_text(
      minimal_text() + "\n[[objectives]]\nname = \"q\"\nkind = \"capacity_mAh_g\"\nstep = 0\n"
                       "[output]\n",
      kData + "/objective_only.toml");
  ASSERT_EQ(o.objectives.size(), 1u);
  EXPECT_EQ(o.objectives[0].kind, "capacity_mAh_g");
  EXPECT_EQ(o.output.trajectories, "none");
  EXPECT_EQ(o.output.best_by, "");
}

TEST(ScenarioOutput, DefaultsWhenAbsent) {
  const Scenario s = load_scenario(kData + "/scenario_minimal.toml");
  EXPECT_TRUE(s.objectives.empty());
  const OutputSpec d;
  EXPECT_EQ(s.output.trajectories, "none");
  EXPECT_EQ(s.output.best_k, 0);
  EXPECT_EQ(s.output.best_by, "");
  EXPECT_TRUE(s.output.design_ids.empty());
  EXPECT_DOUBLE_EQ(s.output.trajectory_interval_s, 10.0);
  EXPECT_EQ(s.output.trajectory_max_points, 2000);
  EXPECT_EQ(s.output.batch_size, 1024);
  EXPECT_TRUE(s.output.profiles.empty());
  EXPECT_EQ(s.output.trajectory_max_points, d.trajectory_max_points);
  EXPECT_EQ(s.output.batch_size, d.batch_size);
}

TEST(ScenarioOutput, DefaultScenarioHasRetentionAndProfile) {
  const Scenario s = load_scenario(kSource + "/scenarios/default.toml");
  ASSERT_EQ(s.objectives.size(), 1u);
  EXPECT_EQ(s.objectives[0].name, "retention_3C");
  EXPECT_EQ(s.objectives[0].kind, "retention");
  EXPECT_EQ(s.objectives[0].step, 5);
  EXPECT_EQ(s.objectives[0].reference_step, 0);
  EXPECT_TRUE(s.objectives[0].maximize);
  EXPECT_EQ(s.output.trajectories, "all");
  ASSERT_EQ(s.output.profiles.size(), 1u);
  EXPECT_EQ(s.output.profiles[0].step, 5);
  EXPECT_EQ(s.output.profiles[0].at, ProfileRequest::At::End);
}

TEST(ScenarioOutputErrors, UnknownKeyInOutput) {
  const std::string m =
      load_error(output_edited("batch_size = 64", "batch_sise = 64"), "output_unknown.toml");
  EXPECT_HAS(m, "output_unknown.toml");
  EXPECT_HAS(m, "output.batch_sise = 64");
  EXPECT_HAS(m, "allowed keys in output: trajectories, best_k, best_by, design_ids, "
                "trajectory_interval_s, trajectory_max_points, batch_size, profiles");
  const std::string u = load_error(
      output_edited("trajectory_interval_s = 10.0", "trajectory_interval_min = 1"), "unit.toml");
  EXPECT_HAS(u, "output.trajectory_interval_min = 1");
  EXPECT_HAS(u, "use trajectory_interval_s");
  const std::string p = load_error(output_edited("{ step = 1 }", "{ step = 1, when = \"end\" }"));
  EXPECT_HAS(p, "output.profiles[3].when = \"end\"");
  EXPECT_HAS(p, "step, at, value_s, value_mAh_g");
  const std::string ob = load_error(output_edited("sense = \"minimize\"", "goal = \"minimize\""));
  EXPECT_HAS(ob, "objectives[2].goal = \"minimize\"");
  EXPECT_HAS(ob, "name, kind, step, reference_step, sense");
}

TEST(ScenarioOutputErrors, BadObjectiveKind) {
  const std::string m = load_error(
      output_edited("kind = \"capacity_mAh_cm2\"", "kind = \"capacity\""), "output_kind.toml");
  EXPECT_HAS(m, "output_kind.toml");
  EXPECT_HAS(m, "objectives[1].kind = \"capacity\"");
  EXPECT_HAS(m, "\"retention\", \"capacity_mAh_g\", \"capacity_mAh_cm2\" or \"energy_Wh_kg\"");
  const std::string sense = load_error(output_edited("sense = \"minimize\"", "sense = \"min\""));
  EXPECT_HAS(sense, "objectives[2].sense = \"min\"");
  EXPECT_HAS(sense, "\"maximize\" or \"minimize\"");
}

TEST(ScenarioOutputErrors, ObjectiveStepOutOfRange) {
  // 8 steps after expansion: s7 exists, s8 does not.
  const std::string m =
      load_error(output_edited("step = 7\nreference_step = 0", "step = 8\nreference_step = 0"),
                 "output_step.toml");
  EXPECT_HAS(m, "output_step.toml");
  EXPECT_HAS(m, "objectives[0].step = 8");
  EXPECT_HAS(m, "0 <= step <= 7");
  EXPECT_HAS(m, "s0 .. s7");
  EXPECT_HAS(load_error(output_edited("step = 5\nsense", "step = -1\nsense")),
             "objectives[1].step = -1 is out of range");
  // A Rest step passes no current.
  const std::string rest = load_error(output_edited("step = 5\nsense", "step = 4\nsense"));
  EXPECT_HAS(rest, "objectives[1].step = 4 is a Rest step");
  EXPECT_HAS(rest, "s0, s2, s3, s5, s7");
  EXPECT_HAS(load_error(output_edited("step = 5\nsense", "step = 5.0\nsense")),
             "objectives[1].step = 5 is not an integer");
  // The profile step must exist too.
  EXPECT_HAS(load_error(output_edited("{ step = 1 }", "{ step = 8 }")),
             "output.profiles[3].step = 8 is out of range");
}

TEST(ScenarioOutputErrors, RetentionNeedsReferenceStep) {
  const std::string m =
      load_error(output_edited("step = 7\nreference_step = 0\n", "step = 7\n"), "output_ref.toml");
  EXPECT_HAS(m, "output_ref.toml");
  EXPECT_HAS(m, "missing required key objectives[0].reference_step");
  EXPECT_HAS(m, "objectives[0].kind = \"retention\" (the default)");
  EXPECT_HAS(load_error(output_edited("reference_step = 0", "reference_step = 7")),
             "objectives[0].reference_step = 7 is the measured step itself");
  EXPECT_HAS(load_error(output_edited("reference_step = 0", "reference_step = 6")),
             "objectives[0].reference_step = 6 is a Rest step");
  const std::string other =
      load_error(output_edited("step = 5\n", "step = 5\nreference_step = 0\n"));
  EXPECT_HAS(other, "objectives[1].reference_step = 0 is not allowed");
  EXPECT_HAS(other, "\"capacity_mAh_cm2\"");
}

TEST(ScenarioOutputErrors, ObjectiveNames) {
  EXPECT_HAS(load_error(output_edited("name = \"q_1C\"", "name = \"retention_3C\"")),
             "objectives[1].name = \"retention_3C\" is also the name of objectives[0]");
  EXPECT_HAS(load_error(output_edited("name = \"q_1C\"", "name = \"q-1C\"")),
             "objectives[1].name = \"q-1C\" is not allowed");
  EXPECT_HAS(load_error(output_edited("name = \"q_1C\"\n", "")),
             "missing required key objectives[1].name");
}

TEST(ScenarioOutputErrors, BestNeedsBestK) {
  const std::string m =
      load_error(output_edited("best_k = 2\n", ""), "output_best_k.toml");
  EXPECT_HAS(m, "output_best_k.toml");
  EXPECT_HAS(m, "missing required key output.best_k");
  EXPECT_HAS(m, "output.trajectories = \"best\"");
  EXPECT_HAS(load_error(output_edited("best_k = 2", "best_k = 0")),
             "output.best_k = 0 is out of range");
  // best_k and design_ids belong to their modes only.
  const std::string all = load_error(output_edited("trajectories = \"best\"", "trajectories = \"all\""));
  EXPECT_HAS(all, "output.best_k = 2 is not allowed with output.trajectories = \"all\"");
  EXPECT_HAS(load_error(output_edited(kBest, kBest + "design_ids = [0]\n")),
             "output.design_ids = [0] is not allowed with output.trajectories = \"best\"");
  EXPECT_HAS(load_error(output_edited("trajectories = \"best\"", "trajectories = \"some\"")),
             "output.trajectories = \"some\" is not allowed");
  // best with no objectives at all.
  const std::string none = load_error(minimal_text() + "\n[output]\ntrajectories = \"best\"\nbest_k = 3\n",
                                      "no_objectives.toml");
  EXPECT_HAS(none, "no_objectives.toml");
  EXPECT_HAS(none, "output.best_by");
  EXPECT_HAS(none, "no [[objectives]]");
}

TEST(ScenarioOutputErrors, BestByUnknownObjective) {
  const std::string m = load_error(output_edited("best_by = \"q_1C\"", "best_by = \"q_3C\""),
                                   "output_best_by.toml");
  EXPECT_HAS(m, "output_best_by.toml");
  EXPECT_HAS(m, "output.best_by = \"q_3C\" names no objective");
  EXPECT_HAS(m, "\"retention_3C\", \"q_1C\", \"discharge_energy\"");
}

TEST(ScenarioOutputErrors, DesignIdOutOfRange) {
  const std::string m =
      load_error(output_edited(kBest, "trajectories = \"list\"\ndesign_ids = [0, 4]\n"),
                 "output_ids.toml");
  EXPECT_HAS(m, "output_ids.toml");
  EXPECT_HAS(m, "output.design_ids[1] = 4 is out of range");
  EXPECT_HAS(m, "0 <= design id <= 3");
  EXPECT_HAS(load_error(output_edited(kBest, "trajectories = \"list\"\ndesign_ids = [-1]\n")),
             "output.design_ids[0] = -1 is out of range");
  EXPECT_HAS(load_error(output_edited(kBest, "trajectories = \"list\"\ndesign_ids = []\n")),
             "output.design_ids = [] is empty");
  EXPECT_HAS(load_error(output_edited(kBest, "trajectories = \"list\"\n")),
             "missing required key output.design_ids");
  EXPECT_HAS(load_error(output_edited(kBest, "trajectories = \"list\"\ndesign_ids = [1, 1]\n")),
             "output.design_ids[1] = 1 is listed twice");
}

TEST(ScenarioOutputErrors, ProfileTimeNeedsValue) {
  const std::string m = load_error(
      output_edited("{ step = 7, at = \"time\", value_s = 300.0 }", "{ step = 7, at = \"time\" }"),
      "output_profile.toml");
  EXPECT_HAS(m, "output_profile.toml");
  EXPECT_HAS(m, "missing required key output.profiles[1].value_s");
  EXPECT_HAS(m, "output.profiles[1].at = \"time\"");
  EXPECT_HAS(load_error(output_edited("value_s = 300.0", "value_s = 0")),
             "output.profiles[1].value_s = 0 is out of range");
  EXPECT_HAS(load_error(output_edited("value_s = 300.0", "value_mAh_g = 3")),
             "output.profiles[1].value_mAh_g = 3 is not allowed with output.profiles[1].at = \"time\"");
  EXPECT_HAS(load_error(output_edited("{ step = 1 }", "{ step = 1, value_s = 5 }")),
             "output.profiles[3].value_s = 5 is not allowed with output.profiles[3].at = \"end\" (the default)");
  EXPECT_HAS(load_error(output_edited("value_mAh_g = 30", "value_mAh_g = -1")),
             "output.profiles[2].value_mAh_g = -1 is out of range");
  EXPECT_HAS(load_error(output_edited("at = \"capacity\", value_mAh_g = 30", "at = \"capacity\"")),
             "missing required key output.profiles[2].value_mAh_g");
  EXPECT_HAS(load_error(output_edited("{ step = 7, at = \"end\" }", "{ step = 7, at = \"start\" }")),
             "output.profiles[0].at = \"start\" is not allowed");
  // A capacity is never reached in a Rest step.
  EXPECT_HAS(load_error(output_edited("{ step = 7, at = \"capacity\"", "{ step = 6, at = \"capacity\"")),
             "output.profiles[2].step = 6 is a Rest step");
  EXPECT_HAS(load_error(output_edited("{ step = 1 }", "3")), "output.profiles[3] = 3 is not a table");
}

TEST(ScenarioOutputErrors, OutputRanges) {
  EXPECT_HAS(load_error(output_edited("batch_size = 64", "batch_size = 0")),
             "output.batch_size = 0 is out of range; allowed 1 <= batch_size <= 1000000");
  EXPECT_HAS(load_error(output_edited("trajectory_max_points = 500", "trajectory_max_points = 5")),
             "output.trajectory_max_points = 5 is out of range; allowed 10 <= trajectory_max_points <= 1000000");
  EXPECT_HAS(load_error(output_edited("trajectory_interval_s = 10.0", "trajectory_interval_s = -1")),
             "output.trajectory_interval_s = -1 is out of range");
  EXPECT_EQ(load_error(output_edited("trajectory_interval_s = 10.0", "trajectory_interval_s = 0")), "");
  EXPECT_HAS(load_error(minimal_text() + "\n[objectives]\nname = \"q\"\nstep = 0\n"),
             "objectives = {...} (a table) is not an array of tables");
}

// --- material library -------------------------------------------------------

TEST(ScenarioMaterials, LibraryFilesLoad) {
  const std::string dir = kSource + "/materials";
  for (const char* n : {"NMO", "NVP", "test_sloping", "test_plateau"}) {
    const ActiveMaterial m = load_active_material(dir, n);
    EXPECT_EQ(m.name, n);
    EXPECT_FALSE(m.source.empty());
    EXPECT_LT(m.stoichiometry_charged, m.stoichiometry_discharged);
  }
  for (const char* n : {"NaPF6_EC_PC", "test_electrolyte"}) {
    const Electrolyte e = load_electrolyte(dir, n);
    EXPECT_EQ(e.name, n);
    EXPECT_GT(e.conductivity_S_m.value, 0.0);
  }
  const ActiveMaterial nmo = load_active_material(dir, "NMO");
  EXPECT_DOUBLE_EQ(nmo.max_concentration_mol_m3, 41300.0);
  EXPECT_GE(nmo.ocp_table_V.x.size(), 15u);
  for (size_t i = 1; i < nmo.ocp_table_V.y.size(); ++i)
    EXPECT_LT(nmo.ocp_table_V.y[i], nmo.ocp_table_V.y[i - 1]);
  const ActiveMaterial nvp = load_active_material(dir, "NVP");
  EXPECT_DOUBLE_EQ(nvp.max_concentration_mol_m3, 13300.0);
  EXPECT_EQ(nvp.ocp_closed.tanh_amplitude_V.size(), 2u);
  const auto actives = list_library(dir, "active");
  EXPECT_NE(std::find(actives.begin(), actives.end(), "NVP"), actives.end());
  const auto electrolytes = list_library(dir, "electrolyte");
  EXPECT_NE(std::find(electrolytes.begin(), electrolytes.end(), "NaPF6_EC_PC"), electrolytes.end());
  EXPECT_EQ(std::find(electrolytes.begin(), electrolytes.end(), "NVP"), electrolytes.end());
}

// Closed-form OCPs at the window ends lie outside the 2.3..3.6 V cut-offs, so the
// usable windows are reached at the cut-offs.
TEST(ScenarioMaterials, WindowEndsOutsideCutoffs) {
  const std::string dir = kSource + "/materials";
  const double RT_F = 8.314462618 * 298.15 / 96485.33212;
  auto U = [&](const OcpClosedForm& c, double x) {
    double u = c.E0_V - c.slope_V * (x - 0.5) + c.ideality * RT_F * std::log((1 - x) / x);
    for (size_t i = 0; i < c.tanh_amplitude_V.size(); ++i)
      u += c.tanh_amplitude_V[i] * std::tanh((x - c.tanh_center[i]) / c.tanh_width[i]);
    return u;
  };
  for (const char* n : {"NVP", "test_sloping", "test_plateau"}) {
    const ActiveMaterial m = load_active_material(dir, n);
    EXPECT_GT(U(m.ocp_closed, m.stoichiometry_charged), 3.6) << n;
    EXPECT_LT(U(m.ocp_closed, m.stoichiometry_discharged), 2.5) << n;
  }
  const ActiveMaterial nvp = load_active_material(dir, "NVP");
  EXPECT_NEAR(U(nvp.ocp_closed, 0.5), 3.4, 0.01);
}

TEST(ScenarioMaterials, NonIncreasingTableRejected) {
  try {
    load_active_material(kData, "material_bad_table");
    FAIL() << "no error";
  } catch (const ScenarioError& e) {
    const std::string m = e.what();
    EXPECT_HAS(m, "material_bad_table.toml");
    EXPECT_HAS(m, "ocp.table.sto");
    EXPECT_HAS(m, "not strictly increasing");
    EXPECT_HAS(m, "0.4");
  }
}

TEST(ScenarioMaterials, TableAndFieldChecks) {
  const std::string ok = "table = { sto = [0.0, 0.4, 0.5, 1.0], V = [4.0, 3.5, 3.4, 2.0] }";
  const std::string bad_table = slurp(kData + "/material_bad_table.toml");
  std::string base = bad_table;
  base.replace(base.find("table = {"), ok.size(), ok);
  auto err = [&](const std::string& from, const std::string& to) {
    std::string t = base;
    const size_t p = t.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    t.replace(p, from.size(), to);
    try {
      parse_active_material(t, "m.toml", "material_bad_table");
    } catch (const ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(err(ok, ok), "");
  EXPECT_HAS(err("sto = [0.0, 0.4, 0.5, 1.0]", "sto = [0.0, 0.4, 1.0]"), "same length");
  EXPECT_HAS(err(ok, "table = { sto = [0.5], V = [3.0] }"), "at least 2");
  EXPECT_HAS(err("sto = [0.0, 0.4, 0.5, 1.0]", "sto = [0.0, 0.5, 0.5, 1.0]"), "strictly increasing");
  EXPECT_HAS(err("density_kg_m3 = 4000.0", "density_kg_m3 = -1.0"), "density_kg_m3 = -1");
  EXPECT_HAS(err("stoichiometry_charged = 0.1", "stoichiometry_charged = 0.95"),
             "stoichiometry_charged");
  EXPECT_HAS(err("source = \"synthetic test fixture\"\n", ""), "source");
  EXPECT_HAS(err("diffusivity_m2_s = 1e-14", "diffusivity_cm2_s = 1e-10"),
             "use diffusivity_m2_s");
  EXPECT_HAS(err("kind = \"active\"", "kind = \"electrolyte\""), "kind");
  EXPECT_HAS(err("name = \"material_bad_table\"", "name = \"other\""), "file name");
  EXPECT_HAS(err(ok, ok + "\nE0_V = 3.0"), "exactly one form");
  EXPECT_HAS(err(ok, "table = { sto = [0.2, 0.4, 0.5, 1.0], V = [4.0, 3.5, 3.4, 2.0] }"),
             "does not cover");

  const std::string el =
      "kind = \"electrolyte\"\nname = \"e\"\nsource = \"synthetic\"\n"
      "conductivity_S_m = { c_mol_m3 = [0.0, 1000.0, 2000.0], value = [0.1, 0.8, 0.6] }\n"
      "diffusivity_m2_s = 2.5e-10\ntransference_number = 0.45\nthermodynamic_factor = 1.0\n";
  const Electrolyte e = parse_electrolyte(el, "e.toml", "e");
  EXPECT_TRUE(e.conductivity_S_m.tabulated);
  EXPECT_EQ(e.conductivity_S_m.table.x.size(), 3u);
  EXPECT_FALSE(e.diffusivity_m2_s.tabulated);
  std::string bad = el;
  bad.replace(bad.find("[0.0, 1000.0, 2000.0]"), 21, "[0.0, 2000.0, 1000.0]");
  EXPECT_THROW(parse_electrolyte(bad, "e.toml", "e"), ScenarioError);
  bad = el;
  bad.replace(bad.find("0.45"), 4, "1.5");
  EXPECT_THROW(parse_electrolyte(bad, "e.toml", "e"), ScenarioError);
}

}  // namespace
}  // namespace strata
