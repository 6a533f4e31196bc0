#pragma once
// Scenarios built in code for the physics tests: synthetic materials with closed-form
// OCPs, so the tests do not depend on the material library's evolving data.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "host/batch.hpp"
#include "host/cpu_backend.hpp"
#include "host/protocol_parser.hpp"
#include "host/scenario.hpp"
#include "host/scenario_loader.hpp"
#include "host/simulate.hpp"
#include "kernels/dfn_protocol.hpp"

namespace strata::test {

// A sloping solid-solution cathode: U = 3.3 - 1.0 (x - 0.5) + (RT/F) ln((1-x)/x),
// with a steep drop near the discharged end (x ~ 0.975) so 2.3 V is reached inside (0, 1).
inline ActiveMaterial sloping_material() {
  ActiveMaterial m;
  m.name = "sloping";
  m.source = "synthetic test material";
  m.density_kg_m3 = 4000.0;
  m.max_concentration_mol_m3 = 30000.0;
  m.stoichiometry_charged = 0.02;
  m.stoichiometry_discharged = 0.95;
  m.ocp_tabulated = false;
  m.ocp_closed.E0_V = 3.3 - 0.5;
  m.ocp_closed.slope_V = 1.0;
  m.ocp_closed.ideality = 1.0;
  m.ocp_closed.tanh_amplitude_V = {-0.5};
  m.ocp_closed.tanh_center = {0.975};
  m.ocp_closed.tanh_width = {0.01};
  m.diffusivity_m2_s = 1e-14;
  m.exchange_current_density_A_m2 = 2.0;
  return m;
}

// A flat-plateau cathode at 3.4 V with steep ends.
inline ActiveMaterial plateau_material() {
  ActiveMaterial m = sloping_material();
  m.name = "plateau";
  m.density_kg_m3 = 3000.0;
  m.max_concentration_mol_m3 = 15000.0;
  m.stoichiometry_charged = 0.02;
  m.stoichiometry_discharged = 0.98;
  m.ocp_closed.E0_V = 3.4;
  m.ocp_closed.slope_V = 0.05;
  m.ocp_closed.ideality = 0.3;
  // -0.3 tanh(x/0.03) lifts U by 0.3 V at the charged end; -0.8 tanh((x-0.99)/0.01)
  // drops it steeply at the discharged end; in the middle they add +0.5 V.
  m.ocp_closed.tanh_amplitude_V = {-0.3, -0.8};
  m.ocp_closed.tanh_center = {0.0, 0.99};
  m.ocp_closed.tanh_width = {0.03, 0.01};
  m.diffusivity_m2_s = 5e-15;
  m.exchange_current_density_A_m2 = 1.0;
  m.ocp_closed.E0_V = 3.4 - 0.5;
  return m;
}

inline Electrolyte constant_electrolyte() {
  Electrolyte e;
  e.name = "test electrolyte";
  e.conductivity_S_m.value = 0.8;
  e.diffusivity_m2_s.value = 2.5e-10;
  e.transference_number.value = 0.45;
  e.thermodynamic_factor.value = 1.0;
  e.initial_concentration_mol_m3 = 1000.0;
  return e;
}

inline Layer layer(const std::string& material, double thickness_m, int nodes = 10) {
  Layer l;
  l.thickness_m = thickness_m;
  l.porosity = 0.4;
  l.tortuosity = 2.5;
  l.conductivity_S_m = 20.0;
  l.nodes = nodes;
  LayerMaterial lm;
  lm.material = material;
  lm.solid_volume_fraction = 0.8;
  lm.particle_radius_m = 4e-6;
  l.materials.push_back(lm);
  return l;
}

inline Scenario bilayer_scenario(const std::vector<std::string>& steps) {
  Scenario s;
  s.name = "test bilayer";
  s.materials["sloping"] = sloping_material();
  s.materials["plateau"] = plateau_material();
  s.electrolyte = constant_electrolyte();
  s.layers = {layer("sloping", 50e-6), layer("plateau", 50e-6)};
  s.separator.thickness_m = 100e-6;
  s.separator.porosity = 0.8;
  s.separator.use_bruggeman = true;
  s.separator.nodes = 6;
  s.cell.reference_position_fraction = 0.5;
  s.numerics.particle_shells = 10;
  s.protocol.nominal_capacity_mAh_g = 100.0;
  for (const auto& t : steps) {
    s.protocol.step_texts.push_back(t);
    s.protocol.steps.push_back(parse_protocol_step(t));
  }
  return s;
}

// n designs from a bilayer base: both layer orders over a thickness and porosity
// sweep, every fifth with a blended first layer (the CPU/GPU and pass-unit tests).
inline std::vector<ResolvedVariant> mixed_bilayer_designs(const Scenario& base, int n) {
  std::vector<ResolvedVariant> vars;
  for (int k = 0; k < n; ++k) {
    Scenario s = base;
    s.layers[0].thickness_m = (30 + (k % 10) * 4) * 1e-6;
    s.layers[1].porosity = 0.3 + 0.02 * ((k / 10) % 10);
    s.layers[0].porosity = 0.32 + 0.015 * ((k / 100) % 10);
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
  return vars;
}

inline Batch run_scenarios(const std::vector<Scenario>& scs, Layout layout = Layout::Blocked, int threads = 0) {
  std::vector<ResolvedVariant> vars;
  for (size_t k = 0; k < scs.size(); ++k) vars.push_back({"v" + std::to_string(k), scs[k], ""});
  Batch b = build_batch(vars, layout);
  run_batch_cpu(b, threads);
  return b;
}

// Output value of step k of variant v.
inline double out(Batch& b, int v, int step, int field) {
  return b.out_view(v)[(long)step * step_out_size(b.shape) + field];
}
inline int status(Batch& b, int v) { return (int)b.view(v)[b.shape.o_misc + kMiscStatus]; }
// Capacity of step k in mAh/g of active material.
inline double capacity_mAh_g(Batch& b, int v, int step) {
  return out(b, v, step, kOutCapacity_C_m2) / 3.6 / (b.view(v)[b.shape.o_scalar + kActiveMass_kg_m2] * 1000.0);
}

// The cut-off of the NVPF half cell of the PyBaMM comparison
// (tests/data/nvpf_1C_discharge/scenario.toml).
constexpr double kNvpfCutOff_V = 2.028811953;

// Replaces the scenario's protocol by these steps.
inline void set_protocol(Scenario& s, const std::vector<std::string>& step_texts) {
  s.protocol.step_texts = step_texts;
  s.protocol.steps.clear();
  for (const std::string& t : step_texts) s.protocol.steps.push_back(parse_protocol_step(t));
}

// That cell (read from scenario_path) with its step replaced by a discharge at
// rate_A_m2 (text, e.g. "11.81102362") to its cut-off, at relative tolerance rtol.
inline Scenario nvpf_discharge(const std::string& scenario_path, const std::string& rate_A_m2, double rtol) {
  Scenario s = load_scenario(scenario_path);
  set_protocol(s, {"Discharge at " + rate_A_m2 + " A/m2 until 2.028811953 V"});
  s.numerics.relative_tolerance = rtol;
  return s;
}

// The same at 3C (35.4 A/m2). At its end the salt runs out near the current collector
// and the potential collapses by hundreds of mV within a microsecond (docs/physics.md
// 3.3 and 6).
inline Scenario nvpf_three_c_discharge(const std::string& scenario_path, double rtol) {
  return nvpf_discharge(scenario_path, "35.4", rtol);
}

// The same cell (rtol 1e-5) discharged at rate_A_m2 (text, e.g. "11.81102362") to the
// cut-off, then rested for 600 s: the rest's first step must jump from the end of the
// particles' window or from a depleted electrolyte (docs/physics.md 5).
inline Scenario nvpf_discharge_then_rest(const std::string& scenario_path, const std::string& rate_A_m2) {
  Scenario s = nvpf_discharge(scenario_path, rate_A_m2, 1e-5);
  set_protocol(s, {s.protocol.step_texts[0], "Rest for 600 seconds"});
  return s;
}

// Variant v's first step of nvpf_three_c_discharge ended at the wall of its cut-off:
// no failure, the limit reached (located to tolerance or not), from above (at most the
// event tolerance past it) and within the collapse.
inline void expect_ended_at_the_nvpf_wall(Batch& b, int v, const std::string& who) {
  ASSERT_EQ(status(b, v), 0) << who << ": " << status_reason((VariantStatus)status(b, v));
  const int reason = (int)out(b, v, 0, kOutEndReason);
  EXPECT_TRUE(reason == (int)StepEnd::Limit || reason == (int)StepEnd::LimitUnlocated) << who << ": end reason " << reason;
  const double v_end = out(b, v, 0, kOutEndPotential_V);
  EXPECT_GT(v_end, kNvpfCutOff_V - 1e-4) << who;  // reached from above, at most tol past it
  EXPECT_LT(v_end, kNvpfCutOff_V + 0.1) << who;   // at the wall, within the collapse
}

}  // namespace strata::test
