// Scenario files, the material library and batch variants.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "host/batch.hpp"
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

// A fixture's text with `from` replaced by `to` (exactly once).
std::string replaced_once(std::string t, const std::string& from, const std::string& to) {
  const size_t pos = t.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) t.replace(pos, from.size(), to);
  return t;
}

// A fixture's text up to (without) its section `header` (e.g. "[fit]"), plus `section`.
std::string with_section(const std::string& t, const std::string& header, const std::string& section) {
  const size_t pos = t.find("\n" + header + "\n");
  EXPECT_NE(pos, std::string::npos) << header;
  return t.substr(0, pos + 1) + section;
}

// The minimal fixture with `from` replaced by `to` (exactly once).
std::string edited(const std::string& from, const std::string& to) { return replaced_once(minimal_text(), from, to); }

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

// A library directory that does not exist is named as such, with where its path came
// from, not reported as a material missing from it.
TEST(ScenarioLoader, AMissingLibraryDirectoryIsNamedWithItsSource) {
  const std::string e = load_error(replaced_once(minimal_text(), "path = \"../../materials\"", "path = \"nowhere\""));
  EXPECT_HAS(e, "bad.toml: library.path = \"nowhere\" names no directory (");
  EXPECT_HAS(e, "relative to the scenario file's directory");
  EXPECT_FALSE(e.find("not found") != std::string::npos) << e;
}

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
                 {"materials.NVP.diffusivity_m2_s", 2e-15},
                 {"cell.initial_soc", 0.25},
                 {"materials.NMO.initial_stoichiometry", 0.4}};
  const Scenario a = apply_variant(s, v);
  EXPECT_DOUBLE_EQ(a.cell.initial_soc, 0.25);
  EXPECT_DOUBLE_EQ(a.materials.at("NMO").initial_stoichiometry, 0.4);
  const ActiveMaterial& nvp = a.materials.at("NVP");  // from the cell's state of charge
  EXPECT_DOUBLE_EQ(initial_stoichiometry_of(nvp, a.cell.initial_soc),
                   nvp.stoichiometry_discharged - 0.25 * (nvp.stoichiometry_discharged - nvp.stoichiometry_charged));
  EXPECT_DOUBLE_EQ(initial_stoichiometry_of(a.materials.at("NMO"), a.cell.initial_soc), 0.4);
  EXPECT_DOUBLE_EQ(initial_stoichiometry_of(s.materials.at("NVP"), s.cell.initial_soc),
                   s.materials.at("NVP").stoichiometry_discharged);
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
  EXPECT_NE(s.materials.at("NVP").diffusivity_m2_s, 2e-15);  // base untouched

  // A two-electrode scenario has no reference electrode for a variant to move.
  Scenario two = s;
  two.cell.measured_against_counter = true;
  VariantSpec moved;
  moved.label = "moved";
  moved.overrides = {{"cell.reference_position_fraction", 0.2}};
  EXPECT_NO_THROW(apply_variant(s, moved));
  try {
    apply_variant(two, moved);
    ADD_FAILURE() << "a reference position was accepted in a two-electrode scenario";
  } catch (const ScenarioError& e) {
    EXPECT_HAS(std::string(e.what()), "cell.reference_position_fraction = 0.2");
    EXPECT_HAS(std::string(e.what()), "no reference electrode");
  }
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
  v.overrides = {{"cell.initial_soc", -0.1}};
  EXPECT_THROW(apply_variant(s, v), ScenarioError);
  for (double x0 : {0.0, 1.0, std::nan("")}) {
    v.overrides = {{"materials.NVP.initial_stoichiometry", x0}};
    try {
      apply_variant(s, v);
      ADD_FAILURE() << "no error for " << x0;
    } catch (const ScenarioError& e) {
      EXPECT_HAS(std::string(e.what()), "materials.NVP.initial_stoichiometry");
      EXPECT_HAS(std::string(e.what()), "0 < initial_stoichiometry < 1");
    }
  }
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
  EXPECT_HAS(load_error(minimal_text() + "\n[cell]\ninitial_soc = 1.5\n"), "cell.initial_soc = 1.5");
  EXPECT_HAS(load_error(minimal_text() + "\n[cell]\ninitial_soc = 1.5\n"), "0 <= initial_soc <= 1");
  EXPECT_HAS(load_error(minimal_text() + "\n[numerics]\nparticle_shells = 2\n"),
             "numerics.particle_shells = 2");
  EXPECT_HAS(load_error(minimal_text() + "\n[cell]\ncounter_electrode = \"hard carbon\"\n"),
             "cell.counter_electrode = \"hard carbon\"");
  // A porous counter electrode needs its table, and the table needs the porous counter.
  const std::string porous_table =
      "\n[counter_electrode]\nmaterial = \"hard_carbon\"\nthickness_m = 75e-6\nporosity = 0.45\n"
      "particle_radius_m = 3.48e-6\nbruggeman_exponent = 1.5\n";
  EXPECT_HAS(load_error(minimal_text() + "\n[cell]\ncounter_electrode = \"porous\"\n"),
             "cell.counter_electrode = \"porous\" needs a [counter_electrode] table");
  EXPECT_HAS(load_error(minimal_text() + porous_table), "[counter_electrode] is given but cell.counter_electrode");
  EXPECT_EQ(load_error(minimal_text() + "\n[cell]\ncounter_electrode = \"porous\"\n" + porous_table), "");
  EXPECT_HAS(load_error(minimal_text() + "\n[cell]\ncounter_electrode = \"porous\"\n" +
                        replaced_once(porous_table, "porosity = 0.45", "porosity = 1.2")),
             "counter_electrode.porosity = 1.2");
  // A two-electrode potential has no reference to place, and needs a metal (or ideal) counter.
  EXPECT_EQ(load_error(minimal_text() + "\n[cell]\nmeasured_against = \"counter\"\n"), "");
  EXPECT_HAS(load_error(minimal_text() + "\n[cell]\nmeasured_against = \"counter\"\nreference_position_fraction = 0.5\n"),
             "cell.measured_against = \"counter\" and cell.reference_position_fraction = 0.5 are both given");
  EXPECT_HAS(load_error(minimal_text() + "\n[cell]\nmeasured_against = \"counter\"\ncounter_electrode = \"porous\"\n" +
                        porous_table),
             "cell.measured_against = \"counter\" with cell.counter_electrode = \"porous\"");
  EXPECT_HAS(load_error(minimal_text() + "\n[cell]\nmeasured_against = \"metal\"\n"), "cell.measured_against");
  // Its transport and mesh have the separator's ranges (a tortuosity of 0 made its
  // transport factor infinite until 2026-12-07).
  EXPECT_HAS(load_error(minimal_text() + "\n[cell]\ncounter_electrode = \"porous\"\n" +
                        replaced_once(porous_table, "bruggeman_exponent = 1.5", "tortuosity = 0")),
             "counter_electrode.tortuosity = 0");
  EXPECT_HAS(load_error(minimal_text() + "\n[cell]\ncounter_electrode = \"porous\"\n" +
                        replaced_once(porous_table, "bruggeman_exponent = 1.5", "bruggeman_exponent = 9")),
             "counter_electrode.bruggeman_exponent = 9");
  EXPECT_HAS(load_error(minimal_text() + "\n[cell]\ncounter_electrode = \"porous\"\n" + porous_table + "nodes = 1\n"),
             "counter_electrode.nodes = 1");
  EXPECT_HAS(load_error(minimal_text() + "\n[cell]\ncounter_electrode = \"porous\"\n" +
                        replaced_once(porous_table, "hard_carbon", "unobtainium")),
             "counter_electrode.material = \"unobtainium\"");
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

