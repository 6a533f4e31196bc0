#pragma once
// The scenario as read from TOML: SI units everywhere, names carry the unit.
// Loading (scenario_loader.cpp, with the scenario_read_*.cpp files and scenario_validate.cpp)
// validates every value; the batch builder turns a Scenario into device arrays. See
// docs/scenario-format.md for the file format.
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "kernels/protocol_step.hpp"

namespace strata {

// y(x) given at strictly increasing x; interpolated by monotone cubic (PCHIP),
// extended linearly beyond the ends.
struct Table1D {
  std::vector<double> x;
  std::vector<double> y;
};

// A quantity that is either a constant or a table against one variable.
struct ScalarOrTable {
  bool tabulated = false;
  double value = 0.0;
  Table1D table;
};

// Closed-form open-circuit potential against Na/Na+ (or Li/Li+), x = c/c_max:
// U(x) = E0_V - slope_V * (x - 0.5) + ideality * (RT/F) * ln((1 - x)/x)
//        + sum_i amplitude_V[i] * tanh((x - center[i]) / width[i])
struct OcpClosedForm {
  double E0_V = 0.0;
  double slope_V = 0.0;
  double ideality = 1.0;
  std::vector<double> tanh_amplitude_V, tanh_center, tanh_width;
};

struct ActiveMaterial {
  std::string name;           // library file stem, e.g. "NVP"
  std::string file;           // path it was read from
  std::string source;         // where the numbers come from
  double density_kg_m3 = 0.0;
  // Fraction of the active mass that takes part in the electrochemistry (isolated
  // agglomerates, Na lost to side reactions): scales the active volume fraction and
  // surface area, not the mass that C-rates and mAh/g are referred to.
  double accessible_fraction = 1.0;
  double max_concentration_mol_m3 = 0.0;
  double stoichiometry_charged = 0.0;     // x at the top of the usable window (charged cathode)
  double stoichiometry_discharged = 1.0;  // x at the bottom (discharged cathode)
  // x at t = 0 when given (override path materials.<name>.initial_stoichiometry);
  // NaN: from cell.initial_soc (initial_stoichiometry_of below).
  double initial_stoichiometry = std::numeric_limits<double>::quiet_NaN();
  bool ocp_tabulated = true;
  Table1D ocp_table_V;        // x -> U (V)
  OcpClosedForm ocp_closed;
  double diffusivity_m2_s = 0.0;          // reference solid diffusivity
  Table1D diffusivity_factor;             // optional x -> multiplier of diffusivity_m2_s (empty: 1)
  // Butler-Volmer: i0 = i0_ref * (ce/ce_ref)^alpha_a * (x^alpha_c (1-x)^alpha_a) / 0.5^(alpha_a+alpha_c)
  double exchange_current_density_A_m2 = 0.0;  // i0 at ce = ce_ref and x = 0.5
  double reference_concentration_mol_m3 = 1000.0;
  double alpha_anodic = 0.5;
  double alpha_cathodic = 0.5;
};

// x of material m at t = 0 in a cell whose initial state of charge is initial_soc.
inline double initial_stoichiometry_of(const ActiveMaterial& m, double initial_soc) {
  if (!std::isnan(m.initial_stoichiometry)) return m.initial_stoichiometry;
  return m.stoichiometry_discharged - initial_soc * (m.stoichiometry_discharged - m.stoichiometry_charged);
}

struct Electrolyte {
  std::string name, file, source;
  ScalarOrTable conductivity_S_m;          // table against c (mol/m3)
  ScalarOrTable diffusivity_m2_s;          // against c
  ScalarOrTable transference_number;       // t+ against c
  ScalarOrTable thermodynamic_factor;      // 1 + dln f/dln c against c
  double initial_concentration_mol_m3 = 1000.0;
};

struct LayerMaterial {
  std::string material;               // name of an ActiveMaterial in Scenario::materials
  double solid_volume_fraction = 1.0; // share of the layer's solid volume (rest is inert carbon/binder)
  double particle_radius_m = 0.0;
};

struct Layer {
  double thickness_m = 0.0;
  double porosity = 0.0;
  // Exactly one of the two transport descriptions: tortuosity tau (eps_eff = eps/tau)
  // or a Bruggeman exponent b (eps_eff = eps^b).
  bool use_bruggeman = false;
  double tortuosity = 1.0;
  double bruggeman_exponent = 1.5;
  double conductivity_S_m = 0.0;      // effective electronic conductivity of the layer
  // Contact resistance with the current collector when this layer touches it (< 0:
  // not given, cell.contact_resistance_ohm_m2 applies). It follows the layer when a
  // layer order moves it.
  double contact_resistance_ohm_m2 = -1.0;
  int nodes = 0;                      // 0: from numerics
  std::vector<LayerMaterial> materials;
};

struct Separator {
  double thickness_m = 0.0;
  double porosity = 0.0;
  bool use_bruggeman = true;
  double tortuosity = 1.0;
  double bruggeman_exponent = 1.5;
  int nodes = 0;
};

// A porous counter electrode beyond the separator (cell.counter_electrode = "porous"):
// its pores carry the electrolyte like the separator's, and its reaction current is
// distributed over its thickness (docs/physics.md, "Porous counter electrode"). The
// solid is grounded, of constant potential, with no solid diffusion (the counter holds
// far more than the cathode); only the material's exchange current density is used.
struct PorousCounter {
  std::string material;               // library entry giving i0 (at x = 0.5, c_e,ref)
  double thickness_m = 0.0;
  double porosity = 0.0;
  double solid_volume_fraction = 1.0; // of the solid, the share that is active material
  double particle_radius_m = 0.0;
  bool use_bruggeman = true;
  double tortuosity = 1.0;
  double bruggeman_exponent = 1.5;
  int nodes = 0;                      // 0: numerics.separator_nodes
};

struct Cell {
  double temperature_K = 298.15;
  double area_m2 = 1.0;                       // for reporting absolute currents only
  double contact_resistance_ohm_m2 = 0.0;     // at the current collector
  // Multiplies every electrode layer's tortuosity factor (not the separator's): the
  // absolute scale to fit where only tortuosity ratios are measured.
  double electrode_tortuosity_scale = 1.0;
  // Reference electrode position in the separator: 0 at the working electrode face,
  // 1 at the counter electrode.
  double reference_position_fraction = 1.0;
  // Two-electrode measurement: the potential against the grounded counter metal
  // (cell.measured_against = "counter") instead of the reference electrode.
  bool measured_against_counter = false;
  // State of charge of every active material at t = 0: 0 at stoichiometry_discharged,
  // 1 at stoichiometry_charged (a material's initial_stoichiometry wins).
  double initial_soc = 0.0;
  bool counter_ideal = false;                 // ideal (non-polarisable) counter electrode
  bool counter_porous = false;                // porous counter electrode ([counter_electrode])
  double counter_exchange_current_density_A_m2 = 10.0;  // planar metal counter
};

// Defaults: the coarsest resolution that meets the convergence test (3C charge
// capacity within 0.5% of a run with doubled cells and shells and a 10x tighter
// time tolerance) on the reference bilayer, with margin; see docs/performance.md.
struct Numerics {
  int nodes_per_layer = 8;        // default cells per sub-layer
  // > 0: a sub-layer without its own `nodes` gets ceil(thickness / cell_size_m) cells,
  // at least min_nodes_per_layer (cells in proportion to thickness, with a floor).
  double cell_size_m = 0.0;
  int min_nodes_per_layer = 3;
  int separator_nodes = 5;
  int particle_shells = 8;
  // Ratio of successive shell thicknesses toward the surface (1: equal shells). The
  // default 0.8 puts 5% of the radius in the outer shell (12.5% with equal shells): a
  // slow solid charged fast after a deep discharge needs it (docs/performance.md).
  double particle_shell_ratio = 0.8;
  bool particle_equal_volume = false;  // particle_mesh = "equal_volume": shells of equal volume
  // time_integrator: 1 "backward_euler", 2 "bdf2" (kernels/time_scheme.hpp). BDF2 is
  // the default: on the Brown 2026 scenarios it takes 8-16 % fewer time steps than
  // backward Euler at the same rtol, with 4-10x smaller capacity errors (docs/physics.md 5.1).
  int time_order = 2;
  double relative_tolerance = 1e-3;  // time-step error control (local error / scale)
  double max_step_s = 200.0;
  double voltage_event_tolerance_V = 1e-5;
  int max_steps_per_protocol_step = 20000;
  // Newton contraction test of the time steps (kernels/dfn_newton.hpp): an undamped
  // update larger than this times the previous one stops the attempt, which is
  // retried at half the step. 0 turns it off (the behaviour before 2026-12-06).
  double newton_max_contraction = 0.7;
  // step_controller: "predictive" (Gustafsson's, the default) or "standard" (this
  // step's error alone, the only one before 2026-12-07); kernels/time_scheme.hpp.
  bool predictive_step_control = true;
};

struct ProtocolSpec {
  double nominal_capacity_mAh_g = 70.0;  // defines 1C per gram of active material
  std::vector<std::string> step_texts;   // after expanding repeats, one per step
  std::vector<ProtocolStep> steps;       // parsed, same order
};

// A figure of merit computed per design from its step results (docs/scenario-format.md).
struct ObjectiveSpec {
  std::string name;            // column name in the results, e.g. "retention_3C"
  // "retention": capacity of `step` / capacity of `reference_step`;
  // "capacity_mAh_g", "capacity_mAh_cm2": capacity of `step`;
  // "energy_Wh_kg": |energy| of `step` per kg of active material.
  std::string kind = "retention";
  // "weighted_sum": sum_k term_weights[k] * (objective named term_objectives[k]);
  // the terms are other objectives of the scenario (not weighted sums), no step.
  int step = -1;               // index in the expanded protocol (0-based)
  int reference_step = -1;     // retention only
  bool maximize = true;
  std::vector<std::string> term_objectives;
  std::vector<double> term_weights;
};

// The objective named `name` (names are unique, the loader checks), or nullptr.
inline const ObjectiveSpec* find_objective(const std::vector<ObjectiveSpec>& objectives, const std::string& name) {
  for (const ObjectiveSpec& o : objectives)
    if (o.name == name) return &o;
  return nullptr;
}

// A through-thickness profile snapshot: at the end of a protocol step, after a time
// into it, or once its capacity reaches a value.
struct ProfileRequest {
  enum class At : int { End = 0, Time = 1, Capacity = 2 };
  int step = 0;
  At at = At::End;
  double value = 0.0;          // s for Time, mAh/g for Capacity
};

// What goes into the results file besides the population.
struct OutputSpec {
  // Which designs keep trajectories: "none", "all", "best" (best_k by objective
  // best_by, re-simulated after the sweep) or "list" (design_ids).
  std::string trajectories = "none";
  int best_k = 0;
  std::string best_by;
  std::vector<long> design_ids;
  // Minimum time between samples; 0: every time step. The default keeps a 3C charge
  // at about 100 samples and 1,000 designs' trajectories under 10 MB (docs/performance.md).
  double trajectory_interval_s = 10.0;
  int trajectory_max_points = 2000;    // per design; beyond it, the series is thinned 2:1
  std::vector<ProfileRequest> profiles;
  int batch_size = 1024;               // designs per batch (one HDF5 append + flush each)
};

// Design-space search (`strata optimize`, docs/optimizer.md).
struct DesignVariable {
  // Any numeric override path (docs/scenario-format.md), or a split of
  // DesignSpec::total_thickness_m (docs/scenario-format.md, [[design.variables]]):
  // layers[i].thickness_fraction (layer i gets fraction * total; the other layers share
  // the rest in proportion to their listed thicknesses) or layers[i].thickness_share
  // (stick-breaking: every point of the unit cube is a valid split).
  std::string path;
  double min = 0.0, max = 0.0;
  bool log = false;           // search in log space (min > 0)
};

// An inequality on a per-design metric: min <= value <= max (either may be infinite).
struct ConstraintSpec {
  std::string name;
  // An objective-like metric (kind/step/reference_step as ObjectiveSpec), or
  // kind = "active_mass_mg_cm2" (the mass loading, no step).
  ObjectiveSpec metric;
  double min = -1e300, max = 1e300;
};

// A discrete material choice: the material of slot `slot` of the layer at position
// `layer` (after the layer order) is one of `materials` (library names).
struct MaterialChoice {
  int layer = 0;
  int slot = 0;
  std::vector<std::string> materials;
};

struct DesignSpec {
  bool present = false;                       // a [design] section was given
  std::vector<MaterialChoice> material_choices;  // discrete, crossed with the layer orders
  std::vector<DesignVariable> variables;
  double total_thickness_m = 0.0;             // > 0: fixed total electrode thickness
  double min_layer_thickness_m = 0.0;         // with thickness shares: what every layer keeps
  std::vector<std::vector<int>> layer_orders; // discrete choices; empty: the listed order only
  std::string objective;                      // name of an [[objectives]] entry (default: the first)
  std::vector<ConstraintSpec> constraints;    // handled by a quadratic penalty (stated in the output)
  double penalty_weight = 100.0;              // per unit of relative violation squared
  std::string algorithm = "LN_BOBYQA";        // any NLopt algorithm name
  std::string sampler = "lhs";                // first population: Latin hypercube ("lhs") or "random"
  int initial_population = 32;
  int starts_per_choice = 2;                  // optimisers per discrete choice
  long max_evaluations = 1000;                // all evaluations, the first population included
  long max_evaluations_per_optimizer = 200;
  double max_time_s = 0.0;                    // 0: no limit
  // ftol_rel: about the objective's own noise at the default time tolerance (a
  // retention jumps by up to 7e-5 relative where the 3C charge takes a time step more
  // or less); 1e-6 until 2026-12-07 spent evaluations on noise (docs/optimizer.md 5).
  double xtol_rel = 1e-4, ftol_rel = 1e-4;
  uint64_t seed = 1;
};

// Calibration (`strata fit`, docs/optimizer.md): parameters shared by every variant
// (the measured electrodes), fitted to measured step metrics.
struct FitTarget {
  std::string name;        // unique, for the report
  std::string variant;     // label of the variant (electrode) it was measured on
  ObjectiveSpec metric;    // kind (retention, capacity_mAh_g, capacity_mAh_cm2, energy_Wh_kg), step, reference_step
  double value = 0.0;      // measured value, in the metric's unit
  double sigma = 1.0;      // its standard uncertainty (> 0), same unit
  // kind "potential_curve": the measured potential (V) against the capacity passed
  // in the step (mAh/g, increasing); each point is one residual (V_sim - V)/sigma,
  // sigma in V. value is unused.
  std::vector<double> curve_capacity_mAh_g, curve_potential_V;
};

struct FitSpec {
  bool present = false;
  std::vector<DesignVariable> parameters;  // override paths applied to every variant, with bounds
  std::vector<FitTarget> targets;
  std::string algorithm = "LN_BOBYQA";
  int starts = 2;                          // optimisers from the best points of the first population
  int initial_population = 16;
  long max_evaluations = 400;              // parameter points (each simulates every variant)
  double xtol_rel = 1e-5, ftol_rel = 1e-8;
  uint64_t seed = 1;
};

// One variant of the batch: the base scenario with these parameter overrides
// (path -> value, see docs/scenario-format.md) and optionally a layer order.
struct VariantSpec {
  std::string label;
  std::map<std::string, double> overrides;
  // "layers[i].materials[j].name" -> a material of Scenario::materials (after the order).
  std::map<std::string, std::string> material_overrides;
  std::vector<int> layer_order;  // empty: as listed; else a permutation of layer indices
};

struct Scenario {
  std::string file;          // path of the TOML file
  std::string name;
  std::string description;
  std::string text;          // full TOML text (for provenance)
  std::map<std::string, ActiveMaterial> materials;  // by name
  Electrolyte electrolyte;
  std::vector<Layer> layers; // from the current collector outward
  Separator separator;
  PorousCounter counter;     // used when cell.counter_porous
  Cell cell;
  Numerics numerics;
  ProtocolSpec protocol;
  std::vector<VariantSpec> variants;  // at least one (the base scenario)
  std::vector<ObjectiveSpec> objectives;
  OutputSpec output;
  DesignSpec design;
  FitSpec fit;
};

// Cells of layer k, of the separator and of a porous counter electrode (0 without one):
// the region's own `nodes`, else the [numerics] default (for a layer: in proportion to
// its thickness when numerics.cell_size_m is set).
// Cells of cell_size_m that cover thickness_m, before any floor; the 1e-9: a thickness
// that is a whole number of cells up to round-off is not rounded up.
inline double cells_covering(double thickness_m, double cell_size_m) {
  return std::ceil(thickness_m / cell_size_m - 1e-9);
}
inline int layer_nodes(const Scenario& s, int k) {
  if (s.layers[k].nodes > 0) return s.layers[k].nodes;
  const Numerics& n = s.numerics;
  if (n.cell_size_m > 0.0) {
    const double cells = cells_covering(s.layers[k].thickness_m, n.cell_size_m);
    if (!(cells <= 1e6)) return 1000000;  // NaN too: the total-cells check then refuses it
    return cells < n.min_nodes_per_layer ? n.min_nodes_per_layer : static_cast<int>(cells);
  }
  return n.nodes_per_layer;
}
inline int separator_nodes(const Scenario& s) {
  return s.separator.nodes > 0 ? s.separator.nodes : s.numerics.separator_nodes;
}
inline int counter_nodes(const Scenario& s) {
  if (!s.cell.counter_porous) return 0;
  return s.counter.nodes > 0 ? s.counter.nodes : s.numerics.separator_nodes;
}

}  // namespace strata
