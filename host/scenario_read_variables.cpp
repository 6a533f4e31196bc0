// Variables of a search: [[design.variables]] and [[fit.parameters]], an override path
// (or a [design]-only thickness split or active share) and its bounds each, checked against
// the base scenario in every scope of the search (layer orders, explicit variants).
#define STRATA_TOML_READER 1
#include "host/scenario_reading.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <set>
#include <string>
#include <utility>

namespace strata::scenario_reading {

using detail::TableReader;
using detail::Unit;
using namespace detail;  // the unit constants (kM, kV, ...)

std::optional<size_t> path_layer_index(const std::string& path) {
  if (path.rfind("layers[", 0) != 0) return std::nullopt;
  size_t k = 7, v = 0;
  if (k >= path.size() || !std::isdigit(static_cast<unsigned char>(path[k]))) return std::nullopt;
  while (k < path.size() && std::isdigit(static_cast<unsigned char>(path[k]))) {
    v = v * 10 + static_cast<size_t>(path[k] - '0');
    if (v > 1000000) return std::nullopt;
    ++k;
  }
  if (k >= path.size() || path[k] != ']') return std::nullopt;
  return v;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string thickness_split_kind(const std::string& path) {
  switch (parse_design_path(path).kind) {
    case DesignPath::Kind::ThicknessFraction: return "thickness_fraction";
    case DesignPath::Kind::ThicknessShare: return "thickness_share";
    default: return "";
  }
}

std::string active_share_target(const std::string& path) {
  const DesignPath d = parse_design_path(path);
  return d.kind == DesignPath::Kind::ActiveShare ? solid_fraction_path(d.layer, d.slot) : "";
}

namespace {

// One variable table (key path `key`, e.g. "design.variables[0]"). `light` is the
// validated base scenario (protocol stubbed) that the bounds are tried on, in each scope
// of rules.scopes.
DesignVariable read_variable(const toml::table& t, const std::string& key, const Scenario& s,
                             const Scenario& light, const VariableRules& rules) {
  const std::string& file = s.file;
  TableReader tr(t, file, key);
  auto path = tr.string("path");
  const toml::node* min_n = tr.node("min");
  const toml::node* max_n = tr.node("max");
  const toml::node* log_n = tr.node("log");
  tr.finish();
  const size_t K = s.layers.size();
  DesignVariable v;
  if (!path)
    tr.missing("path", fmt::format("an override path such as \"layers[0].porosity\" "
                                   "(docs/scenario-format.md, Override paths){}",
                                   rules.design_splits
                                       ? " or \"layers[i].thickness_fraction\" or "
                                         "\"layers[i].thickness_share\""
                                       : ""));
  v.path = *path;
  const std::string split = thickness_split_kind(v.path);
  const bool fraction = !split.empty();
  // An active share is checked as the solid fraction it sets (indices in every scope).
  const std::string share_target = active_share_target(v.path);
  const std::string checked_path = share_target.empty() ? v.path : share_target;
  const Unit unit = fraction || !share_target.empty() ? kNone : unit_of_path(v.path);
  const std::string total_key = "design.total_thickness_m";
  const std::vector<VariableScope> base_only(1);
  const std::vector<VariableScope>& scopes = rules.scopes.empty() ? base_only : rules.scopes;
  // Which listed layer is at the path's layer index in scope k (-1: the path names no
  // layer), whether the scope moves another layer there, and the words naming the scope
  // where it matters (the path: when it moves the layer; the bounds: also with overrides).
  const std::optional<size_t> path_layer = path_layer_index(v.path);
  auto layer_at = [&](size_t k) {
    if (!path_layer || *path_layer >= K) return -1;
    const std::vector<int>& order = scopes[k].layer_order;
    return order.empty() ? static_cast<int>(*path_layer) : order[*path_layer];
  };
  auto moved = [&](size_t k) { return layer_at(k) >= 0 && layer_at(k) != static_cast<int>(*path_layer); };
  auto scope_words = [&](size_t k, bool bounds) {
    const VariableScope& sc = scopes[k];
    if (sc.name.empty() || !(moved(k) || (bounds && !sc.overrides.empty()))) return std::string();
    return " in " + sc.name;
  };

  // The path.
  if (fraction) {
    const size_t li = *path_layer_index(v.path);
    // What the variable is, for messages.
    const std::string what =
        split == "thickness_fraction"
            ? fmt::format("the share of the fixed total electrode thickness given to layers[{}]", li)
            : fmt::format("the share of the free thickness (the fixed total less every layer's "
                          "minimum) that the shares before it leave, given to layers[{}]",
                          li);
    if (!rules.design_splits)
      tr.fail("path", fmt::format("is not {}: layers[i].{} is a [design] "
                                  "variable only ({}); allowed an override path "
                                  "(docs/scenario-format.md, Override paths), e.g. "
                                  "\"layers[{}].thickness_m\"",
                                  rules.noun, split, what, li));
    if (li >= K)
      tr.fail("path", fmt::format("is not {}: layer index {} is out of range; the scenario has "
                                  "{} layer(s), allowed layers[0] to layers[{}]",
                                  rules.noun, li, K, K - 1));
    if (!rules.total_thickness)
      throw ScenarioError(fmt::format(
          "{}: missing required key {}: {} = \"{}\" is {}; allowed 0 < total_thickness_m <= "
          "5e-3 (m)",
          file, total_key, tr.key_path("path"), v.path, what));
  } else {
    if (!share_target.empty() && !rules.design_splits)
      tr.fail("path", fmt::format("is not {}: active_share is a [design] variable only (the "
                                  "blend at a fixed active content); allowed an override path "
                                  "(docs/scenario-format.md, Override paths), e.g. \"{}\"",
                                  rules.noun, share_target));
    // stoichiometry_charged scales the reported state of charge, and enters the
    // simulation only through a start given as cell.initial_soc > 0: the start is
    // searched directly (initial_stoichiometry, initial_soc).
    if (ends_with(v.path, ".stoichiometry_charged"))
      tr.fail("path", fmt::format("is not {}: stoichiometry_charged scales the reported state of charge "
                                  "(material_soc; docs/physics.md, Simplifications and known limits) and "
                                  "enters the simulation only through a start given as cell.initial_soc; "
                                  "allowed another override path, e.g. "
                                  "\"materials.NAME.stoichiometry_discharged\", or for the start "
                                  "\"materials.NAME.initial_stoichiometry\" or \"cell.initial_soc\"",
                                  rules.noun));
    if (rules.total_thickness && path_layer_index(v.path) && ends_with(v.path, ".thickness_m"))
      tr.fail("path", fmt::format("is not allowed with {0} = {1}: the total electrode thickness is "
                                  "fixed; allowed layers[{2}].thickness_fraction or "
                                  "layers[{2}].thickness_share instead",
                                  total_key, format_number(*rules.total_thickness),
                                  *path_layer_index(v.path)));
    // Layer indices count after the layer order: check the path in every scope (only the
    // layer that lands at the index matters, so each distinct one once).
    std::set<int> tried;
    for (size_t k = 0; k < scopes.size(); ++k) {
      const int who = layer_at(k);
      if (!tried.insert(who).second) continue;
      Scenario shape;
      shape.file = file;
      shape.layers = s.layers;
      shape.materials = s.materials;
      if (!scopes[k].layer_order.empty()) apply_layer_order(shape, scopes[k].layer_order);
      std::string why = check_override_path(shape, checked_path);
      // Name the path as written (an active share is checked as the fraction it sets).
      for (size_t at = why.find(checked_path); checked_path != v.path && at != std::string::npos;
           at = why.find(checked_path, at + v.path.size()))
        why.replace(at, checked_path.size(), v.path);
      if (!why.empty())
        throw ScenarioError(fmt::format(
            "{}: {} = \"{}\" is not {}{}: {}{}", file, tr.key_path("path"), v.path, rules.noun,
            scope_words(k, false), why,
            !rules.design_splits ||
                    why.find("is not an allowed override path") == std::string::npos
                ? ""
                : "\nor layers[i].thickness_fraction or layers[i].thickness_share (with "
                  "design.total_thickness_m), or layers[i].materials[j].active_share"));
    }
  }

  // The bounds.
  if (!min_n) tr.missing("min", "the lower bound, a number");
  if (!max_n) tr.missing("max", "the upper bound, a number");
  v.min = detail::node_number(*min_n, file, tr.key_path("min"), unit);
  v.max = detail::node_number(*max_n, file, tr.key_path("max"), unit);
  if (log_n) {
    if (!log_n->is_boolean()) tr.fail("log", "is not true or false");
    v.log = log_n->as_boolean()->get();
  }
  if (!(v.min < v.max))
    throw ScenarioError(fmt::format(
        "{}: {} = {} and {} = {} give empty bounds; allowed min < max", file, tr.key_path("min"),
        format_number(v.min), tr.key_path("max"), format_number(v.max)));
  if (v.log && !(v.min > 0.0))
    tr.fail("min", fmt::format("is not allowed with {} = true: a {} searched in log space "
                               "needs min > 0",
                               tr.key_path("log"), rules.item));
  if (split == "thickness_fraction") {
    const std::string w = fmt::format(
        "is out of range; allowed 0 < min < max < 1 for a thickness_fraction (the share of {} "
        "given to layers[{}])",
        total_key, *path_layer_index(v.path));
    if (!(v.min > 0.0)) tr.fail("min", w);
    if (!(v.max < 1.0)) tr.fail("max", w);
    return v;
  }
  if (split == "thickness_share" || !share_target.empty()) {
    // A share, 0 to 1 (a thickness share's 0 and 1 are checked against
    // design.min_layer_thickness_m by read_design).
    const bool thickness = split == "thickness_share";
    const std::string noun = thickness ? "a thickness_share" : "an active_share";
    const std::string w = fmt::format(
        "is out of range; allowed 0 <= min < max <= 1 for {} ({})", noun,
        thickness ? fmt::format("the share of the free thickness that the shares before it leave, "
                                "given to layers[{}]",
                                *path_layer_index(v.path))
                  : std::string("the material's share of the layer's active solid"));
    if (!(v.min >= 0.0)) tr.fail("min", w);
    if (!(v.max <= 1.0)) tr.fail("max", w);
    if (v.log) tr.fail("log", fmt::format("is not allowed for {} (a share may be 0)", noun));
    return v;
  }
  // Each bound must be a valid value of the parameter: apply it on top of each scope (the
  // base in a layer order, or an explicit variant; each distinct result once) and run the
  // range checks.
  std::set<std::pair<int, std::map<std::string, double>>> tried;
  for (size_t k = 0; k < scopes.size(); ++k) {
    const VariableScope& sc = scopes[k];
    if (!tried.emplace(layer_at(k), sc.overrides).second) continue;
    Scenario c = light;
    if (!sc.layer_order.empty()) apply_layer_order(c, sc.layer_order);
    for (const auto& [p, x] : sc.overrides) apply_override(c, p, x);
    for (const char* b : {"min", "max"}) {
      const double value = std::string(b) == "min" ? v.min : v.max;
      Scenario one = c;
      apply_override(one, v.path, value);
      validate_scenario(one, fmt::format("{}: {} = {} is not an allowed value of {}{}", file,
                                         tr.key_path(b), format_number(value), v.path,
                                         scope_words(k, true)));
    }
  }
  return v;
}

}  // namespace

std::string other_transport_path(const std::string& path) {
  for (const auto& [a, b] : {std::pair<const char*, const char*>{".tortuosity", ".bruggeman_exponent"},
                             {".bruggeman_exponent", ".tortuosity"}})
    if (ends_with(path, a)) return path.substr(0, path.size() - std::strlen(a)) + b;
  return "";
}

const toml::array& required_tables(const TableReader& tr, const std::string& key,
                                   const toml::node* n, const std::string& keys,
                                   const std::string& item) {
  const std::string list = tr.key_path(key);
  if (!n) tr.missing(key, fmt::format("one or more [[{}]] tables ({})", list, keys));
  const toml::array* a = n->as_array();
  if (!a || !a->is_array_of_tables() || a->empty())
    throw ScenarioError(fmt::format(
        "{}: {} = {} is not a non-empty array of tables; write one [[{}]] table ({}) per {}",
        tr.file(), list, detail::show_node(*n), list, keys, item));
  return *a;
}

std::vector<DesignVariable> read_variables(const TableReader& tr, const std::string& key,
                                           const toml::node* n, const Scenario& s,
                                           const Scenario& light, const VariableRules& rules) {
  const std::string& file = s.file;
  const std::string list = tr.key_path(key);
  const toml::array& a = required_tables(tr, key, n, "path, min, max, log", rules.item);
  std::vector<DesignVariable> out;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string vk = fmt::format("{}[{}]", list, i);
    DesignVariable v = read_variable(*a.get(i)->as_table(), vk, s, light, rules);
    const std::string pk = vk + ".path";
    for (size_t j = 0; j < out.size(); ++j) {
      const std::string& p = out[j].path;
      if (p == v.path)
        throw ScenarioError(fmt::format("{}: {} = \"{}\" is also the path of {}[{}]; allowed "
                                        "each parameter once",
                                        file, pk, v.path, list, j));
      if (p == other_transport_path(v.path))
        throw ScenarioError(fmt::format(
            "{}: {} = \"{}\" conflicts with {}[{}].path = \"{}\": a layer (or the separator) "
            "has either a tortuosity or a Bruggeman exponent; allowed one of the two",
            file, pk, v.path, list, j, p));
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace strata::scenario_reading