// A misspelt required key or table is named, with the key it looks like.
TEST(ScenarioErrors, MisspeltRequiredKeyIsNamed) {
  const std::string m = load_error(edited("porosity = 0.35", "porisity = 0.35"), "typo.toml");
  EXPECT_HAS(m, "typo.toml");
  EXPECT_HAS(m, "unknown key layers[0].porisity = 0.35");
  EXPECT_HAS(m, "did you mean porosity?");
  EXPECT_HAS(m, "layers[0].porosity is required");
  const std::string t = load_error(edited("[separator]", "[seperator]"));
  EXPECT_HAS(t, "unknown key seperator");
  EXPECT_HAS(t, "did you mean separator?");
  const std::string b = load_error(edited("tortuosity = 2.0", "tortuosty = 2.0"));
  EXPECT_HAS(b, "unknown key layers[0].tortuosty");
  EXPECT_HAS(b, "did you mean tortuosity?");
  // Unrelated extra keys are not taken for typos: the missing key is reported.
  const std::string u = load_error(edited("porosity = 0.35", "colour = 0.35"));
  EXPECT_HAS(u, "missing required key layers[0].porosity");
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
  return replaced_once(output_text(), from, to);
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

// --- design space ([design]) ------------------------------------------------

std::string design_text() { return slurp(kData + "/design_full.toml"); }

// The design fixture with `from` replaced by `to` (exactly once).
std::string design_edited(const std::string& from, const std::string& to) {
  return replaced_once(design_text(), from, to);
}

// The design fixture up to (without) its [design] section, plus `design`.
std::string design_with(const std::string& design) { return with_section(design_text(), "[design]", design); }

const std::string kThirdLayer =
    "[[layers]]\nthickness_m = 30e-6\nporosity = 0.4\nbruggeman_exponent = 1.5\n"
    "conductivity_S_m = 15.0\n[[layers.materials]]\nname = \"test_sloping\"\n"
    "solid_volume_fraction = 0.8\nparticle_radius_m = 3e-6\n\n";

const std::string kOneVariable =
    "[design]\n[[design.variables]]\npath = \"layers[0].porosity\"\nmin = 0.3\nmax = 0.45\n";

TEST(ScenarioDesign, FullSectionLoads) {
  const Scenario s = load_scenario(kData + "/design_full.toml");
  const DesignSpec& d = s.design;
  EXPECT_TRUE(d.present);
  EXPECT_EQ(d.objective, "retention_3C");
  EXPECT_EQ(d.algorithm, "LN_SBPLX");
  EXPECT_EQ(d.sampler, "random");
  EXPECT_EQ(d.initial_population, 16);
  EXPECT_EQ(d.starts_per_choice, 3);
  EXPECT_EQ(d.max_evaluations, 500);
  EXPECT_EQ(d.max_evaluations_per_optimizer, 120);
  EXPECT_DOUBLE_EQ(d.max_time_s, 3600.0);
  EXPECT_DOUBLE_EQ(d.xtol_rel, 1e-3);
  EXPECT_DOUBLE_EQ(d.ftol_rel, 0.0);
  EXPECT_EQ(d.seed, 42u);
  EXPECT_DOUBLE_EQ(d.total_thickness_m, 100e-6);
  EXPECT_DOUBLE_EQ(d.penalty_weight, 50.0);
  EXPECT_EQ(d.layer_orders, (std::vector<std::vector<int>>{{0, 1}, {1, 0}}));

  ASSERT_EQ(d.variables.size(), 4u);
  EXPECT_EQ(d.variables[0].path, "layers[0].porosity");
  EXPECT_DOUBLE_EQ(d.variables[0].min, 0.30);
  EXPECT_DOUBLE_EQ(d.variables[0].max, 0.45);
  EXPECT_FALSE(d.variables[0].log);
  EXPECT_EQ(d.variables[1].path, "layers[1].thickness_fraction");
  EXPECT_DOUBLE_EQ(d.variables[1].min, 0.2);
  EXPECT_DOUBLE_EQ(d.variables[1].max, 0.8);
  EXPECT_EQ(d.variables[2].path, "layers[0].materials[0].particle_radius_m");
  EXPECT_TRUE(d.variables[2].log);
  EXPECT_DOUBLE_EQ(d.variables[2].min, 1e-6);
  EXPECT_EQ(d.variables[3].path, "materials.test_plateau.diffusivity_m2_s");
  EXPECT_DOUBLE_EQ(d.variables[3].max, 1e-13);

  ASSERT_EQ(d.constraints.size(), 3u);
  const ConstraintSpec& c0 = d.constraints[0];
  EXPECT_EQ(c0.name, "areal_capacity");
  EXPECT_EQ(c0.metric.name, "areal_capacity");
  EXPECT_EQ(c0.metric.kind, "capacity_mAh_cm2");
  EXPECT_EQ(c0.metric.step, 0);
  EXPECT_EQ(c0.metric.reference_step, -1);
  EXPECT_DOUBLE_EQ(c0.min, 2.0);
  EXPECT_DOUBLE_EQ(c0.max, 1e300);  // no upper bound
  const ConstraintSpec& c1 = d.constraints[1];
  EXPECT_EQ(c1.metric.kind, "active_mass_mg_cm2");
  EXPECT_EQ(c1.metric.step, -1);
  EXPECT_DOUBLE_EQ(c1.min, 5.0);  // an integer is accepted
  EXPECT_DOUBLE_EQ(c1.max, 20.0);
  const ConstraintSpec& c2 = d.constraints[2];
  EXPECT_EQ(c2.metric.kind, "retention");
  EXPECT_EQ(c2.metric.step, 3);
  EXPECT_EQ(c2.metric.reference_step, 0);
  EXPECT_DOUBLE_EQ(c2.min, -1e300);  // no lower bound
  EXPECT_DOUBLE_EQ(c2.max, 0.99);
  // The rest of the file is unaffected.
  EXPECT_EQ(s.objectives.size(), 2u);
  EXPECT_EQ(s.variants.size(), 1u);
}

TEST(ScenarioDesign, DefaultsAndAbsence) {
  const Scenario s = load_scenario_text(design_with(kOneVariable), kData + "/design_min.toml");
  const DesignSpec& d = s.design;
  const DesignSpec def;
  EXPECT_TRUE(d.present);
  EXPECT_EQ(d.objective, "q_slow");  // the first objective
  EXPECT_EQ(d.algorithm, "LN_BOBYQA");
  EXPECT_EQ(d.sampler, "lhs");
  EXPECT_EQ(d.initial_population, 32);
  EXPECT_EQ(d.starts_per_choice, 2);
  EXPECT_EQ(d.max_evaluations, 1000);
  EXPECT_EQ(d.max_evaluations_per_optimizer, 200);
  EXPECT_DOUBLE_EQ(d.max_time_s, 0.0);
  EXPECT_DOUBLE_EQ(d.xtol_rel, 1e-4);
  EXPECT_DOUBLE_EQ(d.ftol_rel, 1e-4);  // about the objective's noise (docs/optimizer.md 5)
  EXPECT_EQ(d.seed, 1u);
  EXPECT_DOUBLE_EQ(d.total_thickness_m, 0.0);
  EXPECT_DOUBLE_EQ(d.penalty_weight, 100.0);
  EXPECT_TRUE(d.layer_orders.empty());
  EXPECT_TRUE(d.constraints.empty());
  ASSERT_EQ(d.variables.size(), 1u);
  EXPECT_FALSE(d.variables[0].log);
  EXPECT_EQ(d.initial_population, def.initial_population);
  EXPECT_EQ(d.max_evaluations, def.max_evaluations);
  // Without [design]: not present, defaults.
  const Scenario m = load_scenario(kData + "/scenario_minimal.toml");
  EXPECT_FALSE(m.design.present);
  EXPECT_TRUE(m.design.variables.empty());
  EXPECT_FALSE(load_scenario(kSource + "/scenarios/default.toml").design.present);
  // An empty constraints array is allowed.
  EXPECT_EQ(load_error(design_with("[design]\nconstraints = []\n" + kOneVariable.substr(9))), "");
}

TEST(ScenarioDesign, AllLayerOrders) {
  const Scenario two = load_scenario_text(
      design_edited("layer_orders = [[0, 1], [1, 0]]", "layer_orders = \"all\""),
      kData + "/design_all2.toml");
  EXPECT_EQ(two.design.layer_orders, (std::vector<std::vector<int>>{{0, 1}, {1, 0}}));

  std::string t = design_edited("layer_orders = [[0, 1], [1, 0]]", "layer_orders = \"all\"");
  t.replace(t.find("[protocol]"), 0, kThirdLayer);
  const Scenario three = load_scenario_text(t, kData + "/design_all3.toml");
  ASSERT_EQ(three.layers.size(), 3u);
  const std::vector<std::vector<int>> all3 = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                              {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  EXPECT_EQ(three.design.layer_orders, all3);
  // A subset of the orders, listed.
  std::string sub = design_edited("layer_orders = [[0, 1], [1, 0]]",
                                  "layer_orders = [[2, 1, 0], [0, 1, 2]]");
  sub.replace(sub.find("[protocol]"), 0, kThirdLayer);
  EXPECT_EQ(load_scenario_text(sub, kData + "/design_sub3.toml").design.layer_orders,
            (std::vector<std::vector<int>>{{2, 1, 0}, {0, 1, 2}}));
}

TEST(ScenarioDesignErrors, EmptyBounds) {
  const std::string m = load_error(
      design_edited("min = 0.30\nmax = 0.45", "min = 0.45\nmax = 0.30"), "design_bounds.toml");
  EXPECT_HAS(m, "design_bounds.toml");
  EXPECT_HAS(m, "design.variables[0].min = 0.45 and design.variables[0].max = 0.3 give empty "
                "bounds; allowed min < max");
  EXPECT_HAS(load_error(design_edited("min = 0.30\nmax = 0.45", "min = 0.4\nmax = 0.4")),
             "design.variables[0].min = 0.4 and design.variables[0].max = 0.4 give empty bounds");
  EXPECT_HAS(load_error(design_edited("min = 0.30\nmax = 0.45", "min = 0.3")),
             "missing required key design.variables[0].max");
}

TEST(ScenarioDesignErrors, UnknownParameterPath) {
  const std::string m = load_error(
      design_edited("path = \"layers[0].porosity\"", "path = \"layers[0].porosty\""),
      "design_path.toml");
  EXPECT_HAS(m, "design_path.toml");
  EXPECT_HAS(m, "design.variables[0].path = \"layers[0].porosty\" is not a design variable");
  EXPECT_HAS(m, "allowed forms");
  EXPECT_HAS(m, "thickness_fraction");
  // Layer and material indices, checked in every layer order.
  EXPECT_HAS(load_error(design_edited("path = \"layers[0].porosity\"",
                                      "path = \"layers[2].porosity\"")),
             "design.variables[0].path = \"layers[2].porosity\" is not a design variable");
  EXPECT_HAS(load_error(design_edited("path = \"layers[1].thickness_fraction\"",
                                      "path = \"layers[2].thickness_fraction\"")),
             "design.variables[1].path = \"layers[2].thickness_fraction\" is not a design "
             "variable: layer index 2 is out of range");
  // A path that exists but does not enter the simulation.
  EXPECT_HAS(load_error(design_edited("path = \"layers[0].porosity\"",
                                      "path = \"materials.test_plateau.stoichiometry_charged\"")),
             "design.variables[0].path = \"materials.test_plateau.stoichiometry_charged\" is not a design "
             "variable: stoichiometry_charged scales the reported state of charge");
  EXPECT_HAS(load_error(design_edited("path = \"materials.test_plateau.diffusivity_m2_s\"",
                                      "path = \"materials.NVP.diffusivity_m2_s\"")),
             "design.variables[3].path = \"materials.NVP.diffusivity_m2_s\" is not a design "
             "variable");
  // The same parameter twice.
  EXPECT_HAS(load_error(design_edited("path = \"materials.test_plateau.diffusivity_m2_s\"",
                                      "path = \"layers[0].porosity\"")),
             "design.variables[3].path = \"layers[0].porosity\" is also the path of "
             "design.variables[0]");
  // A fixed total thickness excludes layer thickness variables.
  EXPECT_HAS(load_error(design_edited("path = \"layers[0].porosity\"\nmin = 0.30\nmax = 0.45",
                                      "path = \"layers[0].thickness_m\"\nmin = 1e-5\nmax = 5e-5")),
             "design.variables[0].path = \"layers[0].thickness_m\" is not allowed with "
             "design.total_thickness_m = 0.0001");
}

TEST(ScenarioDesignErrors, UnknownAlgorithm) {
  const std::string m = load_error(design_edited("algorithm = \"LN_SBPLX\"", "algorithm = \"LN_SIMPLEX\""),
                                   "design_algorithm.toml");
  EXPECT_HAS(m, "design_algorithm.toml");
  EXPECT_HAS(m, "design.algorithm = \"LN_SIMPLEX\" is not an NLopt algorithm");
  EXPECT_HAS(m, "\"LN_BOBYQA\", \"LN_COBYLA\"");
  // NLopt's own spelling, with a hint.
  EXPECT_HAS(load_error(design_edited("algorithm = \"LN_SBPLX\"", "algorithm = \"NLOPT_LN_SBPLX\"")),
             "design.algorithm = \"NLOPT_LN_SBPLX\" is not an NLopt algorithm (write \"LN_SBPLX\")");
  for (const char* ok : {"GN_DIRECT_L", "LN_COBYLA", "GN_ISRES", "LN_NELDERMEAD"})
    EXPECT_EQ(load_error(design_edited("algorithm = \"LN_SBPLX\"",
                                       std::string("algorithm = \"") + ok + "\"")),
              "")
        << ok;
}

TEST(ScenarioDesignErrors, ThicknessFractionNeedsTotal) {
  const std::string m = load_error(design_edited("total_thickness_m = 100e-6\n", ""),
                                   "design_total.toml");
  EXPECT_HAS(m, "design_total.toml");
  EXPECT_HAS(m, "missing required key design.total_thickness_m");
  EXPECT_HAS(m, "design.variables[1].path = \"layers[1].thickness_fraction\"");
  EXPECT_HAS(load_error(design_edited("min = 0.2\nmax = 0.8", "min = 0.2\nmax = 1.0")),
             "design.variables[1].max = 1 is out of range; allowed 0 < min < max < 1");
  EXPECT_HAS(load_error(design_edited("min = 0.2\nmax = 0.8", "min = 0\nmax = 0.8")),
             "design.variables[1].min = 0 is out of range");
  EXPECT_HAS(load_error(design_edited("total_thickness_m = 100e-6", "total_thickness_m = 6e-3")),
             "design.total_thickness_m = 0.006 is out of range; allowed 0 < total_thickness_m <= 5e-3");
  // A total without a fraction variable does nothing: an error.
  EXPECT_HAS(load_error(design_with("[design]\ntotal_thickness_m = 1e-4\n" + kOneVariable.substr(9))),
             "design.total_thickness_m = 0.0001 is not allowed without a "
             "layers[i].thickness_fraction or layers[i].thickness_share variable");
  // Every layer a fraction: the total over-determines them.
  EXPECT_HAS(load_error(design_edited("path = \"layers[0].porosity\"\nmin = 0.30\nmax = 0.45",
                                      "path = \"layers[0].thickness_fraction\"\nmin = 0.2\nmax = 0.8")),
             "every layer (2 of 2) has a thickness_fraction variable");
}

// Thickness shares: a stick-breaking split of the total, bounds 0..1 with a floor
// every layer keeps (docs/scenario-format.md, [[design.variables]]).
const std::string kShareVariable = "path = \"layers[1].thickness_share\"";

std::string share_design(const std::string& bounds, const std::string& floor) {
  std::string t = design_edited("path = \"layers[1].thickness_fraction\"\nmin = 0.2\nmax = 0.8",
                                kShareVariable + "\n" + bounds);
  return floor.empty() ? t : replaced_once(t, "total_thickness_m = 100e-6\n",
                                           "total_thickness_m = 100e-6\n" + floor + "\n");
}

TEST(ScenarioDesign, ThicknessSharesLoad) {
  const Scenario s = load_scenario_text(share_design("min = 0\nmax = 1", "min_layer_thickness_m = 15e-6"),
                                        kData + "/design_share.toml");
  EXPECT_DOUBLE_EQ(s.design.min_layer_thickness_m, 15e-6);
  EXPECT_EQ(s.design.variables[1].path, "layers[1].thickness_share");
  EXPECT_DOUBLE_EQ(s.design.variables[1].min, 0.0);
  EXPECT_DOUBLE_EQ(s.design.variables[1].max, 1.0);
  // Without a floor, open bounds.
  EXPECT_EQ(load_error(share_design("min = 0.1\nmax = 0.9", "")), "");
  // Three layers, shares on two of them.
  std::string three = share_design("min = 0\nmax = 1", "min_layer_thickness_m = 15e-6");
  three.replace(three.find("[protocol]"), 0, kThirdLayer);
  three = replaced_once(three, "layer_orders = [[0, 1], [1, 0]]", "layer_orders = \"all\"");
  three = replaced_once(three, "[[design.constraints]]",
                        "[[design.variables]]\npath = \"layers[0].thickness_share\"\nmin = 0\nmax = 1\n\n"
                        "[[design.constraints]]");
  EXPECT_EQ(load_error(three), "");
}

TEST(ScenarioDesignErrors, ThicknessShareRules) {
  // A share of 0 or 1 without a floor leaves a layer no thickness.
  EXPECT_HAS(load_error(share_design("min = 0\nmax = 0.9", ""), "design_share0.toml"),
             "design_share0.toml: design.variables[1].min = 0 can leave the layer with the share no "
             "thickness; allowed 0 < min < max < 1, or bounds 0 and 1 with "
             "design.min_layer_thickness_m >= 8e-06 (m), one particle of the widest listed material "
             "(listed layer 1, test_plateau)");
  // A floor thinner than a particle is no floor.
  EXPECT_HAS(load_error(share_design("min = 0\nmax = 1", "min_layer_thickness_m = 1e-15")),
             "design.min_layer_thickness_m = 1e-15 is thinner than one particle of the widest listed "
             "material (listed layer 1, test_plateau, diameter 8e-06 m), and design.variables[1].min = 0 "
             "can leave the layer with the share only that; allowed min_layer_thickness_m >= 8e-06 (m)");
  EXPECT_EQ(load_error(share_design("min = 0\nmax = 1", "min_layer_thickness_m = 8e-6")), "");
  EXPECT_HAS(load_error(share_design("min = 0.1\nmax = 1", "")),
             "design.variables[1].max = 1 can leave the layers without a share no thickness");
  EXPECT_HAS(load_error(share_design("min = 0.1\nmax = 1", "min_layer_thickness_m = 0")),
             "design.variables[1].max = 1 can leave the layers without a share no thickness");
  EXPECT_HAS(load_error(share_design("min = 0\nmax = 1.5", "min_layer_thickness_m = 1e-5")),
             "design.variables[1].max = 1.5 is out of range; allowed 0 <= min < max <= 1 for a "
             "thickness_share");
  EXPECT_HAS(load_error(share_design("min = 0.1\nmax = 0.9\nlog = true", "")),
             "design.variables[1].log = true is not allowed for a thickness_share");
  // The floor: below total / layers, and only with shares.
  EXPECT_HAS(load_error(share_design("min = 0\nmax = 1", "min_layer_thickness_m = 50e-6")),
             "design.min_layer_thickness_m = 5e-05 is out of range; allowed 0 <= "
             "min_layer_thickness_m < total_thickness_m / 2 layers = 5e-05 (m)");
  EXPECT_HAS(load_error(design_edited("total_thickness_m = 100e-6\n",
                                      "total_thickness_m = 100e-6\nmin_layer_thickness_m = 1e-5\n")),
             "design.min_layer_thickness_m = 1e-05 is not allowed without a "
             "layers[i].thickness_share variable");
  // One kind of split at a time, and not on every layer.
  EXPECT_HAS(load_error(design_edited("path = \"layers[0].porosity\"\nmin = 0.30\nmax = 0.45",
                                      "path = \"layers[0].thickness_share\"\nmin = 0.2\nmax = 0.8")),
             "design.variables[0].path = \"layers[0].thickness_share\" and "
             "design.variables[1].path = \"layers[1].thickness_fraction\" split the thickness in two "
             "ways");
  EXPECT_HAS(load_error(replaced_once(share_design("min = 0.2\nmax = 0.8", ""),
                                      "path = \"layers[0].porosity\"\nmin = 0.30\nmax = 0.45",
                                      "path = \"layers[0].thickness_share\"\nmin = 0.2\nmax = 0.8")),
             "every layer (2 of 2) has a thickness_share variable; allowed at most 1");
  // It needs the total, like a fraction.
  EXPECT_HAS(load_error(replaced_once(share_design("min = 0.2\nmax = 0.8", ""),
                                      "total_thickness_m = 100e-6\n", "")),
             "missing required key design.total_thickness_m: design.variables[1].path = "
             "\"layers[1].thickness_share\" is the share of the free thickness");
}

// Active shares: the blend of a layer at its listed active content.
std::string blend_design(const std::string& variable) {
  std::string t = replaced_once(design_text(), "name = \"test_sloping\"\nsolid_volume_fraction = 0.9\n",
                                "name = \"test_sloping\"\nsolid_volume_fraction = 0.6\n"
                                "particle_radius_m = 2e-6\n[[layers.materials]]\nname = \"test_plateau\"\n"
                                "solid_volume_fraction = 0.3\n");
  t = replaced_once(t, "name = \"test_plateau\"\nsolid_volume_fraction = 0.9\n",
                    "name = \"test_plateau\"\nsolid_volume_fraction = 0.5\n"
                    "particle_radius_m = 4e-6\n[[layers.materials]]\nname = \"test_sloping\"\n"
                    "solid_volume_fraction = 0.4\n");
  return replaced_once(t, "[[design.constraints]]", variable + "\n[[design.constraints]]");
}

TEST(ScenarioDesign, ActiveSharesLoad) {
  const Scenario s = load_scenario_text(
      blend_design("[[design.variables]]\npath = \"layers[0].materials[1].active_share\"\nmin = 0\nmax = 1\n"),
      kData + "/design_blend.toml");
  ASSERT_EQ(s.design.variables.size(), 5u);
  EXPECT_EQ(s.design.variables[4].path, "layers[0].materials[1].active_share");
  EXPECT_DOUBLE_EQ(s.design.variables[4].max, 1.0);
}

TEST(ScenarioDesignErrors, ActiveShareRules) {
  const std::string share1 = "[[design.variables]]\npath = \"layers[0].materials[1].active_share\"\n";
  EXPECT_HAS(load_error(blend_design(share1 + "min = 0\nmax = 1.2\n"), "design_blend.toml"),
             "design_blend.toml: design.variables[4].max = 1.2 is out of range; allowed 0 <= min < "
             "max <= 1 for an active_share");
  EXPECT_HAS(load_error(blend_design(share1 + "min = 0.1\nmax = 0.9\nlog = true\n")),
             "design.variables[4].log = true is not allowed for an active_share");
  // A slot that a layer at the position lacks, in any order.
  EXPECT_HAS(load_error(blend_design("[[design.variables]]\npath = \"layers[0].materials[2].active_share\"\n"
                                     "min = 0\nmax = 1\n")),
             "design.variables[4].path = \"layers[0].materials[2].active_share\" is not a design variable");
  // Every material of the layer with a share: nothing takes the rest.
  EXPECT_HAS(load_error(blend_design(share1 + "min = 0\nmax = 1\n\n[[design.variables]]\n"
                                     "path = \"layers[0].materials[0].active_share\"\nmin = 0\nmax = 1\n")),
             "design.variables: layers[0] has 2 active_share variable(s) and in design.layer_orders[0] "
             "= [0, 1] 2 material(s); allowed at most 1");
  // Layer orders moving a one-material layer to the position: a share of its only
  // material would leave nothing to take the rest, in that order.
  std::string mixed = blend_design(share1 + "min = 0\nmax = 1\n");
  mixed = replaced_once(mixed, "particle_radius_m = 4e-6\n[[layers.materials]]\nname = \"test_sloping\"\n"
                               "solid_volume_fraction = 0.4\n", "");
  EXPECT_HAS(load_error(replaced_once(mixed, "layers[0].materials[1].active_share", "layers[0].materials[0].active_share")),
             "design.variables: layers[0] has 1 active_share variable(s) and in design.layer_orders[1] "
             "= [1, 0] 1 material(s); allowed at most 0");
  // ... and a slot that layer lacks is named as written.
  EXPECT_HAS(load_error(mixed),
             "design.variables[4].path = \"layers[0].materials[1].active_share\" is not a design variable "
             "in design.layer_orders[1] = [1, 0]: material index 1 in \"layers[0].materials[1].active_share\"");
  // In the fixture as it is, the layer at position 0 has one material.
  EXPECT_HAS(load_error(replaced_once(design_text(), "[[design.constraints]]",
                                      share1 + "min = 0\nmax = 1\n\n[[design.constraints]]")),
             "design.variables[4].path = \"layers[0].materials[1].active_share\" is not a design variable");
  // A share and a solid fraction of the same layer position.
  EXPECT_HAS(load_error(blend_design(share1 + "min = 0\nmax = 1\n\n[[design.variables]]\n"
                                     "path = \"layers[0].materials[0].solid_volume_fraction\"\nmin = 0.2\nmax = 0.5\n")),
             "design.variables[5].path = \"layers[0].materials[0].solid_volume_fraction\" and "
             "design.variables[4].path = \"layers[0].materials[1].active_share\" both set the blend of layers[0]");
}

TEST(ScenarioDesignErrors, LogNeedsPositiveMin) {
  const std::string m = load_error(design_edited("min = 1e-6\nmax = 1e-5\nlog = true",
                                                 "min = 0\nmax = 1e-5\nlog = true"),
                                   "design_log.toml");
  EXPECT_HAS(m, "design_log.toml");
  EXPECT_HAS(m, "design.variables[2].min = 0 is not allowed with design.variables[2].log = true");
  EXPECT_HAS(m, "min > 0");
  EXPECT_HAS(load_error(design_edited("log = true", "log = 1")),
             "design.variables[2].log = 1 is not true or false");
}

TEST(ScenarioDesignErrors, BoundOutsideParameterRange) {
  const std::string m = load_error(design_edited("min = 0.30\nmax = 0.45", "min = 0.30\nmax = 1.2"),
                                   "design_porosity.toml");
  EXPECT_HAS(m, "design_porosity.toml");
  EXPECT_HAS(m, "design.variables[0].max = 1.2 is not an allowed value of layers[0].porosity");
  EXPECT_HAS(m, "allowed 0 < porosity < 1");
  EXPECT_HAS(load_error(design_edited("min = 0.30\nmax = 0.45", "min = -0.1\nmax = 0.45")),
             "design.variables[0].min = -0.1 is not an allowed value of layers[0].porosity");
  EXPECT_HAS(load_error(design_edited("min = 1e-6\nmax = 1e-5", "min = 1e-6\nmax = 1e-2")),
             "design.variables[2].max = 0.01 is not an allowed value of "
             "layers[0].materials[0].particle_radius_m");
}

TEST(ScenarioDesignErrors, PathsAndBoundsInEveryLayerOrder) {
  // Listed layer 0 gets a second material: layers[0].materials[1] exists in the listed
  // order only, and with order [1, 0] position 1 holds the two-material layer.
  const std::string two = design_edited(
      "particle_radius_m = 2e-6\n",
      "particle_radius_m = 2e-6\n[[layers.materials]]\nname = \"test_plateau\"\n"
      "solid_volume_fraction = 0.1\nparticle_radius_m = 1e-6\n");
  auto with_var = [&](const std::string& var) {
    std::string t = two;
    t.replace(t.find("path = \"layers[0].materials[0].particle_radius_m\""),
              std::string("path = \"layers[0].materials[0].particle_radius_m\"").size(), var);
    return t;
  };
  const std::string m =
      load_error(with_var("path = \"layers[0].materials[1].particle_radius_m\""), "design_ord.toml");
  EXPECT_HAS(m, "design_ord.toml");
  EXPECT_HAS(m, "design.variables[2].path = \"layers[0].materials[1].particle_radius_m\" is not a "
                "design variable in design.layer_orders[1] = [1, 0]: material index 1");
  // Fine in the listed order only.
  std::string listed = with_var("path = \"layers[0].materials[1].particle_radius_m\"");
  listed.replace(listed.find("layer_orders = [[0, 1], [1, 0]]\n"),
                 std::string("layer_orders = [[0, 1], [1, 0]]\n").size(), "");
  EXPECT_EQ(load_error(listed), "");
  // A bound valid for the listed layer 1 but not for listed layer 0 at position 1.
  std::string bt = two;
  const std::string block =
      "path = \"layers[0].materials[0].particle_radius_m\"\nmin = 1e-6\nmax = 1e-5\nlog = true";
  bt.replace(bt.find(block), block.size(),
             "path = \"layers[1].materials[0].solid_volume_fraction\"\nmin = 0.5\nmax = 0.95");
  const std::string b = load_error(bt, "design_ord_bound.toml");
  EXPECT_HAS(b, "design_ord_bound.toml");
  EXPECT_HAS(b, "design.variables[2].max = 0.95 is not an allowed value of "
                "layers[1].materials[0].solid_volume_fraction in design.layer_orders[1] = [1, 0]: "
                "layers[1].materials[*].solid_volume_fraction sum to");
}

TEST(ScenarioDesignErrors, ConstraintBounds) {
  const std::string m =
      load_error(design_edited("min = 5\nmax = 20.0", "min = 20\nmax = 5"), "design_con.toml");
  EXPECT_HAS(m, "design_con.toml");
  EXPECT_HAS(m, "design.constraints[1].min = 20 and design.constraints[1].max = 5 leave no "
                "feasible value");
  EXPECT_HAS(load_error(design_edited("min = 5\nmax = 20.0\n", "")),
             "missing required key design.constraints[1].min or design.constraints[1].max");
}

TEST(ScenarioDesignErrors, ConstraintSteps) {
  const std::string m = load_error(design_edited("kind = \"capacity_mAh_cm2\"\nstep = 0",
                                                 "kind = \"capacity_mAh_cm2\"\nstep = 4"),
                                   "design_step.toml");
  EXPECT_HAS(m, "design_step.toml");
  EXPECT_HAS(m, "design.constraints[0].step = 4 is out of range; allowed 0 <= step <= 3");
  EXPECT_HAS(load_error(design_edited("kind = \"capacity_mAh_cm2\"\nstep = 0",
                                      "kind = \"capacity_mAh_cm2\"\nstep = 1")),
             "design.constraints[0].step = 1 is a Rest step");
  EXPECT_HAS(load_error(design_edited("kind = \"capacity_mAh_cm2\"\nstep = 0\n",
                                      "kind = \"capacity_mAh_cm2\"\n")),
             "missing required key design.constraints[0].step");
  EXPECT_HAS(load_error(design_edited("kind = \"active_mass_mg_cm2\"",
                                      "kind = \"active_mass_mg_cm2\"\nstep = 0")),
             "design.constraints[1].step = 0 is not allowed for design.constraints[1].kind = "
             "\"active_mass_mg_cm2\"");
  EXPECT_HAS(load_error(design_edited("step = 3\nreference_step = 0\nmax = 0.99",
                                      "step = 3\nmax = 0.99")),
             "missing required key design.constraints[2].reference_step");
  EXPECT_HAS(load_error(design_edited("kind = \"capacity_mAh_cm2\"\nstep = 0",
                                      "kind = \"capacity_mAh_cm2\"\nstep = 0\nreference_step = 2")),
             "design.constraints[0].reference_step = 2 is not allowed");
  EXPECT_HAS(load_error(design_edited("kind = \"capacity_mAh_cm2\"", "kind = \"capacity\"")),
             "design.constraints[0].kind = \"capacity\" is not a constraint kind");
  EXPECT_HAS(load_error(design_edited("name = \"loading\"", "name = \"areal_capacity\"")),
             "design.constraints[1].name = \"areal_capacity\" is also the name of "
             "design.constraints[0]");
}

TEST(ScenarioDesignErrors, BadLayerOrder) {
  const std::string m = load_error(
      design_edited("layer_orders = [[0, 1], [1, 0]]", "layer_orders = [[0, 1], [1, 1]]"),
      "design_order.toml");
  EXPECT_HAS(m, "design_order.toml");
  EXPECT_HAS(m, "design.layer_orders[1] = [1, 1] is not a permutation of the layer indices");
  EXPECT_HAS(m, "0 .. 1");
  EXPECT_HAS(load_error(design_edited("layer_orders = [[0, 1], [1, 0]]",
                                      "layer_orders = [[0, 1, 2]]")),
             "design.layer_orders[0] = [0, 1, 2] is not a permutation");
  EXPECT_HAS(load_error(design_edited("layer_orders = [[0, 1], [1, 0]]",
                                      "layer_orders = [[1, 0], [1, 0]]")),
             "design.layer_orders[1] = [1, 0] is the same as design.layer_orders[0]");
  EXPECT_HAS(load_error(design_edited("layer_orders = [[0, 1], [1, 0]]", "layer_orders = \"some\"")),
             "design.layer_orders = \"some\" is not allowed");
  EXPECT_HAS(load_error(design_edited("layer_orders = [[0, 1], [1, 0]]", "layer_orders = []")),
             "design.layer_orders = [] is empty");
}

TEST(ScenarioDesignErrors, UnknownObjective) {
  const std::string m = load_error(
      design_edited("objective = \"retention_3C\"", "objective = \"retention_5C\""),
      "design_objective.toml");
  EXPECT_HAS(m, "design_objective.toml");
  EXPECT_HAS(m, "design.objective = \"retention_5C\" names no objective");
  EXPECT_HAS(m, "\"q_slow\", \"retention_3C\"");
  // No objectives at all.
  std::string t = design_with(kOneVariable);
  const size_t from = t.find("\n[[objectives]]\n");
  t.erase(from, t.find("\n[design]\n") - from);
  const std::string none = load_error(t, "design_none.toml");
  EXPECT_HAS(none, "design_none.toml");
  EXPECT_HAS(none, "no [[objectives]]");
}

TEST(ScenarioDesignErrors, SettingsAndUnknownKeys) {
  const std::string u = load_error(design_edited("seed = 42", "sead = 42"), "design_key.toml");
  EXPECT_HAS(u, "design_key.toml");
  EXPECT_HAS(u, "unknown key design.sead = 42");
  EXPECT_HAS(u, "allowed keys in design: objective, algorithm, sampler, initial_population, "
                "starts_per_choice, max_evaluations, max_evaluations_per_optimizer, max_time_s, "
                "xtol_rel, ftol_rel, seed, total_thickness_m, min_layer_thickness_m, penalty_weight, layer_orders, "
                "variables, constraints");
  EXPECT_HAS(load_error(design_edited("log = true", "log = true\nscale = 2")),
             "unknown key design.variables[2].scale = 2");
  EXPECT_HAS(load_error(design_edited("sampler = \"random\"", "sampler = \"sobol\"")),
             "design.sampler = \"sobol\" is not allowed; allowed \"lhs\"");
  EXPECT_HAS(load_error(design_edited("initial_population = 16", "initial_population = 0")),
             "design.initial_population = 0 is out of range");
  EXPECT_HAS(load_error(design_edited("max_evaluations = 500", "max_evaluations = 10")),
             "design.max_evaluations = 10 is out of range; allowed max_evaluations >= "
             "initial_population (16)");
  EXPECT_HAS(load_error(design_edited("starts_per_choice = 3", "starts_per_choice = 1001")),
             "design.starts_per_choice = 1001 is out of range");
  EXPECT_HAS(load_error(design_edited("max_evaluations_per_optimizer = 120",
                                      "max_evaluations_per_optimizer = 0")),
             "design.max_evaluations_per_optimizer = 0 is out of range");
  EXPECT_HAS(load_error(design_edited("max_time_s = 3600.0", "max_time_s = -1")),
             "design.max_time_s = -1 is out of range");
  EXPECT_HAS(load_error(design_edited("xtol_rel = 1e-3", "xtol_rel = 0")),
             "design.xtol_rel = 0 is out of range");
  EXPECT_HAS(load_error(design_edited("ftol_rel = 0.0", "ftol_rel = -1e-3")),
             "design.ftol_rel = -0.001 is out of range");
  EXPECT_HAS(load_error(design_edited("seed = 42", "seed = -1")), "design.seed = -1 is out of range");
  EXPECT_HAS(load_error(design_edited("seed = 42", "seed = 4.5")), "design.seed = 4.5 is not an integer");
  EXPECT_HAS(load_error(design_edited("penalty_weight = 50.0", "penalty_weight = 0")),
             "design.penalty_weight = 0 is out of range");
  EXPECT_HAS(load_error(design_with("[design]\nobjective = \"q_slow\"\n")),
             "missing required key design.variables");
  EXPECT_HAS(load_error(design_with("[design]\nvariables = []\n")),
             "design.variables = [] is not a non-empty array of tables");
}

// --- calibration ([fit]) ----------------------------------------------------

std::string fit_text() { return slurp(kData + "/fit_full.toml"); }

// The fit fixture with `from` replaced by `to` (exactly once).
std::string fit_edited(const std::string& from, const std::string& to) {
  return replaced_once(fit_text(), from, to);
}

// The fit fixture up to (without) its [fit] section, plus `fit`.
std::string fit_with(const std::string& fit) { return with_section(fit_text(), "[fit]", fit); }

const std::string kFitParameter =
    "[[fit.parameters]]\npath = \"layers[0].porosity\"\nmin = 0.3\nmax = 0.45\n";
const std::string kFitTarget =
    "[[fit.targets]]\nname = \"q\"\nvariant = \"thin\"\nkind = \"capacity_mAh_cm2\"\nstep = 3\n"
    "value = 1.2\nsigma = 0.05\n";

TEST(ScenarioFit, FullSectionLoads) {
  const Scenario s = load_scenario(kData + "/fit_full.toml");
  const FitSpec& f = s.fit;
  EXPECT_TRUE(f.present);
  EXPECT_EQ(f.algorithm, "LN_SBPLX");
  EXPECT_EQ(f.starts, 3);
  EXPECT_EQ(f.initial_population, 24);
  EXPECT_EQ(f.max_evaluations, 300);
  EXPECT_DOUBLE_EQ(f.xtol_rel, 1e-4);
  EXPECT_DOUBLE_EQ(f.ftol_rel, 0.0);
  EXPECT_EQ(f.seed, 7u);

  ASSERT_EQ(f.parameters.size(), 3u);
  EXPECT_EQ(f.parameters[0].path, "materials.test_plateau.diffusivity_m2_s");
  EXPECT_DOUBLE_EQ(f.parameters[0].min, 1e-16);
  EXPECT_DOUBLE_EQ(f.parameters[0].max, 1e-13);
  EXPECT_TRUE(f.parameters[0].log);
  EXPECT_EQ(f.parameters[1].path, "layers[0].tortuosity");
  EXPECT_DOUBLE_EQ(f.parameters[1].min, 1.2);
  EXPECT_DOUBLE_EQ(f.parameters[1].max, 6.0);  // an integer is accepted
  EXPECT_FALSE(f.parameters[1].log);
  EXPECT_EQ(f.parameters[2].path, "layers[0].materials[1].solid_volume_fraction");
  EXPECT_DOUBLE_EQ(f.parameters[2].max, 0.33);

  ASSERT_EQ(f.targets.size(), 3u);
  const FitTarget& t0 = f.targets[0];
  EXPECT_EQ(t0.name, "thin_slow");
  EXPECT_EQ(t0.variant, "thin");
  EXPECT_EQ(t0.metric.name, "thin_slow");
  EXPECT_EQ(t0.metric.kind, "capacity_mAh_g");
  EXPECT_EQ(t0.metric.step, 0);
  EXPECT_EQ(t0.metric.reference_step, -1);
  EXPECT_DOUBLE_EQ(t0.value, 68.5);
  EXPECT_DOUBLE_EQ(t0.sigma, 1.5);
  const FitTarget& t1 = f.targets[1];
  EXPECT_EQ(t1.name, "thick_3C");
  EXPECT_EQ(t1.variant, "thick");
  EXPECT_EQ(t1.metric.kind, "retention");
  EXPECT_EQ(t1.metric.step, 4);
  EXPECT_EQ(t1.metric.reference_step, 0);
  EXPECT_DOUBLE_EQ(t1.value, 0.62);
  EXPECT_DOUBLE_EQ(t1.sigma, 0.02);
  const FitTarget& t2 = f.targets[2];
  EXPECT_EQ(t2.metric.kind, "energy_Wh_kg");
  EXPECT_EQ(t2.metric.step, 3);
  EXPECT_DOUBLE_EQ(t2.value, 190.0);
  EXPECT_DOUBLE_EQ(t2.sigma, 5.0);
  // The rest of the file is unaffected.
  EXPECT_EQ(s.variants.size(), 2u);
  EXPECT_FALSE(s.design.present);
  EXPECT_TRUE(s.objectives.empty());
}

TEST(ScenarioFit, DefaultsAndAbsence) {
  const Scenario s = load_scenario_text(fit_with("[fit]\n" + kFitParameter + kFitTarget),
                                        kData + "/fit_min.toml");
  const FitSpec& f = s.fit;
  const FitSpec def;
  EXPECT_TRUE(f.present);
  EXPECT_EQ(f.algorithm, "LN_BOBYQA");
  EXPECT_EQ(f.starts, 2);
  EXPECT_EQ(f.initial_population, 16);
  EXPECT_EQ(f.max_evaluations, 400);
  EXPECT_DOUBLE_EQ(f.xtol_rel, 1e-5);
  EXPECT_DOUBLE_EQ(f.ftol_rel, 1e-8);
  EXPECT_EQ(f.seed, 1u);
  EXPECT_EQ(f.algorithm, def.algorithm);
  EXPECT_EQ(f.max_evaluations, def.max_evaluations);
  ASSERT_EQ(f.parameters.size(), 1u);
  EXPECT_FALSE(f.parameters[0].log);
  ASSERT_EQ(f.targets.size(), 1u);
  EXPECT_EQ(f.targets[0].metric.kind, "capacity_mAh_cm2");
  EXPECT_EQ(f.targets[0].metric.reference_step, -1);
  // [[fit.parameters]] may come before [fit] keys in any order TOML allows; a sweep's
  // labels are the variants' labels after expansion.
  std::string swept = fit_with("[batch.sweep]\n\"cell.temperature_K\" = [298.15, 308.15]\n\n[fit]\n" +
                               kFitParameter + kFitTarget);
  swept.replace(swept.find("variant = \"thin\""), std::string("variant = \"thin\"").size(),
                "variant = \"thin cell.temperature_K=308.15\"");
  const Scenario sw = load_scenario_text(swept, kData + "/fit_sweep.toml");
  EXPECT_EQ(sw.variants.size(), 4u);
  EXPECT_EQ(sw.fit.targets[0].variant, "thin cell.temperature_K=308.15");
  // Without [fit]: not present, defaults.
  const Scenario m = load_scenario(kData + "/scenario_minimal.toml");
  EXPECT_FALSE(m.fit.present);
  EXPECT_TRUE(m.fit.parameters.empty());
  EXPECT_TRUE(m.fit.targets.empty());
  EXPECT_FALSE(load_scenario(kSource + "/scenarios/default.toml").fit.present);
  EXPECT_FALSE(load_scenario(kData + "/design_full.toml").fit.present);
}

TEST(ScenarioFitErrors, UnknownVariantLabel) {
  const std::string m =
      load_error(fit_edited("variant = \"thick\"\nkind = \"retention\"",
                            "variant = \"medium\"\nkind = \"retention\""),
                 "fit_variant.toml");
  EXPECT_HAS(m, "fit_variant.toml");
  EXPECT_HAS(m, "fit.targets[1].variant = \"medium\" is not the label of a variant");
  EXPECT_HAS(m, "the scenario expands to 2 variants: \"thin\", \"thick\"");
  // Labels count after the batch is expanded: with a sweep, "thin" alone is no variant.
  const std::string sw = load_error(
      fit_with("[batch.sweep]\n\"cell.temperature_K\" = [298.15, 308.15]\n\n[fit]\n" +
               kFitParameter + kFitTarget),
      "fit_sweep.toml");
  EXPECT_HAS(sw, "fit_sweep.toml");
  EXPECT_HAS(sw, "fit.targets[0].variant = \"thin\" is not the label of a variant");
  EXPECT_HAS(sw, "4 variants: \"thin cell.temperature_K=298.15\"");
  // Without [batch] the one variant is labelled with scenario.name.
  std::string base = fit_with("[fit]\n" + kFitParameter + kFitTarget);
  base.erase(base.find("[[batch.variants]]"), base.find("\n[fit]\n") - base.find("[[batch.variants]]"));
  EXPECT_HAS(load_error(base), "fit.targets[0].variant = \"thin\" is not the label of a variant; "
                               "allowed the label of a variant of the expanded batch (the "
                               "scenario expands to 1 variant: \"fit_full\")");
  EXPECT_HAS(load_error(fit_edited("variant = \"thin\"\n", "")),
             "missing required key fit.targets[0].variant");
}

TEST(ScenarioFitErrors, ThicknessFractionParameter) {
  const std::string m = load_error(
      fit_edited("path = \"layers[0].tortuosity\"", "path = \"layers[0].thickness_fraction\""),
      "fit_fraction.toml");
  EXPECT_HAS(m, "fit_fraction.toml");
  EXPECT_HAS(m, "fit.parameters[1].path = \"layers[0].thickness_fraction\" is not a fit "
                "parameter: layers[i].thickness_fraction is a [design] variable only");
  EXPECT_HAS(m, "\"layers[0].thickness_m\"");
}

TEST(ScenarioFitErrors, ActiveShareParameter) {
  EXPECT_HAS(load_error(fit_edited("path = \"layers[0].tortuosity\"",
                                   "path = \"layers[0].materials[0].active_share\"")),
             "fit.parameters[1].path = \"layers[0].materials[0].active_share\" is not a fit parameter: "
             "active_share is a [design] variable only");
}

TEST(ScenarioFitErrors, ThicknessShareParameter) {
  EXPECT_HAS(load_error(fit_edited("path = \"layers[0].tortuosity\"", "path = \"layers[0].thickness_share\"")),
             "fit.parameters[1].path = \"layers[0].thickness_share\" is not a fit "
             "parameter: layers[i].thickness_share is a [design] variable only");
}

TEST(ScenarioFitErrors, EmptyBounds) {
  const std::string m = load_error(fit_edited("min = 1.2\nmax = 6", "min = 6\nmax = 1.2"),
                                   "fit_bounds.toml");
  EXPECT_HAS(m, "fit_bounds.toml");
  EXPECT_HAS(m, "fit.parameters[1].min = 6 and fit.parameters[1].max = 1.2 give empty bounds; "
                "allowed min < max");
  EXPECT_HAS(load_error(fit_edited("min = 1.2\nmax = 6", "min = 3\nmax = 3")),
             "fit.parameters[1].min = 3 and fit.parameters[1].max = 3 give empty bounds");
  EXPECT_HAS(load_error(fit_edited("min = 1e-16\nmax = 1e-13\nlog = true",
                                   "min = 0\nmax = 1e-13\nlog = true")),
             "fit.parameters[0].min = 0 is not allowed with fit.parameters[0].log = true: a "
             "parameter searched in log space needs min > 0");
  EXPECT_HAS(load_error(fit_edited("min = 1.2\nmax = 6", "min = 1.2\nmax = 200")),
             "fit.parameters[1].max = 200 is not an allowed value of layers[0].tortuosity");
}

TEST(ScenarioFitErrors, UnknownParameterPath) {
  const std::string m = load_error(
      fit_edited("path = \"layers[0].tortuosity\"", "path = \"layers[0].tortuosty\""),
      "fit_path.toml");
  EXPECT_HAS(m, "fit_path.toml");
  EXPECT_HAS(m, "fit.parameters[1].path = \"layers[0].tortuosty\" is not a fit parameter");
  EXPECT_HAS(m, "allowed forms");
  EXPECT_EQ(m.find("thickness_fraction"), std::string::npos) << m;  // not offered here
  EXPECT_HAS(load_error(fit_edited("path = \"layers[0].tortuosity\"",
                                   "path = \"layers[1].tortuosity\"")),
             "fit.parameters[1].path = \"layers[1].tortuosity\" is not a fit parameter");
  EXPECT_HAS(load_error(fit_edited("path = \"materials.test_plateau.diffusivity_m2_s\"",
                                   "path = \"materials.NVP.diffusivity_m2_s\"")),
             "fit.parameters[0].path = \"materials.NVP.diffusivity_m2_s\" is not a fit parameter");
  EXPECT_HAS(load_error(fit_edited("path = \"materials.test_plateau.diffusivity_m2_s\"",
                                   "path = \"materials.test_plateau.stoichiometry_charged\"")),
             "fit.parameters[0].path = \"materials.test_plateau.stoichiometry_charged\" is not a fit "
             "parameter: stoichiometry_charged scales the reported state of charge");
  // The same parameter twice; tortuosity and Bruggeman exponent of one layer.
  EXPECT_HAS(load_error(fit_with("[fit]\n" + kFitTarget + kFitParameter + kFitParameter)),
             "fit.parameters[1].path = \"layers[0].porosity\" is also the path of "
             "fit.parameters[0]; allowed each parameter once");
  EXPECT_HAS(load_error(fit_with("[fit]\n" + kFitTarget +
                                 "[[fit.parameters]]\npath = \"layers[0].tortuosity\"\nmin = 1.5\n"
                                 "max = 3\n[[fit.parameters]]\npath = "
                                 "\"layers[0].bruggeman_exponent\"\nmin = 1.2\nmax = 2\n")),
             "fit.parameters[1].path = \"layers[0].bruggeman_exponent\" conflicts with "
             "fit.parameters[0].path = \"layers[0].tortuosity\"");
  EXPECT_HAS(load_error(fit_edited("path = \"layers[0].tortuosity\"\n", "")),
             "missing required key fit.parameters[1].path");
}

TEST(ScenarioFitErrors, PathsAndBoundsOnEveryVariant) {
  // Each bound is applied on top of each explicit variant: fine on the base (0.6 + 0.38)
  // and on "thin", too much on "thick" (0.65 + 0.38).
  const std::string m = load_error(fit_edited("min = 0.2\nmax = 0.33", "min = 0.2\nmax = 0.38"),
                                   "fit_variant_bound.toml");
  EXPECT_HAS(m, "fit_variant_bound.toml");
  EXPECT_HAS(m, "fit.parameters[2].max = 0.38 is not an allowed value of "
                "layers[0].materials[1].solid_volume_fraction in variant \"thick\": "
                "layers[0].materials[*].solid_volume_fraction sum to 1.03");
  // The base is checked too (here: a bound valid for neither).
  EXPECT_HAS(load_error(fit_edited("min = 0.2\nmax = 0.33", "min = 0.2\nmax = 0.45")),
             "fit.parameters[2].max = 0.45 is not an allowed value of "
             "layers[0].materials[1].solid_volume_fraction: layers[0].materials[*]");
  // Layer indices count after each variant's layer order: a second layer, and a variant
  // that puts it (with one material) at the current collector.
  std::string two = fit_edited(
      "[protocol]",
      "[[layers]]\nthickness_m = 30e-6\nporosity = 0.4\nbruggeman_exponent = 1.5\n"
      "conductivity_S_m = 15.0\n[[layers.materials]]\nname = \"test_sloping\"\n"
      "solid_volume_fraction = 0.8\nparticle_radius_m = 3e-6\n\n[protocol]");
  two.replace(two.find("label = \"thick\""), std::string("label = \"thick\"").size(),
              "label = \"thick\"\nlayer_order = [1, 0]");
  two.replace(two.find("\"layers[0].materials[0].solid_volume_fraction\" = 0.65"),
              std::string("\"layers[0].materials[0].solid_volume_fraction\" = 0.65").size(),
              "\"layers[1].materials[0].solid_volume_fraction\" = 0.65");
  const std::string o = load_error(two, "fit_order.toml");
  EXPECT_HAS(o, "fit_order.toml");
  EXPECT_HAS(o, "fit.parameters[2].path = \"layers[0].materials[1].solid_volume_fraction\" is "
                "not a fit parameter in variant \"thick\": material index 1");
}

TEST(ScenarioFitErrors, ParameterSetByVariant) {
  // A variant's own value of a fitted path would be replaced: an error.
  const std::string m = load_error(
      fit_edited("path = \"layers[0].tortuosity\"\nmin = 1.2\nmax = 6",
                 "path = \"layers[0].thickness_m\"\nmin = 20e-6\nmax = 100e-6"),
      "fit_set.toml");
  EXPECT_HAS(m, "fit_set.toml");
  EXPECT_HAS(m, "fit.parameters[1].path = \"layers[0].thickness_m\" is also set by variant "
                "\"thin\" (layers[0].thickness_m = 3e-05, from [batch])");
  // So would a sweep's.
  EXPECT_HAS(load_error(fit_with("[batch.sweep]\n\"layers[0].porosity\" = [0.3, 0.4]\n\n[fit]\n" +
                                 kFitParameter + kFitTarget)),
             "fit.parameters[0].path = \"layers[0].porosity\" is also set by variant \"thin "
             "layers[0].porosity=0.3\"");
  // A Bruggeman exponent set by a variant excludes a tortuosity parameter of that layer.
  EXPECT_HAS(load_error(fit_edited("set = { \"layers[0].thickness_m\" = 30e-6 }",
                                   "set = { \"layers[0].bruggeman_exponent\" = 1.8 }")),
             "fit.parameters[1].path = \"layers[0].tortuosity\" conflicts with variant \"thin\", "
             "which sets layers[0].bruggeman_exponent = 1.8 (from [batch])");
}

TEST(ScenarioFitErrors, SigmaAndValue) {
  const std::string m = load_error(fit_edited("sigma = 0.02", "sigma = 0"), "fit_sigma.toml");
  EXPECT_HAS(m, "fit_sigma.toml");
  EXPECT_HAS(m, "fit.targets[1].sigma = 0 is out of range; allowed sigma > 0");
  EXPECT_HAS(load_error(fit_edited("sigma = 0.02", "sigma = -0.5")),
             "fit.targets[1].sigma = -0.5 is out of range; allowed sigma > 0");
  EXPECT_HAS(load_error(fit_edited("sigma = 0.02\n", "")),
             "missing required key fit.targets[1].sigma");
  EXPECT_HAS(load_error(fit_edited("value = 0.62\n", "")),
             "missing required key fit.targets[1].value");
  EXPECT_HAS(load_error(fit_edited("value = 0.62", "value = nan")),
             "fit.targets[1].value = nan is not finite");
  EXPECT_HAS(load_error(fit_edited("value = 0.62", "value = \"62%\"")),
             "fit.targets[1].value = \"62%\" is a string");
}

TEST(ScenarioFitErrors, StepOutOfRange) {
  const std::string m = load_error(fit_edited("step = 4\nreference_step = 0",
                                              "step = 5\nreference_step = 0"),
                                   "fit_step.toml");
  EXPECT_HAS(m, "fit_step.toml");
  EXPECT_HAS(m, "fit.targets[1].step = 5 is out of range; allowed 0 <= step <= 4");
  EXPECT_HAS(load_error(fit_edited("step = 4\nreference_step = 0", "step = -1\nreference_step = 0")),
             "fit.targets[1].step = -1 is out of range");
  EXPECT_HAS(load_error(fit_edited("step = 4\nreference_step = 0", "step = 1\nreference_step = 0")),
             "fit.targets[1].step = 1 is a Rest step");
  EXPECT_HAS(load_error(fit_edited("step = 4\nreference_step = 0", "step = 4\nreference_step = 9")),
             "fit.targets[1].reference_step = 9 is out of range");
  EXPECT_HAS(load_error(fit_edited("step = 4\nreference_step = 0", "step = 4\nreference_step = 4")),
             "fit.targets[1].reference_step = 4 is the measured step itself");
  EXPECT_HAS(load_error(fit_edited("step = 0\nvalue = 68.5", "value = 68.5")),
             "missing required key fit.targets[0].step");
  EXPECT_HAS(load_error(fit_edited("kind = \"capacity_mAh_g\"", "kind = \"capacity\"")),
             "fit.targets[0].kind = \"capacity\" is not a target kind; allowed \"retention\", "
             "\"capacity_mAh_g\", \"capacity_mAh_cm2\" or \"energy_Wh_kg\"");
  EXPECT_HAS(load_error(fit_edited("kind = \"capacity_mAh_g\"\n", "")),
             "missing required key fit.targets[0].kind");
}

TEST(ScenarioFitErrors, RetentionNeedsReferenceStep) {
  const std::string m = load_error(fit_edited("step = 4\nreference_step = 0\n", "step = 4\n"),
                                   "fit_ref.toml");
  EXPECT_HAS(m, "fit_ref.toml");
  EXPECT_HAS(m, "missing required key fit.targets[1].reference_step: fit.targets[1].kind = "
                "\"retention\" is the capacity of step s4 divided by the capacity of "
                "reference_step");
  EXPECT_HAS(load_error(fit_edited("step = 0\nvalue = 68.5", "step = 0\nreference_step = 3\nvalue = 68.5")),
             "fit.targets[0].reference_step = 3 is not allowed for fit.targets[0].kind = "
             "\"capacity_mAh_g\"");
}

TEST(ScenarioFitErrors, DuplicateTargetName) {
  const std::string m = load_error(fit_edited("name = \"thick_3C\"", "name = \"thin_slow\""),
                                   "fit_name.toml");
  EXPECT_HAS(m, "fit_name.toml");
  EXPECT_HAS(m, "fit.targets[1].name = \"thin_slow\" is also the name of fit.targets[0]; allowed "
                "a name not used by another target");
  EXPECT_HAS(load_error(fit_edited("name = \"thick_3C\"", "name = \"thick 3C\"")),
             "fit.targets[1].name = \"thick 3C\" is not allowed; allowed a non-empty name of "
             "letters, digits and '_'");
  EXPECT_HAS(load_error(fit_edited("name = \"thick_3C\"\n", "")),
             "missing required key fit.targets[1].name");
}

TEST(ScenarioFitErrors, UnknownKeys) {
  const std::string u = load_error(fit_edited("seed = 7", "sead = 7"), "fit_key.toml");
  EXPECT_HAS(u, "fit_key.toml");
  EXPECT_HAS(u, "unknown key fit.sead = 7");
  EXPECT_HAS(u, "allowed keys in fit: algorithm, starts, initial_population, max_evaluations, "
                "xtol_rel, ftol_rel, seed, parameters, targets");
  const std::string t = load_error(fit_edited("sigma = 1.5", "sigma = 1.5\nweight = 2"),
                                   "fit_target_key.toml");
  EXPECT_HAS(t, "fit_target_key.toml");
  EXPECT_HAS(t, "unknown key fit.targets[0].weight = 2");
  EXPECT_HAS(t, "allowed keys in fit.targets[0]: name, variant, kind, step, reference_step, "
                "value, sigma");
  EXPECT_HAS(load_error(fit_edited("log = true", "log = true\nscale = 2")),
             "unknown key fit.parameters[0].scale = 2");
}

TEST(ScenarioFitErrors, Settings) {
  const std::string a = load_error(fit_edited("algorithm = \"LN_SBPLX\"", "algorithm = \"nlopt_ln_sbplx\""),
                                   "fit_algorithm.toml");
  EXPECT_HAS(a, "fit_algorithm.toml");
  EXPECT_HAS(a, "fit.algorithm = \"nlopt_ln_sbplx\" is not an NLopt algorithm (write \"LN_SBPLX\")");
  EXPECT_HAS(load_error(fit_edited("starts = 3", "starts = 0")),
             "fit.starts = 0 is out of range; allowed 1 <= starts <= 100");
  EXPECT_HAS(load_error(fit_edited("starts = 3", "starts = 101")), "fit.starts = 101 is out of range");
  EXPECT_HAS(load_error(fit_edited("initial_population = 24", "initial_population = 100001")),
             "fit.initial_population = 100001 is out of range; allowed 1 <= initial_population <= "
             "100000");
  EXPECT_HAS(load_error(fit_edited("max_evaluations = 300", "max_evaluations = 20")),
             "fit.max_evaluations = 20 is out of range; allowed max_evaluations >= "
             "initial_population (24)");
  EXPECT_HAS(load_error(fit_edited("initial_population = 24\nmax_evaluations = 300\n",
                                   "initial_population = 500\n")),
             "fit.initial_population = 500 is more than max_evaluations = 400 (the default)");
  EXPECT_HAS(load_error(fit_edited("xtol_rel = 1e-4", "xtol_rel = 0")),
             "fit.xtol_rel = 0 is out of range; allowed xtol_rel > 0");
  EXPECT_HAS(load_error(fit_edited("ftol_rel = 0.0", "ftol_rel = -1e-9")),
             "fit.ftol_rel = -1e-09 is out of range");
  EXPECT_HAS(load_error(fit_edited("seed = 7", "seed = -2")), "fit.seed = -2 is out of range");
  EXPECT_HAS(load_error(fit_edited("seed = 7", "seed = 1.5")), "fit.seed = 1.5 is not an integer");
  EXPECT_HAS(load_error(fit_with("[fit]\n" + kFitTarget)), "missing required key fit.parameters");
  EXPECT_HAS(load_error(fit_with("[fit]\nparameters = []\n" + kFitTarget)),
             "fit.parameters = [] is not a non-empty array of tables; write one "
             "[[fit.parameters]] table (path, min, max, log) per parameter");
  EXPECT_HAS(load_error(fit_with("[fit]\n" + kFitParameter)), "missing required key fit.targets");
  EXPECT_HAS(load_error(fit_with("[fit]\ntargets = []\n" + kFitParameter)),
             "fit.targets = [] is not a non-empty array of tables");
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
    if (e.conductivity_S_m.tabulated)
      EXPECT_GE(e.conductivity_S_m.table.x.size(), 2u) << n;
    else
      EXPECT_GT(e.conductivity_S_m.value, 0.0) << n;
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


// --- weighted sums, material choices, material overrides, potential curves ----

std::string ext_text() { return slurp(kData + "/ext_full.toml"); }

// The ext fixture with `from` replaced by `to` (exactly once).
std::string ext_edited(const std::string& from, const std::string& to) {
  return replaced_once(ext_text(), from, to);
}

TEST(ScenarioExt, WeightedSumObjectiveLoads) {
  const Scenario s = load_scenario(kData + "/ext_full.toml");
  ASSERT_EQ(s.objectives.size(), 3u);
  const ObjectiveSpec& o = s.objectives[2];
  EXPECT_EQ(o.name, "score");
  EXPECT_EQ(o.kind, "weighted_sum");
  EXPECT_TRUE(o.maximize);
  EXPECT_EQ(o.step, -1);
  EXPECT_EQ(o.reference_step, -1);
  EXPECT_EQ(o.term_objectives, (std::vector<std::string>{"retention_3C", "capacity_3C"}));
  EXPECT_EQ(o.term_weights, (std::vector<double>{1.0, 0.01}));
  EXPECT_TRUE(s.objectives[0].term_objectives.empty());
  EXPECT_EQ(s.design.objective, "score");
  // A term may name an objective listed after the weighted sum; negative weights are fine.
  const std::string later = ext_edited(
      "[[objectives]]\nname = \"score\"", "[[objectives]]\nname = \"late\"\nkind = "
      "\"weighted_sum\"\nterms = [ { objective = \"z\", weight = -2 } ]\n\n[[objectives]]\nname = "
      "\"z\"\nkind = \"energy_Wh_kg\"\nstep = 3\n\n[[objectives]]\nname = \"score\"");
  const Scenario t = load_scenario_text(later, kData + "/ext_late.toml");
  EXPECT_EQ(t.objectives[2].term_objectives, (std::vector<std::string>{"z"}));
  EXPECT_EQ(t.objectives[2].term_weights, (std::vector<double>{-2.0}));
}

TEST(ScenarioExt, MaterialChoicesLoad) {
  const Scenario s = load_scenario(kData + "/ext_full.toml");
  const std::vector<MaterialChoice>& c = s.design.material_choices;
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].layer, 1);
  EXPECT_EQ(c[0].slot, 0);  // the default
  EXPECT_EQ(c[0].materials, (std::vector<std::string>{"test_plateau", "NVP"}));
  EXPECT_EQ(c[1].layer, 0);
  EXPECT_EQ(c[1].slot, 0);
  EXPECT_EQ(c[1].materials, (std::vector<std::string>{"test_sloping", "NMO", "test_plateau"}));
  // The choices' materials are loaded from the library.
  EXPECT_EQ(s.materials.size(), 4u);
  EXPECT_EQ(s.materials.at("NVP").name, "NVP");
  EXPECT_EQ(s.materials.at("NMO").name, "NMO");
  // Without [[design.materials]] nothing more is loaded.
  const std::string t = ext_text();
  const Scenario n = load_scenario_text(t.substr(0, t.find("\n[[design.materials]]\n")) +
                                            t.substr(t.find("\n[fit]\n")),
                                        kData + "/ext_nochoice.toml");
  EXPECT_TRUE(n.design.material_choices.empty());
  EXPECT_EQ(n.materials.size(), 2u);
}

TEST(ScenarioExt, SetMaterialVariantLoads) {
  const Scenario s = load_scenario(kData + "/ext_full.toml");
  ASSERT_EQ(s.variants.size(), 2u);
  EXPECT_TRUE(s.variants[0].material_overrides.empty());
  EXPECT_EQ(s.variants[1].material_overrides,
            (std::map<std::string, std::string>{{"layers[0].materials[0].name", "test_sloping"}}));
  const Scenario v = apply_variant(s, s.variants[1]);
  EXPECT_EQ(v.layers[0].materials[0].material, "test_sloping");  // listed layer 1, overridden
  EXPECT_EQ(v.layers[1].materials[0].material, "test_sloping");
  EXPECT_EQ(v.layers[1].materials[1].material, "test_plateau");
  // A library material not used by any layer is loaded for the variant.
  const Scenario w = load_scenario_text(ext_edited("= \"test_sloping\" }", "= \"NVP\" }"),
                                        kData + "/ext_setmat.toml");
  EXPECT_EQ(apply_variant(w, w.variants[1]).layers[0].materials[0].material, "NVP");
  EXPECT_TRUE(w.materials.count("NVP"));
}

TEST(ScenarioExt, PotentialCurveTargetLoads) {
  const Scenario s = load_scenario(kData + "/ext_full.toml");
  ASSERT_EQ(s.fit.targets.size(), 2u);
  const FitTarget& t = s.fit.targets[0];
  EXPECT_EQ(t.name, "curve_3C");
  EXPECT_EQ(t.variant, "listed");
  EXPECT_EQ(t.metric.kind, "potential_curve");
  EXPECT_EQ(t.metric.step, 3);
  EXPECT_EQ(t.metric.reference_step, -1);
  EXPECT_DOUBLE_EQ(t.sigma, 0.01);
  EXPECT_EQ(t.curve_capacity_mAh_g, (std::vector<double>{0.0, 10.0, 20.5, 40.0}));
  EXPECT_EQ(t.curve_potential_V, (std::vector<double>{3.0, 3.2, 3.3, 3.45}));
  EXPECT_TRUE(s.fit.targets[1].curve_capacity_mAh_g.empty());
  EXPECT_DOUBLE_EQ(s.fit.targets[1].value, 68.5);
}

TEST(ScenarioExt, ApplyVariantMaterialOverrides) {
  const Scenario s = load_scenario(kSource + "/scenarios/default.toml");
  VariantSpec v;
  v.label = "all NVP";
  v.layer_order = {1, 0};
  v.material_overrides = {{"layers[1].materials[0].name", "NVP"}};
  v.overrides = {{"layers[1].materials[0].particle_radius_m", 1e-6}};
  const Scenario a = apply_variant(s, v);
  EXPECT_EQ(a.layers[0].materials[0].material, "NVP");
  EXPECT_EQ(a.layers[1].materials[0].material, "NVP");  // was NMO after the order
  EXPECT_DOUBLE_EQ(a.layers[1].materials[0].particle_radius_m, 1e-6);
  EXPECT_EQ(s.layers[0].materials[0].material, "NMO");  // base untouched

  v.material_overrides = {{"layers[0].materials[0].name", "LFP"}};
  try {
    apply_variant(s, v);
    FAIL() << "no error";
  } catch (const ScenarioError& e) {
    const std::string m = e.what();
    EXPECT_HAS(m, "default.toml");
    EXPECT_HAS(m, "all NVP");
    EXPECT_HAS(m, "layers[0].materials[0].name = \"LFP\"");
    EXPECT_HAS(m, "allowed a loaded material: NMO, NVP");
  }
  v.material_overrides = {{"layers[0].materials[3].name", "NVP"}};
  EXPECT_THROW(apply_variant(s, v), ScenarioError);
  v.material_overrides = {{"layers[0].materials[0].material", "NVP"}};
  EXPECT_THROW(apply_variant(s, v), ScenarioError);
}

TEST(ScenarioExtErrors, WeightedSumTerms) {
  const std::string unknown = load_error(
      ext_edited("objective = \"capacity_3C\", weight", "objective = \"capacity_1C\", weight"),
      "ext_ws.toml");
  EXPECT_HAS(unknown, "ext_ws.toml");
  EXPECT_HAS(unknown, "objectives[2].terms[1].objective = \"capacity_1C\" names no objective; "
                      "allowed the name of another [[objectives]] table that is not a "
                      "weighted_sum: \"retention_3C\", \"capacity_3C\"");
  const std::string nested = load_error(
      ext_edited("objective = \"capacity_3C\", weight", "objective = \"score\", weight"),
      "ext_nest.toml");
  EXPECT_HAS(nested, "ext_nest.toml");
  EXPECT_HAS(nested, "objectives[2].terms[1].objective = \"score\" names a weighted_sum");
  const std::string step = load_error(
      ext_edited("kind = \"weighted_sum\"", "kind = \"weighted_sum\"\nstep = 3"), "ext_step.toml");
  EXPECT_HAS(step, "ext_step.toml");
  EXPECT_HAS(step, "objectives[2].step = 3 is not allowed for objectives[2].kind = "
                   "\"weighted_sum\"");
  EXPECT_HAS(load_error(ext_edited("weight = 0.01", "weight = 0")),
             "objectives[2].terms[1].weight = 0 is not allowed; allowed a finite, non-zero number");
  EXPECT_HAS(load_error(ext_edited("weight = 0.01", "weight = 0.01, scale = 2")),
             "unknown key objectives[2].terms[1].scale = 2");
  EXPECT_HAS(load_error(ext_edited("terms = [ {", "terms = [] #")),
             "objectives[2].terms = [] is empty");
  EXPECT_HAS(load_error(ext_edited("terms = [", "#")),
             "missing required key objectives[2].terms");
  EXPECT_HAS(load_error(ext_edited("kind = \"capacity_mAh_g\"\nstep = 3",
                                   "kind = \"capacity_mAh_g\"\nstep = 3\nterms = []")),
             "objectives[1].terms = [] is not allowed for objectives[1].kind = \"capacity_mAh_g\"");
}

TEST(ScenarioExtErrors, MaterialChoices) {
  const std::string unknown =
      load_error(ext_edited("\"test_plateau\", \"NVP\"", "\"test_plateau\", \"LFP\""),
                 "ext_mat.toml");
  EXPECT_HAS(unknown, "ext_mat.toml");
  EXPECT_HAS(unknown, "design.materials[0].materials[1] = \"LFP\"");
  const std::string layer = load_error(ext_edited("layer = 1", "layer = 2"), "ext_layer.toml");
  EXPECT_HAS(layer, "ext_layer.toml");
  EXPECT_HAS(layer, "design.materials[0].layer = 2 is out of range; allowed 0 <= layer <= 1");
  const std::string dup = load_error(ext_edited("layer = 0\nslot = 0", "layer = 1\nslot = 0"),
                                     "ext_dup.toml");
  EXPECT_HAS(dup, "ext_dup.toml");
  EXPECT_HAS(dup, "design.materials[1] (layer = 1, slot = 0) is the same slot as "
                  "design.materials[0]; allowed one [[design.materials]] entry per (layer, slot)");
  // Listed layer 0 has two materials, but in layer order [1, 0] position 0 holds layer 1.
  EXPECT_HAS(load_error(ext_edited("slot = 0", "slot = 1")),
             "design.materials[1].slot = 1 is out of range; allowed 0 <= slot <= 0: the layer at "
             "position 0 in design.layer_orders[1] = [1, 0] is the listed layers[1]");
  EXPECT_HAS(load_error(ext_edited("\"test_plateau\", \"NVP\"", "\"NVP\"")),
             "design.materials[0].materials = [\"NVP\"] is not allowed; allowed an array of at "
             "least 2");
  EXPECT_HAS(load_error(ext_edited("\"test_plateau\", \"NVP\"", "\"NVP\", \"NVP\"")),
             "design.materials[0].materials[1] = \"NVP\" is listed twice");
  EXPECT_HAS(load_error(ext_edited("layer = 1\n", "layer = 1\nweight = 1\n")),
             "unknown key design.materials[0].weight = 1");
}

TEST(ScenarioExtErrors, SetMaterial) {
  const std::string m =
      load_error(ext_edited("= \"test_sloping\" }", "= \"LFP\" }"), "ext_setmat.toml");
  EXPECT_HAS(m, "ext_setmat.toml");
  EXPECT_HAS(m, "batch.variants[1].set_material.\"layers[0].materials[0].name\" = \"LFP\"");
  const std::string p = load_error(ext_edited("\"layers[0].materials[0].name\" = \"test_sloping\"",
                                              "\"layers[0].materials[1].name\" = \"test_sloping\""),
                                   "ext_setpath.toml");
  EXPECT_HAS(p, "ext_setpath.toml");
  EXPECT_HAS(p, "batch.variants[1].set_material.\"layers[0].materials[1].name\" = "
                "\"test_sloping\": bad material override: material index 1");
}

TEST(ScenarioExtErrors, PotentialCurve) {
  const std::string inc = load_error(
      ext_edited("[0.0, 10.0, 20.5, 40]", "[0.0, 10.0, 10.0, 40]"), "ext_curve.toml");
  EXPECT_HAS(inc, "ext_curve.toml");
  EXPECT_HAS(inc, "fit.targets[0].capacity_mAh_g[2] = 10 is not greater than "
                  "fit.targets[0].capacity_mAh_g[1] = 10; allowed strictly increasing");
  const std::string len = load_error(
      ext_edited("[3.0, 3.2, 3.3, 3.45]", "[3.0, 3.2, 3.3]"), "ext_len.toml");
  EXPECT_HAS(len, "ext_len.toml");
  EXPECT_HAS(len, "fit.targets[0].capacity_mAh_g has 4 values and fit.targets[0].potential_V "
                  "has 3; allowed two arrays of the same length");
  const std::string value = load_error(
      ext_edited("sigma = 0.01", "sigma = 0.01\nvalue = 3.3"), "ext_value.toml");
  EXPECT_HAS(value, "ext_value.toml");
  EXPECT_HAS(value, "fit.targets[0].value = 3.3 is not allowed for fit.targets[0].kind = "
                    "\"potential_curve\"");
  EXPECT_HAS(load_error(ext_edited("step = 3\nsigma", "step = 3\nreference_step = 0\nsigma")),
             "fit.targets[0].reference_step = 0 is not allowed for fit.targets[0].kind = "
             "\"potential_curve\"");
  EXPECT_HAS(load_error(ext_edited("[0.0, 10.0, 20.5, 40]", "[-1.0, 10.0, 20.5, 40]")),
             "fit.targets[0].capacity_mAh_g[0] = -1 is out of range");
  EXPECT_HAS(load_error(ext_edited("sigma = 0.01", "sigma = 0")),
             "fit.targets[0].sigma = 0 is out of range");
  EXPECT_HAS(load_error(ext_edited("potential_V = [3.0, 3.2, 3.3, 3.45]\n", "")),
             "missing required key fit.targets[0].potential_V");
  EXPECT_HAS(load_error(ext_edited("value = 68.5", "value = 68.5\npotential_V = [3.0, 3.1]")),
             "fit.targets[1].potential_V = [3, 3.1] is not allowed for fit.targets[1].kind = "
             "\"capacity_mAh_g\"");
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {

// [numerics] time_integrator picks the time scheme (BDF2 by default); a batch holds one
// scheme, so variants with different schemes run as different batches.
TEST(ScenarioNumerics, TimeIntegrator) {
  const Scenario plain = load_scenario_text(minimal_text(), kData + "/scenario_minimal.toml");
  EXPECT_EQ(plain.numerics.time_order, 2);
  const Scenario be = load_scenario_text(minimal_text() + "\n[numerics]\ntime_integrator = \"backward_euler\"\n",
                                         kData + "/scenario_minimal.toml");
  EXPECT_EQ(be.numerics.time_order, 1);
  const Scenario bdf2 = load_scenario_text(minimal_text() + "\n[numerics]\ntime_integrator = \"bdf2\"\n",
                                           kData + "/scenario_minimal.toml");
  EXPECT_EQ(bdf2.numerics.time_order, 2);
  const std::string bad = load_error(minimal_text() + "\n[numerics]\ntime_integrator = \"rk4\"\n");
  EXPECT_HAS(bad, "numerics.time_integrator");
  EXPECT_HAS(bad, "rk4");
  EXPECT_HAS(bad, "\"backward_euler\"");
  EXPECT_HAS(bad, "\"bdf2\"");
  const std::vector<ResolvedVariant> vars = {{"a", plain, ""}, {"b", be, ""}, {"c", plain, ""}};
  const std::vector<std::vector<int>> groups = group_by_shape(vars);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0], (std::vector<int>{0, 2}));
  EXPECT_EQ(build_batch({vars[1]}, Layout::Blocked).shape.time_order, 1);
  const Batch b2 = build_batch({vars[0]}, Layout::Blocked);
  EXPECT_EQ(b2.shape.time_order, 2);
  EXPECT_EQ(b2.shape.o_blk - b2.shape.o_xprev2, b2.shape.state_size);  // the fifth state copy
  EXPECT_THROW(build_batch(vars, Layout::Blocked), std::invalid_argument);
}

// [numerics] newton_max_contraction: 0.7 by default, 0 turns the test off (an infinite
// limit in the record), 0.1 to 10 are allowed, anything else is refused with the key,
// the value and the range; it reaches the record.
TEST(ScenarioNumerics, NewtonMaxContraction) {
  const Scenario plain = load_scenario_text(minimal_text(), kData + "/scenario_minimal.toml");
  EXPECT_EQ(plain.numerics.newton_max_contraction, 0.7);
  const Scenario off = load_scenario_text(minimal_text() + "\n[numerics]\nnewton_max_contraction = 0\n",
                                          kData + "/scenario_minimal.toml");
  Batch b_off = build_batch({{"a", off, ""}}, Layout::Blocked);
  EXPECT_TRUE(std::isinf(b_off.view(0)[b_off.shape.o_scalar + kNewtonMaxContraction]));
  const Scenario half = load_scenario_text(minimal_text() + "\n[numerics]\nnewton_max_contraction = 0.5\n",
                                           kData + "/scenario_minimal.toml");
  Batch b = build_batch({{"a", half, ""}}, Layout::Blocked);
  EXPECT_EQ(b.view(0)[b.shape.o_scalar + kNewtonMaxContraction], 0.5);
  for (const char* value : {"0.05", "-1", "11"}) {
    const std::string bad = load_error(minimal_text() + "\n[numerics]\nnewton_max_contraction = " + value + "\n");
    EXPECT_HAS(bad, "numerics.newton_max_contraction");
    EXPECT_HAS(bad, std::string("numerics.newton_max_contraction = ") + value);
    EXPECT_HAS(bad, "0.1 <= newton_max_contraction <= 10, or 0 (no contraction test)");
  }
}

// Keys that take one of a fixed set of words (TableReader::one_of) refuse any other
// with the file, the key, the value and every allowed word with what it means, and
// map the words they allow.
TEST(ScenarioErrors, FixedWordKeysNameEveryAllowedWord) {
  struct Case {
    std::string section, key, words;
  };
  const std::vector<Case> cases = {
      {"cell", "counter_electrode", "allowed \"metal\", \"ideal\" or \"porous\""},
      {"numerics", "particle_mesh",
       "allowed \"geometric\" (shell thicknesses in the ratio particle_shell_ratio toward the surface) or "
       "\"equal_volume\""},
      {"numerics", "time_integrator",
       "allowed \"backward_euler\" (first order) or \"bdf2\" (second order, variable step)"},
      {"numerics", "step_controller",
       "allowed \"predictive\" (Gustafsson's controller, from the trend of the error over the last two steps) "
       "or \"standard\" (from the last step's error alone)"},
  };
  for (const Case& c : cases) {
    const std::string e = load_error(minimal_text() + "\n[" + c.section + "]\n" + c.key + " = \"Sobol\"\n",
                                     "words.toml");
    EXPECT_HAS(e, "words.toml: " + c.section + "." + c.key + " = \"Sobol\" is not allowed; " + c.words);
  }
  const std::string path = kData + "/scenario_minimal.toml";
  const Scenario be = load_scenario_text(minimal_text() + "\n[numerics]\ntime_integrator = \"backward_euler\"\n"
                                         "particle_mesh = \"equal_volume\"\n", path);
  EXPECT_EQ(be.numerics.time_order, 1);
  EXPECT_TRUE(be.numerics.particle_equal_volume);
  const Scenario bdf2 = load_scenario_text(minimal_text() + "\n[numerics]\ntime_integrator = \"bdf2\"\n"
                                           "particle_mesh = \"geometric\"\n", path);
  EXPECT_EQ(bdf2.numerics.time_order, 2);
  EXPECT_FALSE(bdf2.numerics.particle_equal_volume);
  const Scenario ideal = load_scenario_text(minimal_text() + "\n[cell]\ncounter_electrode = \"ideal\"\n", path);
  EXPECT_TRUE(ideal.cell.counter_ideal);
  EXPECT_FALSE(ideal.cell.counter_porous);
  const Scenario metal = load_scenario_text(minimal_text() + "\n[cell]\ncounter_electrode = \"metal\"\n", path);
  EXPECT_FALSE(metal.cell.counter_ideal);
  EXPECT_FALSE(metal.cell.counter_porous);
}

// [numerics] step_controller: "predictive" by default, "standard" for the controller
// from the last step's error alone; it reaches the record (1 and 0); anything else is
// refused with the key, the value and what is allowed.
TEST(ScenarioNumerics, StepController) {
  const Scenario plain = load_scenario_text(minimal_text(), kData + "/scenario_minimal.toml");
  EXPECT_TRUE(plain.numerics.predictive_step_control);
  Batch b = build_batch({{"a", plain, ""}}, Layout::Blocked);
  EXPECT_EQ(b.view(0)[b.shape.o_scalar + kPredictiveStepControl], 1.0);
  const Scenario standard = load_scenario_text(minimal_text() + "\n[numerics]\nstep_controller = \"standard\"\n",
                                               kData + "/scenario_minimal.toml");
  EXPECT_FALSE(standard.numerics.predictive_step_control);
  Batch b_std = build_batch({{"a", standard, ""}}, Layout::Blocked);
  EXPECT_EQ(b_std.view(0)[b_std.shape.o_scalar + kPredictiveStepControl], 0.0);
  const Scenario predictive = load_scenario_text(
      minimal_text() + "\n[numerics]\nstep_controller = \"predictive\"\n", kData + "/scenario_minimal.toml");
  EXPECT_TRUE(predictive.numerics.predictive_step_control);
  const std::string bad = load_error(minimal_text() + "\n[numerics]\nstep_controller = \"pid\"\n");
  EXPECT_HAS(bad, "numerics.step_controller");
  EXPECT_HAS(bad, "pid");
  EXPECT_HAS(bad, "\"predictive\"");
  EXPECT_HAS(bad, "\"standard\"");
}

// [numerics] cell_size_m gives each sub-layer without its own `nodes` cells in
// proportion to its thickness, at least min_nodes_per_layer; particle_mesh picks the
// shell grid. Bad values are named with what is allowed.
TEST(ScenarioNumerics, CellsInProportionToThicknessAndParticleMesh) {
  const Scenario plain = load_scenario_text(minimal_text(), kData + "/scenario_minimal.toml");
  ASSERT_EQ(plain.layers.size(), 2u);
  Scenario s = load_scenario_text(minimal_text() + "\n[numerics]\ncell_size_m = 7e-6\nmin_nodes_per_layer = 4\n"
                                  "particle_mesh = \"equal_volume\"\n",
                                  kData + "/scenario_minimal.toml");
  EXPECT_TRUE(s.numerics.particle_equal_volume);
  EXPECT_FALSE(plain.numerics.particle_equal_volume);
  for (int k = 0; k < 2; ++k) {
    if (s.layers[k].nodes > 0) continue;  // a layer's own `nodes` wins
    const int expect = std::max(4, (int)std::ceil(s.layers[k].thickness_m / 7e-6 - 1e-9));
    EXPECT_EQ(layer_nodes(s, k), expect) << "layer " << k;
    EXPECT_EQ(layer_nodes(plain, k), plain.numerics.nodes_per_layer) << "layer " << k;
  }
  s.layers[0].nodes = 0;
  s.layers[0].thickness_m = 14e-6;  // exactly two cells: not rounded up to three
  s.numerics.min_nodes_per_layer = 2;
  EXPECT_EQ(layer_nodes(s, 0), 2);
  s.layers[0].thickness_m = 5e-6;  // the floor
  s.numerics.min_nodes_per_layer = 4;
  EXPECT_EQ(layer_nodes(s, 0), 4);
  EXPECT_HAS(load_error(minimal_text() + "\n[numerics]\nparticle_mesh = \"equal_area\"\n"),
             "numerics.particle_mesh");
  EXPECT_HAS(load_error(minimal_text() + "\n[numerics]\nparticle_mesh = \"equal_area\"\n"), "\"equal_volume\"");
  EXPECT_HAS(load_error(minimal_text() + "\n[numerics]\ncell_size_m = 0.5\n"), "numerics.cell_size_m = 0.5");
  // Settings that would do nothing are refused, saying why.
  EXPECT_HAS(load_error(minimal_text() + "\n[numerics]\nparticle_mesh = \"equal_volume\"\nparticle_shell_ratio = 0.7\n"),
             "particle_shell_ratio = 0.7 is not used with numerics.particle_mesh = \"equal_volume\"");
  EXPECT_HAS(load_error(minimal_text() + "\n[numerics]\nmin_nodes_per_layer = 4\n"),
             "min_nodes_per_layer = 4 is not used without numerics.cell_size_m");
  EXPECT_HAS(load_error(minimal_text() + "\n[numerics]\ncell_size_m = 5e-6\nnodes_per_layer = 4\n"),
             "nodes_per_layer = 4 is not used with numerics.cell_size_m");
  EXPECT_HAS(load_error(minimal_text() + "\n[numerics]\ncell_size_m = 1e-8\n"), "raise numerics.cell_size_m");
  // A campaign over the thickness split: the fractions give the layers shares of the
  // total (100 um), whatever the listed layers (here 10 um each), so the check uses the
  // total: 0.18 um cells pass the listed layers (2 x 56 cells) but not the designs.
  const std::string design = replaced_once(replaced_once(slurp(kData + "/design_full.toml"), "thickness_m = 40e-6",
                                                         "thickness_m = 10e-6"),
                                           "thickness_m = 60e-6", "thickness_m = 10e-6");
  EXPECT_EQ(load_error(design + "\n[numerics]\ncell_size_m = 5e-6\n", "design_full.toml"), "");
  EXPECT_HAS(load_error(design + "\n[numerics]\ncell_size_m = 1.8e-7\n", "design_full.toml"),
             "with design.total_thickness_m = 0.0001 gives at least 562 cells per design");
  Scenario floor1 = s;
  floor1.numerics.min_nodes_per_layer = 1;  // built in code, past the loader's read
  try {
    validate_scenario(floor1, "code");
    ADD_FAILURE() << "min_nodes_per_layer = 1 accepted";
  } catch (const ScenarioError& e) {
    EXPECT_HAS(std::string(e.what()), "numerics.min_nodes_per_layer = 1");
  }
}

}  // namespace
}  // namespace strata
