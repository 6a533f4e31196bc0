// validate_scenario (host/scenario_loader.hpp): the range checks of everything in a scenario
// (layers, separator, cell, electrolyte, materials, numerics, protocol).
#include "host/scenario_loader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace strata {

namespace {

[[noreturn]] void range_fail(const std::string& where, const std::string& key, double v,
                             const std::string& allowed) {
  throw ScenarioError(fmt::format("{}: {} = {} is out of range; allowed {}", where, key,
                                  format_number(v), allowed));
}

}  // namespace

void validate_scenario(const Scenario& s, const std::string& where) {
  const size_t K = s.layers.size();
  if (K < 1 || K > static_cast<size_t>(kMaxLayers))
    throw ScenarioError(fmt::format("{}: layers has {} entries; allowed 1 to {} layers (at most {} "
                                    "[[layers]] tables, the first one at the current collector)",
                                    where, K, kMaxLayers, kMaxLayers));
  auto transport = [&](const std::string& p, bool brug, double tau, double b) {
    if (brug) {
      if (!(b >= 1.0 && b <= 5.0))
        range_fail(where, p + ".bruggeman_exponent", b, "1 <= bruggeman_exponent <= 5");
    } else if (!(tau >= 1.0 && tau <= 100.0)) {
      range_fail(where, p + ".tortuosity", tau, "1 <= tortuosity <= 100");
    }
  };
  auto nodes = [&](const std::string& key, int n) {
    if (n != 0 && (n < 2 || n > 1000)) range_fail(where, key, n, "2 <= nodes <= 1000");
  };
  for (size_t i = 0; i < K; ++i) {
    const Layer& L = s.layers[i];
    const std::string p = fmt::format("layers[{}]", i);
    if (!(L.thickness_m > 0.0 && L.thickness_m <= 5e-3))
      range_fail(where, p + ".thickness_m", L.thickness_m, "0 < thickness_m <= 5e-3 (5 mm)");
    if (!(L.porosity > 0.0 && L.porosity < 1.0))
      range_fail(where, p + ".porosity", L.porosity, "0 < porosity < 1");
    transport(p, L.use_bruggeman, L.tortuosity, L.bruggeman_exponent);
    if (L.contact_resistance_ohm_m2 != -1.0 &&
        !(L.contact_resistance_ohm_m2 >= 0.0 && L.contact_resistance_ohm_m2 <= 10.0))
      range_fail(where, p + ".contact_resistance_ohm_m2", L.contact_resistance_ohm_m2,
                 "0 <= contact_resistance_ohm_m2 <= 10");
    if (!(L.conductivity_S_m > 0.0 && L.conductivity_S_m <= 1e8))
      range_fail(where, p + ".conductivity_S_m", L.conductivity_S_m,
                 "0 < conductivity_S_m <= 1e8");
    nodes(p + ".nodes", L.nodes);
    const size_t M = L.materials.size();
    if (M < 1 || M > static_cast<size_t>(kMaxMaterialsPerLayer))
      throw ScenarioError(fmt::format("{}: {}.materials has {} entries; allowed 1 to {} "
                                      "[[layers.materials]] per layer",
                                      where, p, M, kMaxMaterialsPerLayer));
    double sum = 0.0, maxf = 0.0;
    for (size_t j = 0; j < M; ++j) {
      const LayerMaterial& m = L.materials[j];
      const std::string q = fmt::format("{}.materials[{}]", p, j);
      if (!s.materials.count(m.material))
        throw ScenarioError(fmt::format("{}: {}.name = \"{}\" is not a loaded material", where, q,
                                        m.material));
      if (!(m.solid_volume_fraction >= 0.0 && m.solid_volume_fraction <= 1.0))
        range_fail(where, q + ".solid_volume_fraction", m.solid_volume_fraction,
                   "0 <= solid_volume_fraction <= 1");
      if (!(m.particle_radius_m >= 1e-9 && m.particle_radius_m <= 1e-3))
        range_fail(where, q + ".particle_radius_m", m.particle_radius_m,
                   "1e-9 <= particle_radius_m <= 1e-3");
      sum += m.solid_volume_fraction;
      maxf = std::max(maxf, m.solid_volume_fraction);
    }
    if (sum > 1.0 + 1e-12)
      throw ScenarioError(fmt::format(
          "{}: {}.materials[*].solid_volume_fraction sum to {}; allowed a sum <= 1 (the fractions "
          "are shares of the layer's solid volume; the rest is inert)",
          where, p, format_number(sum)));
    if (!(maxf > 0.0))
      throw ScenarioError(fmt::format(
          "{}: {}.materials[*].solid_volume_fraction are all 0; allowed: at least one material "
          "per layer with solid_volume_fraction > 0",
          where, p));
  }
  const Separator& S = s.separator;
  if (!(S.thickness_m > 0.0 && S.thickness_m <= 5e-3))
    range_fail(where, "separator.thickness_m", S.thickness_m, "0 < thickness_m <= 5e-3 (5 mm)");
  if (!(S.porosity > 0.0 && S.porosity < 1.0))
    range_fail(where, "separator.porosity", S.porosity, "0 < porosity < 1");
  transport("separator", S.use_bruggeman, S.tortuosity, S.bruggeman_exponent);
  nodes("separator.nodes", S.nodes);

  const Cell& c = s.cell;
  if (!(c.temperature_K >= 200.0 && c.temperature_K <= 400.0))
    range_fail(where, "cell.temperature_K", c.temperature_K, "200 <= temperature_K <= 400");
  if (!(c.area_m2 > 0.0 && c.area_m2 <= 100.0))
    range_fail(where, "cell.area_m2", c.area_m2, "0 < area_m2 <= 100");
  if (!(c.contact_resistance_ohm_m2 >= 0.0 && c.contact_resistance_ohm_m2 <= 10.0))
    range_fail(where, "cell.contact_resistance_ohm_m2", c.contact_resistance_ohm_m2,
               "0 <= contact_resistance_ohm_m2 <= 10");
  if (!(c.electrode_tortuosity_scale > 0.0 && c.electrode_tortuosity_scale <= 1000.0))
    range_fail(where, "cell.electrode_tortuosity_scale", c.electrode_tortuosity_scale,
               "0 < electrode_tortuosity_scale <= 1000");
  if (!(c.reference_position_fraction >= 0.0 && c.reference_position_fraction <= 1.0))
    range_fail(where, "cell.reference_position_fraction", c.reference_position_fraction,
               "0 <= reference_position_fraction <= 1");
  if (!(c.initial_soc >= 0.0 && c.initial_soc <= 1.0))
    range_fail(where, "cell.initial_soc", c.initial_soc, "0 <= initial_soc <= 1");
  if (!(c.counter_exchange_current_density_A_m2 > 0.0 &&
        c.counter_exchange_current_density_A_m2 <= 1e6))
    range_fail(where, "cell.counter_exchange_current_density_A_m2",
               c.counter_exchange_current_density_A_m2,
               "0 < counter_exchange_current_density_A_m2 <= 1e6");

  const double c0 = s.electrolyte.initial_concentration_mol_m3;
  if (!(c0 > 0.0 && c0 <= 1e4))
    range_fail(where, "electrolyte.initial_concentration_mol_m3", c0,
               "0 < initial_concentration_mol_m3 <= 1e4");

  for (const auto& [name, m] : s.materials)
    validate_active_material(m, where, fmt::format("materials.{}.", name));
  // A start given as a state of charge: inside (0, 1), where the exchange current is
  // not zero (an explicit initial_stoichiometry is checked with its material).
  for (const auto& [name, m] : s.materials) {
    const double x0 = initial_stoichiometry_of(m, c.initial_soc);
    if (std::isnan(m.initial_stoichiometry) && !(x0 > 0.0 && x0 < 1.0))
      throw ScenarioError(fmt::format(
          "{}: cell.initial_soc = {} starts materials.{} at x = {} (stoichiometry_charged = {}, "
          "stoichiometry_discharged = {}); allowed a start strictly inside (0, 1): a lower initial_soc, or "
          "materials.{}.initial_stoichiometry",
          where, format_number(c.initial_soc), name, format_number(x0), format_number(m.stoichiometry_charged),
          format_number(m.stoichiometry_discharged), name));
  }

  if (c.measured_against_counter && c.counter_porous)
    throw ScenarioError(fmt::format(
        "{}: cell.measured_against = \"counter\" with cell.counter_electrode = \"porous\"; allowed only with a "
        "\"metal\" or \"ideal\" counter (the porous counter's equilibrium potential is not modelled, so a "
        "potential against it means nothing; docs/physics.md 2.6b)",
        where));
  if (s.cell.counter_porous) {
    const PorousCounter& C = s.counter;
    if (!(C.thickness_m > 0.0 && C.thickness_m <= 1e-2))
      range_fail(where, "counter_electrode.thickness_m", C.thickness_m, "0 < thickness_m <= 1e-2");
    if (!(C.porosity > 0.0 && C.porosity < 1.0))
      range_fail(where, "counter_electrode.porosity", C.porosity, "0 < porosity < 1");
    if (!(C.solid_volume_fraction > 0.0 && C.solid_volume_fraction <= 1.0))
      range_fail(where, "counter_electrode.solid_volume_fraction", C.solid_volume_fraction,
                 "0 < solid_volume_fraction <= 1");
    if (!(C.particle_radius_m > 0.0 && C.particle_radius_m <= 1e-3))
      range_fail(where, "counter_electrode.particle_radius_m", C.particle_radius_m, "0 < particle_radius_m <= 1e-3");
    transport("counter_electrode", C.use_bruggeman, C.tortuosity, C.bruggeman_exponent);
    nodes("counter_electrode.nodes", C.nodes);
  }

  const Numerics& n = s.numerics;
  if (n.nodes_per_layer < 2 || n.nodes_per_layer > 1000)
    range_fail(where, "numerics.nodes_per_layer", n.nodes_per_layer, "2 <= nodes_per_layer <= 1000");
  if (!(n.cell_size_m >= 0.0 && n.cell_size_m <= 1e-3))
    range_fail(where, "numerics.cell_size_m", n.cell_size_m, "0 < cell_size_m <= 1e-3 (0: nodes_per_layer cells)");
  if (n.min_nodes_per_layer < 2 || n.min_nodes_per_layer > 1000)
    range_fail(where, "numerics.min_nodes_per_layer", n.min_nodes_per_layer, "2 <= min_nodes_per_layer <= 1000");
  {  // the kernels hold at most kMaxCells cells per variant
    long cells = separator_nodes(s) + counter_nodes(s);
    for (int k = 0; k < (int)s.layers.size(); ++k) cells += layer_nodes(s, k);
    if (cells > kMaxCells)
      range_fail(where, "numerics (total cells)", cells,
                 fmt::format("at most {} cells in the layers, the separator and a porous counter{}", kMaxCells,
                             n.cell_size_m > 0.0 ? "; raise numerics.cell_size_m" : ""));
  }
  if (n.separator_nodes < 2 || n.separator_nodes > 1000)
    range_fail(where, "numerics.separator_nodes", n.separator_nodes, "2 <= separator_nodes <= 1000");
  if (!(n.particle_shell_ratio >= 0.5 && n.particle_shell_ratio <= 1.0))
    range_fail(where, "numerics.particle_shell_ratio", n.particle_shell_ratio, "0.5 <= particle_shell_ratio <= 1");
  if (n.particle_shells < 3 || n.particle_shells > kMaxShells)
    range_fail(where, "numerics.particle_shells", n.particle_shells,
               fmt::format("3 <= particle_shells <= {}", kMaxShells));
  if (!(n.relative_tolerance >= 1e-12 && n.relative_tolerance <= 0.5))
    range_fail(where, "numerics.relative_tolerance", n.relative_tolerance,
               "1e-12 <= relative_tolerance <= 0.5");
  if (!(n.max_step_s > 0.0 && n.max_step_s <= 1e7))
    range_fail(where, "numerics.max_step_s", n.max_step_s, "0 < max_step_s <= 1e7");
  if (!(n.voltage_event_tolerance_V > 0.0 && n.voltage_event_tolerance_V <= 0.1))
    range_fail(where, "numerics.voltage_event_tolerance_V", n.voltage_event_tolerance_V,
               "0 < voltage_event_tolerance_V <= 0.1");
  if (!(n.newton_max_contraction == 0.0 || (n.newton_max_contraction >= 0.1 && n.newton_max_contraction <= 10.0)))
    range_fail(where, "numerics.newton_max_contraction", n.newton_max_contraction,
               "0.1 <= newton_max_contraction <= 10, or 0 (no contraction test)");
  if (n.max_steps_per_protocol_step < 1)
    range_fail(where, "numerics.max_steps_per_protocol_step", n.max_steps_per_protocol_step,
               "max_steps_per_protocol_step >= 1");

  const ProtocolSpec& pr = s.protocol;
  if (!(pr.nominal_capacity_mAh_g > 0.0 && pr.nominal_capacity_mAh_g <= 1e4))
    range_fail(where, "protocol.nominal_capacity_mAh_g", pr.nominal_capacity_mAh_g,
               "0 < nominal_capacity_mAh_g <= 1e4");
  if (pr.steps.empty() || pr.steps.size() != pr.step_texts.size() ||
      pr.steps.size() > kMaxProtocolSteps)
    throw ScenarioError(fmt::format("{}: protocol.steps expands to {} steps; allowed 1 to {}",
                                    where, pr.steps.size(), kMaxProtocolSteps));
}

}  // namespace strata
