// The calibration of docs/calibration.md is reproducible: `strata fit` on
// scenarios/brown2026_calibration.toml finds the values that the material library and
// the rate-test scenario carry, and the calibration scenario describes the same
// single-material electrodes as the rate test.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "host/scenario_loader.hpp"
#include "host/simulate.hpp"
#include "host/variant_expansion.hpp"
#include "optimizer/fit.hpp"

using namespace strata;

namespace {

const std::string kScenarios = std::string(STRATA_SOURCE_DIR) + "/scenarios/";

const VariantSpec& variant(const Scenario& s, const std::string& label) {
  for (const VariantSpec& v : s.variants)
    if (v.label == label) return v;
  throw std::runtime_error("no variant " + label);
}

}  // namespace

TEST(Brown2026Calibration, CalibrationScenarioDescribesTheRateTestElectrodes) {
  const Scenario cal = load_scenario(kScenarios + "brown2026_calibration.toml");
  const Scenario rt = load_scenario(kScenarios + "brown2026_rate_test.toml");
  EXPECT_EQ(cal.protocol.step_texts, rt.protocol.step_texts);
  EXPECT_EQ(cal.protocol.nominal_capacity_mAh_g, rt.protocol.nominal_capacity_mAh_g);
  for (const char* label : {"NMO", "NVP"}) {
    const Scenario a = apply_variant(cal, variant(cal, label));
    const Scenario b = apply_variant(rt, variant(rt, label));
    EXPECT_EQ(a.electrolyte.name, b.electrolyte.name);
    EXPECT_EQ(a.electrolyte.initial_concentration_mol_m3, b.electrolyte.initial_concentration_mol_m3);
    EXPECT_EQ(a.cell.contact_resistance_ohm_m2, b.cell.contact_resistance_ohm_m2) << label;
    EXPECT_EQ(a.cell.electrode_tortuosity_scale, b.cell.electrode_tortuosity_scale) << label;
    EXPECT_EQ(a.cell.reference_position_fraction, b.cell.reference_position_fraction);
    EXPECT_EQ(a.cell.counter_ideal, b.cell.counter_ideal);
    EXPECT_EQ(a.separator.thickness_m, b.separator.thickness_m);
    EXPECT_EQ(a.separator.porosity, b.separator.porosity);
    ASSERT_EQ(a.layers.size(), b.layers.size());
    for (size_t k = 0; k < a.layers.size(); ++k) {
      const Layer &la = a.layers[k], &lb = b.layers[k];
      EXPECT_EQ(la.thickness_m, lb.thickness_m) << label << " layer " << k;
      EXPECT_EQ(la.porosity, lb.porosity) << label << " layer " << k;
      EXPECT_EQ(la.tortuosity, lb.tortuosity) << label << " layer " << k;
      EXPECT_EQ(la.conductivity_S_m, lb.conductivity_S_m) << label << " layer " << k;
      ASSERT_EQ(la.materials.size(), lb.materials.size());
      for (size_t m = 0; m < la.materials.size(); ++m) {
        EXPECT_EQ(la.materials[m].material, lb.materials[m].material);
        EXPECT_EQ(la.materials[m].solid_volume_fraction, lb.materials[m].solid_volume_fraction);
        EXPECT_EQ(la.materials[m].particle_radius_m, lb.materials[m].particle_radius_m);
      }
    }
  }
}

TEST(Brown2026Calibration, FitReproducesTheLibraryValues) {
  const Scenario cal = load_scenario(kScenarios + "brown2026_calibration.toml");
  FitEvaluator ev(cal, nullptr, nullptr, 0, Layout::Blocked);
  const FitReport r = run_fit(cal, ev);
  ASSERT_TRUE(r.jacobian_ok);
  ASSERT_EQ(r.names.size(), 4u);
  // Four targets, four parameters: the fit must meet every target (chi2 ~ 0).
  EXPECT_LT(r.chi2, 0.01);
  // What the library and the rate test carry (rounded to 3 digits) lies well inside
  // the fit's 1-sigma band.
  const double library[] = {cal.materials.at("NMO").accessible_fraction, cal.materials.at("NVP").accessible_fraction,
                            cal.cell.electrode_tortuosity_scale, cal.materials.at("NMO").diffusivity_m2_s};
  const char* paths[] = {"materials.NMO.accessible_fraction", "materials.NVP.accessible_fraction",
                         "cell.electrode_tortuosity_scale", "materials.NMO.diffusivity_m2_s"};
  for (int k = 0; k < 4; ++k) {
    ASSERT_EQ(r.names[k], paths[k]);
    EXPECT_LT(std::fabs(r.values[k] - library[k]), 0.1 * r.sigma[k])
        << paths[k] << ": fitted " << r.values[k] << " +- " << r.sigma[k] << ", library " << library[k];
  }
}
