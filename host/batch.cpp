#include "host/batch.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "host/table_builder.hpp"
#include "kernels/dfn_protocol.hpp"

namespace strata {

void Batch::enable_trajectories(const TrajectorySpec& spec) {
  trajectory_spec = spec;
  // A protocol step keeps its first and last samples (kernels/trajectory.hpp); the
  // start is one more.
  trajectory_spec.kept_slots = 2 * static_cast<int>(steps.size()) + 1;
  trajectory_layout = trajectory_layout_of(shape, trajectory_spec);
  trajectories.assign((size_t)n_variants * trajectory_layout.record_size, 0.0);
}

long Batch::out_record_size() const { return (long)steps.size() * step_out_size(shape); }

double active_mass_kg_m2(const Scenario& s) {
  double m = 0.0;
  for (const Layer& l : s.layers)
    for (const LayerMaterial& lm : l.materials)
      m += l.thickness_m * (1.0 - l.porosity) * lm.solid_volume_fraction * s.materials.at(lm.material).density_kg_m3;
  return m;
}

namespace {

DfnShape make_shape(const std::vector<ResolvedVariant>& vars) {
  const ResolvedVariant* first = nullptr;
  for (const auto& rv : vars)
    if (rv.rejected.empty()) { first = &rv; break; }
  if (!first) first = &vars.front();
  const Scenario& s0 = first->scenario;
  DfnShape S;
  S.n_layers = static_cast<int>(s0.layers.size());
  if (S.n_layers < 1 || S.n_layers > kMaxLayers)
    throw std::invalid_argument(fmt::format("{} layers; allowed 1..{}", S.n_layers, kMaxLayers));
  S.nr = s0.numerics.particle_shells;
  S.time_order = s0.numerics.time_order;
  if (S.nr < 2 || S.nr > kMaxShells)
    throw std::invalid_argument(fmt::format("numerics.particle_shells = {}; allowed 2..{}", S.nr, kMaxShells));
  std::vector<int> slots(S.n_layers, 1);
  for (const auto& rv : vars) {
    if (!rv.rejected.empty()) continue;
    const Scenario& s = rv.scenario;
    if ((int)s.layers.size() != S.n_layers || s.numerics.particle_shells != S.nr ||
        s.numerics.time_order != s0.numerics.time_order ||
        separator_nodes(s) != separator_nodes(s0) || counter_nodes(s) != counter_nodes(s0))
      throw std::invalid_argument("variant '" + rv.label + "' has a different discretisation shape from '" +
                                  first->label + "'; a batch needs one shape");
    for (int k = 0; k < S.n_layers; ++k) {
      if (layer_nodes(s, k) != layer_nodes(s0, k))
        throw std::invalid_argument("variant '" + rv.label + "' has a different node count in layer " +
                                    std::to_string(k));
      slots[k] = std::max<int>(slots[k], (int)s.layers[k].materials.size());
    }
  }
  int cell = 0, slot = 0;
  for (int k = 0; k < S.n_layers; ++k) {
    S.layer_first_cell[k] = cell;
    S.layer_first_slot[k] = slot;
    for (int i = 0; i < layer_nodes(s0, k); ++i) {
      if (cell >= kMaxCells) throw std::invalid_argument("too many cells for one variant");
      S.cell_layer[cell++] = k;
    }
    slot += slots[k];
  }
  S.layer_first_cell[S.n_layers] = cell;
  S.layer_first_slot[S.n_layers] = slot;
  S.ne = cell;
  S.n_slots = slot;
  if (S.n_slots > kMaxSlots) throw std::invalid_argument("too many material slots");
  S.n_sep = separator_nodes(s0);
  S.n_ctr = counter_nodes(s0);
  if (cell + S.n_sep + S.n_ctr > kMaxCells) throw std::invalid_argument("too many cells for one variant");
  for (int i = 0; i < S.n_sep + S.n_ctr; ++i) S.cell_layer[cell + i] = -1;
  finalize_shape(S);
  return S;
}

double effective_transport(double porosity, bool bruggeman, double exponent, double tortuosity) {
  return bruggeman ? std::pow(porosity, exponent) : porosity / tortuosity;
}

void fill_record(const DfnShape& S, const Scenario& s, const std::map<std::string, int>& material_ids,
                 const Strided<double>& v, int* slot_material) {
  for (long k = 0; k < S.record_size; ++k) v[k] = 0.0;
  int cell = 0;
  for (int k = 0; k < S.n_layers; ++k) {
    const Layer& l = s.layers[k];
    const int n = S.layer_first_cell[k + 1] - S.layer_first_cell[k];
    const double trans = effective_transport(l.porosity, l.use_bruggeman, l.bruggeman_exponent, l.tortuosity) /
                         s.cell.electrode_tortuosity_scale;
    for (int i = 0; i < n; ++i, ++cell) {
      v[S.o_dx + cell] = l.thickness_m / n;
      v[S.o_eps + cell] = l.porosity;
      v[S.o_trans + cell] = trans;
      v[S.o_sigma + cell] = l.conductivity_S_m;
    }
    const int n_slots = S.slots_of_layer(k);
    for (int m = 0; m < n_slots; ++m) {
      const int s_idx = S.layer_first_slot[k] + m;
      const long sp = S.o_slot + (long)kSlotParams * s_idx;
      // Padding slots copy the layer's first material at zero fraction.
      const bool pad = m >= (int)l.materials.size();
      const LayerMaterial& lm = l.materials[pad ? 0 : m];
      const ActiveMaterial& am = s.materials.at(lm.material);
      slot_material[s_idx] = pad ? -1 : material_ids.at(lm.material);
      v[sp + kSlotMaterialId] = material_ids.at(lm.material);
      // Electrochemically active volume fraction; the mass (1C, mAh/g) counts all of it.
      v[sp + kSlotVolumeFraction] =
          pad ? 0.0 : (1.0 - l.porosity) * lm.solid_volume_fraction * am.accessible_fraction;
      v[sp + kSlotRadius_m] = lm.particle_radius_m;
      v[sp + kSlotCmax_mol_m3] = am.max_concentration_mol_m3;
      v[sp + kSlotDiffusivity_m2_s] = am.diffusivity_m2_s;
      v[sp + kSlotI0_A_m2] = am.exchange_current_density_A_m2;
      v[sp + kSlotCeRef_mol_m3] = am.reference_concentration_mol_m3;
      v[sp + kSlotAlphaA] = am.alpha_anodic;
      v[sp + kSlotAlphaC] = am.alpha_cathodic;
      v[sp + kSlotXInit] = initial_stoichiometry_of(am, s.cell.initial_soc);
      v[sp + kSlotXCharged] = am.stoichiometry_charged;
      v[sp + kSlotXDischarged] = am.stoichiometry_discharged;
      v[sp + kSlotDensity_kg_m3] = am.density_kg_m3;
    }
  }
  const double trans_sep = effective_transport(s.separator.porosity, s.separator.use_bruggeman,
                                               s.separator.bruggeman_exponent, s.separator.tortuosity);
  for (int i = 0; i < S.n_sep; ++i, ++cell) {
    v[S.o_dx + cell] = s.separator.thickness_m / S.n_sep;
    v[S.o_eps + cell] = s.separator.porosity;
    v[S.o_trans + cell] = trans_sep;
    v[S.o_sigma + cell] = 0.0;
  }
  const long sc = S.o_scalar;
  if (S.n_ctr > 0) {
    const PorousCounter& c = s.counter;
    const double trans_ctr = effective_transport(c.porosity, c.use_bruggeman, c.bruggeman_exponent, c.tortuosity);
    for (int i = 0; i < S.n_ctr; ++i, ++cell) {
      v[S.o_dx + cell] = c.thickness_m / S.n_ctr;
      v[S.o_eps + cell] = c.porosity;
      v[S.o_trans + cell] = trans_ctr;
      v[S.o_sigma + cell] = 0.0;
    }
    // a i0 at the initial concentration c_e,0, which the kernel scales by (c_e/c_e,0)^(1/2):
    // specific area of spheres 3 (1 - eps) f / R times the material's i0, given at its
    // reference concentration, so i0(c_e,0) = i0_ref (c_e,0 / c_e,ref)^(1/2).
    const ActiveMaterial& m = s.materials.at(c.material);
    const double area_m_1 = 3.0 * (1.0 - c.porosity) * c.solid_volume_fraction / c.particle_radius_m;
    const double ce_ratio = s.electrolyte.initial_concentration_mol_m3 / m.reference_concentration_mol_m3;
    v[sc + kCounterVolumetricI0_A_m3] = area_m_1 * m.exchange_current_density_A_m2 * std::sqrt(ce_ratio);
  }
  const double mass = active_mass_kg_m2(s);
  v[sc + kTemperature_K] = s.cell.temperature_K;
  // The layer at the current collector may carry its own contact resistance.
  v[sc + kContactResistance_ohm_m2] = s.layers.front().contact_resistance_ohm_m2 >= 0.0
                                          ? s.layers.front().contact_resistance_ohm_m2
                                          : s.cell.contact_resistance_ohm_m2;
  v[sc + kReferenceFraction] = s.cell.reference_position_fraction;
  v[sc + kMeasuredAgainstCounter] = s.cell.measured_against_counter ? 1.0 : 0.0;
  v[sc + kCounterI0_A_m2] = s.cell.counter_ideal ? 0.0 : s.cell.counter_exchange_current_density_A_m2;
  // 1C current density: mAh/g equals Ah/kg, so (Ah/kg) * (kg/m2) / (1 h) is A/m2.
  v[sc + kOneC_A_m2] = s.protocol.nominal_capacity_mAh_g * mass;
  v[sc + kCeInit_mol_m3] = s.electrolyte.initial_concentration_mol_m3;
  v[sc + kActiveMass_kg_m2] = mass;
  v[sc + kRelTol] = s.numerics.relative_tolerance;
  v[sc + kMaxStep_s] = s.numerics.max_step_s;
  v[sc + kVoltageTol_V] = s.numerics.voltage_event_tolerance_V;
  v[sc + kMaxStepsPerProtocolStep] = s.numerics.max_steps_per_protocol_step;
  v[sc + kNewtonMaxContraction] =
      s.numerics.newton_max_contraction > 0.0 ? s.numerics.newton_max_contraction : kContractionTestOff;
  v[sc + kPredictiveStepControl] = s.numerics.predictive_step_control ? 1.0 : 0.0;
  v[sc + kShellRatio] = s.numerics.particle_equal_volume ? 0.0 : s.numerics.particle_shell_ratio;
}

bool same_table(const Table1D& a, const Table1D& b) { return a.x == b.x && a.y == b.y; }
bool same_property(const ScalarOrTable& a, const ScalarOrTable& b) {
  return a.tabulated == b.tabulated && (a.tabulated ? same_table(a.table, b.table) : a.value == b.value);
}
bool same_functions(const Electrolyte& a, const Electrolyte& b) {
  return same_property(a.conductivity_S_m, b.conductivity_S_m) && same_property(a.diffusivity_m2_s, b.diffusivity_m2_s) &&
         same_property(a.transference_number, b.transference_number) &&
         same_property(a.thermodynamic_factor, b.thermodynamic_factor);
}
bool same_functions(const ActiveMaterial& a, const ActiveMaterial& b) {
  const OcpClosedForm &p = a.ocp_closed, &q = b.ocp_closed;
  const bool ocp = a.ocp_tabulated ? (b.ocp_tabulated && same_table(a.ocp_table_V, b.ocp_table_V))
                                   : (!b.ocp_tabulated && p.E0_V == q.E0_V && p.slope_V == q.slope_V &&
                                      p.ideality == q.ideality && p.tanh_amplitude_V == q.tanh_amplitude_V &&
                                      p.tanh_center == q.tanh_center && p.tanh_width == q.tanh_width);
  return ocp && same_table(a.diffusivity_factor, b.diffusivity_factor);
}

}  // namespace

ShapeKey shape_key(const ResolvedVariant& v) {
  if (!v.rejected.empty()) return {};
  const Scenario& s = v.scenario;
  ShapeKey key = {s.numerics.particle_shells, separator_nodes(s), counter_nodes(s), s.numerics.time_order};
  for (int k = 0; k < (int)s.layers.size(); ++k) key.push_back(layer_nodes(s, k));
  return key;
}

std::vector<std::vector<int>> group_by_shape(const std::vector<ShapeKey>& keys) {
  std::map<ShapeKey, size_t> index;
  std::vector<std::vector<int>> groups;
  std::vector<int> rejected;
  for (size_t v = 0; v < keys.size(); ++v) {
    if (keys[v].empty()) {
      rejected.push_back(static_cast<int>(v));
      continue;
    }
    auto it = index.find(keys[v]);
    if (it == index.end()) {
      it = index.emplace(keys[v], groups.size()).first;
      groups.emplace_back();
    }
    groups[it->second].push_back(static_cast<int>(v));
  }
  if (groups.empty()) groups.emplace_back();
  groups[0].insert(groups[0].end(), rejected.begin(), rejected.end());
  return groups;
}

std::vector<std::vector<int>> group_by_shape(const std::vector<ResolvedVariant>& vars) {
  std::vector<ShapeKey> keys;
  keys.reserve(vars.size());
  for (const ResolvedVariant& v : vars) keys.push_back(shape_key(v));
  return group_by_shape(keys);
}

Batch build_batch(const std::vector<ResolvedVariant>& vars, Layout layout) {
  if (vars.empty()) throw std::invalid_argument("empty batch");
  Batch b;
  b.layout = layout;
  b.n_variants = static_cast<int>(vars.size());
  b.shape = make_shape(vars);
  const DfnShape& S = b.shape;
  const ResolvedVariant* ref = &vars.front();
  for (const auto& rv : vars)
    if (rv.rejected.empty()) { ref = &rv; break; }
  b.steps = ref->scenario.protocol.steps;
  b.step_texts = ref->scenario.protocol.step_texts;

  // Shared tables: every material any variant uses, and the electrolyte.
  TableBuilder tb;
  std::map<std::string, int> ids;
  std::map<std::string, ActiveMaterial> first_material;
  std::vector<MaterialFns> fns;
  for (const auto& rv : vars) {
    if (!rv.rejected.empty()) continue;
    for (const Layer& l : rv.scenario.layers)
      for (const LayerMaterial& lm : l.materials)
        if (!ids.count(lm.material)) {
          if ((int)fns.size() >= kMaxMaterials) throw std::invalid_argument("too many materials in one batch");
          ids[lm.material] = static_cast<int>(fns.size());
          fns.push_back(tb.add_material(rv.scenario.materials.at(lm.material)));
          first_material[lm.material] = rv.scenario.materials.at(lm.material);
          b.material_names.push_back(lm.material);
        }
  }
  const Electrolyte& el = ref->scenario.electrolyte;
  // Function shapes (tables, closed forms) are shared by the batch; only scalars vary.
  for (const auto& rv : vars) {
    if (!rv.rejected.empty()) continue;
    if (!same_functions(rv.scenario.electrolyte, el))
      throw std::invalid_argument("variant '" + rv.label + "' has other electrolyte property functions than '" +
                                  ref->label + "'; a batch shares them (run separate batches)");
    for (const auto& [name, id] : ids) {
      const auto it = rv.scenario.materials.find(name);
      if (it != rv.scenario.materials.end() && !same_functions(it->second, first_material.at(name)))
        throw std::invalid_argument("variant '" + rv.label + "' has other OCP or diffusivity functions for " + name +
                                    " than the rest of the batch; a batch shares them (run separate batches)");
    }
  }
  b.tables.electrolyte.conductivity_S_m = tb.add_property(el.conductivity_S_m);
  b.tables.electrolyte.diffusivity_m2_s = tb.add_property(el.diffusivity_m2_s);
  b.tables.electrolyte.transference_number = tb.add_property(el.transference_number);
  b.tables.electrolyte.thermodynamic_factor = tb.add_property(el.thermodynamic_factor);
  b.tables.n_materials = static_cast<int>(fns.size());
  for (size_t k = 0; k < fns.size(); ++k) b.tables.materials[k] = fns[k];
  b.table_data = tb.data();
  if (b.table_data.empty()) b.table_data.push_back(0.0);
  b.rebind_tables();

  b.records.assign((size_t)b.n_variants * S.record_size, 0.0);
  b.outputs.assign((size_t)b.n_variants * b.out_record_size(), 0.0);
  b.slot_material.assign((size_t)b.n_variants * S.n_slots, -1);
  b.slot_layer.resize(S.n_slots);
  for (int k = 0; k < S.n_layers; ++k)
    for (int s = S.layer_first_slot[k]; s < S.layer_first_slot[k + 1]; ++s) b.slot_layer[s] = k;
  for (int v = 0; v < b.n_variants; ++v) {
    const ResolvedVariant& rv = vars[v];
    b.labels.push_back(rv.label);
    b.rejected_reason.push_back(rv.rejected);
    Strided<double> view = b.view(v);
    if (rv.rejected.empty()) {
      fill_record(S, rv.scenario, ids, view, &b.slot_material[(size_t)v * S.n_slots]);
    } else {
      view[S.o_misc + kMiscStatus] = (double)VariantStatus::InvalidParameters;
    }
  }
  return b;
}

}  // namespace strata
