#pragma once
// Internal to the scenario loader, not part of the public API (that is host/scenario_loader.hpp).
// What the files that read one part of a scenario file each share: host/scenario_loader.cpp
// (load_scenario_text, which calls the others), scenario_read_objectives.cpp,
// scenario_read_output.cpp, scenario_read_variables.cpp, scenario_read_search_settings.cpp,
// scenario_read_design.cpp, scenario_read_fit.cpp and scenario_read_batch.cpp (range checks:
// validate_scenario, scenario_validate.cpp). Include it after defining STRATA_TOML_READER
// (it uses detail::TableReader).
#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "host/scenario_loader.hpp"

namespace strata::scenario_reading {

// ---------------------------------------------------------------------------
// scenario_loader.cpp: reading helpers the loader uses itself.

// The unit of an override path, from the name of its last component.
detail::Unit unit_of_path(const std::string& path);

// The integer at r's `key` in lo .. hi (an error names the range); fallback when absent.
int read_int(detail::TableReader& r, const std::string& key, long long lo, long long hi, int fallback);

// Loads library material `name` into s.materials (and into also, when given) unless it is
// there already, and range-checks it; `key` is the key path that names it, for messages.
void load_material(Scenario& s, Scenario* also, const std::string& libdir,
                   const std::string& name, const std::string& key);

// ---------------------------------------------------------------------------
// scenario_read_objectives.cpp: [[objectives]], and the step metrics that [[design.constraints]]
// and [[fit.targets]] share with them.

// A non-empty name of letters, digits and '_'.
bool is_identifier(const std::string& s);

// r.key(key) = k must index an existing step of the expanded protocol; with
// `current`, one that is not a Rest step (`why` says what needs the current).
void check_step(const detail::TableReader& r, const std::string& key, long long k,
                const ProtocolSpec& p, bool current, const std::string& why);

// The steps of an objective-like metric (an [[objectives]] or [[design.constraints]]
// table read by tr; o.kind already set, kind_given when the file states it): `step`
// is required and must pass current; `reference_step` is required for (and only for)
// kind "retention", passes current and differs from `step`. `what` names the table in
// messages ("an objective").
void read_metric_steps(const detail::TableReader& tr, ObjectiveSpec& o, bool kind_given,
                       std::optional<long long> step, std::optional<long long> ref,
                       const ProtocolSpec& pr, const std::string& what);

// The kinds of a step metric (ObjectiveSpec::kind) and their list for messages.
inline constexpr const char* kStepMetricKinds =
    "\"retention\", \"capacity_mAh_g\", \"capacity_mAh_cm2\" or \"energy_Wh_kg\"";
bool is_step_metric_kind(const std::string& k);

// r.key(key) = name must be the name of one of `objectives` (an error lists them).
void check_objective_name(const detail::TableReader& r, const std::string& key, const std::string& name,
                          const std::vector<ObjectiveSpec>& objectives);

// The `name` of an entry of a list of named tables ([[objectives]], [[design.constraints]],
// [[fit.targets]]; `name` as tr read it, nullopt when absent): required, letters, digits
// and '_', and not the name of an earlier entry (before[j] is `list`[j]). `noun` names one
// entry ("objective"), `example` is a name in quotes, `why` may say what the name becomes.
template <class Named>
std::string read_entry_name(const detail::TableReader& tr, const std::optional<std::string>& name,
                            const std::vector<Named>& before, const std::string& list,
                            const std::string& noun, const std::string& example,
                            const std::string& why) {
  if (!name)
    tr.missing("name", fmt::format("a unique name of letters, digits and '_', e.g. {}", example));
  if (!is_identifier(*name))
    tr.fail("name", fmt::format("is not allowed; allowed a non-empty name of letters, digits and "
                                "'_'{}",
                                why));
  for (size_t j = 0; j < before.size(); ++j)
    if (before[j].name == *name)
      tr.fail("name", fmt::format("is also the name of {}[{}]; allowed a name not used by another "
                                  "{}",
                                  list, j, noun));
  return *name;
}

std::vector<ObjectiveSpec> read_objectives(const toml::node* node, const Scenario& s);

// ---------------------------------------------------------------------------
// scenario_read_output.cpp: [output].

OutputSpec read_output(const toml::table* t, const Scenario& s);

// ---------------------------------------------------------------------------
// scenario_read_variables.cpp: [[design.variables]] and [[fit.parameters]].

// The layer index of a path "layers[i]...." (nullopt for other paths or a malformed index).
std::optional<size_t> path_layer_index(const std::string& path);

bool ends_with(const std::string& s, const std::string& suffix);

// "thickness_fraction" or "thickness_share" for a path "layers[i].thickness_fraction" or
// "layers[i].thickness_share" (i a plain index): the design variables that split
// design.total_thickness_m between the layers. Empty for every other path.
std::string thickness_split_kind(const std::string& path);

// For "layers[i].materials[j].active_share" (a design variable: material j's share of the
// layer's active solid), the override path it sets, "layers[i].materials[j].solid_volume_fraction";
// empty for every other path.
std::string active_share_target(const std::string& path);

// Where a variable's path and bounds are checked: the base scenario with a layer order
// and overrides applied first (a [design] layer order, or an explicit variant that a
// [fit] parameter is applied on top of). `name` names it in messages
// ("design.layer_orders[1] = [1, 0]", "variant \"NVP\""); empty for the base as listed.
struct VariableScope {
  std::vector<int> layer_order;              // empty: as listed
  std::map<std::string, double> overrides;
  std::string name;
};

// What a list of variables ([[design.variables]], [[fit.parameters]]) allows.
struct VariableRules {
  std::string noun;                          // one entry in messages: "a design variable"
  std::string item;                          // "variable", "parameter"
  // layers[i].thickness_fraction / thickness_share and layers[i].materials[j].active_share
  // allowed ([design] only: DesignSpace turns them into thicknesses and solid fractions)
  bool design_splits = false;
  std::optional<double> total_thickness;     // design.total_thickness_m, when given
  std::vector<VariableScope> scopes;         // empty: the base as listed only
};

// For a path ending in .tortuosity or .bruggeman_exponent, the other transport
// description of the same layer (or the separator); empty for other paths.
std::string other_transport_path(const std::string& path);

// The required, non-empty array of tables at tr's `key` (e.g. design.variables): `keys`
// lists the keys of one table, `item` names what one table describes.
const toml::array& required_tables(const detail::TableReader& tr, const std::string& key,
                                   const toml::node* n, const std::string& keys,
                                   const std::string& item);

// The variables at tr's `key` ([[design.variables]], [[fit.parameters]]): each read by
// read_variable; each parameter once, and an explicit tortuosity and a Bruggeman exponent
// of the same layer (or the separator) exclude each other.
std::vector<DesignVariable> read_variables(const detail::TableReader& tr, const std::string& key,
                                           const toml::node* n, const Scenario& s,
                                           const Scenario& light, const VariableRules& rules);

// ---------------------------------------------------------------------------
// scenario_read_search_settings.cpp:
// Settings shared by [design] and [fit] (the NLopt search), checked once tr has read them.

// `algorithm`: an NLopt algorithm name as NLopt spells it.
void check_nlopt_algorithm(const detail::TableReader& tr, const std::string& algorithm);

// `max_evaluations` (nullopt: not given, `fallback` applies) >= `initial_population`: the
// budget counts every evaluation, the first population included.
long read_max_evaluations(const detail::TableReader& tr, std::optional<long long> max_eval,
                          long fallback, int initial_population);

// xtol_rel > 0 and ftol_rel >= 0 (NLopt's relative tolerances).
void check_tolerances(const detail::TableReader& tr, double xtol_rel, double ftol_rel);

// `seed` (nullopt: `fallback`) >= 0.
uint64_t read_seed(const detail::TableReader& tr, std::optional<long long> seed,
                   uint64_t fallback);

// ---------------------------------------------------------------------------
// scenario_read_design.cpp: [design] (its material choices' materials loaded into s and light).

DesignSpec read_design(const toml::table* t, Scenario& s, Scenario& light,
                       const std::string& libdir);

// ---------------------------------------------------------------------------
// scenario_read_fit.cpp: [fit] (parameters also checked on each of explicit_variants).

FitSpec read_fit(const toml::table* t, const Scenario& s, const Scenario& light,
                 const std::vector<VariantSpec>& explicit_variants);

// ---------------------------------------------------------------------------
// scenario_read_batch.cpp: [batch] into its explicit variants and sweep axes (their
// materials loaded into base).

void read_batch(const toml::table& batch, Scenario& base, const std::string& libdir,
                std::vector<VariantSpec>& explicit_v, std::vector<SweepAxis>& axes);

}  // namespace strata::scenario_reading
