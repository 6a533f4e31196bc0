// Design space ([design], `strata optimize`). Read last: design.objective names an
// [[objectives]] table, constraints refer to steps of the expanded protocol, and the
// variables' paths and bounds are checked against the base scenario (in every layer
// order of the search).
#define STRATA_TOML_READER 1
#include "host/scenario_reading.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace strata::scenario_reading {

using detail::TableReader;
using namespace detail;  // the unit constants (kM, kV, ...)

namespace {

constexpr size_t kMaxAllOrderLayers = 8;   // layer_orders = "all": at most 8! = 40320 orders
constexpr size_t kMaxLayerOrders = 40320;  // listed orders

std::string show_order(const std::vector<int>& order) {
  std::string out = "[";
  for (size_t k = 0; k < order.size(); ++k) out += fmt::format("{}{}", k ? ", " : "", order[k]);
  return out + "]";
}

// design.layer_orders: "all" or an array of permutations of 0..K-1, each once.
std::vector<std::vector<int>> read_layer_orders(const TableReader& tr, const toml::node& n,
                                                size_t K) {
  const std::string& file = tr.file();
  const std::string key = tr.key_path("layer_orders");
  std::vector<std::vector<int>> out;
  const std::string perm_words = fmt::format(
      "allowed a permutation of the layer indices 0 .. {} (each once; the scenario has {} "
      "layer{}): new layer i = listed layer order[i]",
      K - 1, K, K == 1 ? "" : "s");
  if (auto str = n.as_string()) {
    if (str->get() != "all")
      tr.fail("layer_orders", "is not allowed; allowed \"all\" (every permutation of the layers) "
                              "or an array of layer orders such as [[0, 1], [1, 0]]");
    if (K > kMaxAllOrderLayers)
      tr.fail("layer_orders",
              fmt::format("is not allowed with {} layers; \"all\" is limited to at most {} "
                          "layers ({}! = 40320 orders); list the orders instead",
                          K, kMaxAllOrderLayers, kMaxAllOrderLayers));
    std::vector<int> order(K);
    for (size_t k = 0; k < K; ++k) order[k] = static_cast<int>(k);
    do out.push_back(order);
    while (std::next_permutation(order.begin(), order.end()));
    return out;
  }
  const toml::array* a = n.as_array();
  if (!a)
    tr.fail("layer_orders", "is not allowed; allowed \"all\" or an array of layer orders such "
                            "as [[0, 1], [1, 0]]");
  if (a->empty())
    tr.fail("layer_orders", "is empty; allowed \"all\" or a non-empty array of layer orders such "
                            "as [[0, 1], [1, 0]] (leave the key out to keep the listed order)");
  if (a->size() > kMaxLayerOrders)
    throw ScenarioError(fmt::format("{}: {} has {} entries; allowed at most {} layer orders", file,
                                    key, a->size(), kMaxLayerOrders));
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node& e = *a->get(i);
    const std::string k = fmt::format("{}[{}]", key, i);
    const toml::array* pa = e.as_array();
    std::vector<int> order;
    bool ok = pa && pa->size() == K;
    std::vector<bool> seen(K, false);
    for (size_t j = 0; ok && j < pa->size(); ++j) {
      auto v = pa->get(j)->as_integer();
      ok = v && v->get() >= 0 && v->get() < static_cast<long long>(K) &&
           !seen[static_cast<size_t>(v->get())];
      if (ok) {
        seen[static_cast<size_t>(v->get())] = true;
        order.push_back(static_cast<int>(v->get()));
      }
    }
    if (!ok)
      throw ScenarioError(fmt::format("{}: {} = {} is not a permutation of the layer indices; {}",
                                      file, k, detail::show_node(e), perm_words));
    for (size_t j = 0; j < out.size(); ++j)
      if (out[j] == order)
        throw ScenarioError(fmt::format("{}: {} = {} is the same as {}[{}]; allowed each layer "
                                        "order once",
                                        file, k, detail::show_node(e), key, j));
    out.push_back(std::move(order));
  }
  return out;
}

// One [[design.constraints]] table.
ConstraintSpec read_design_constraint(const toml::table& t, size_t i, const Scenario& s,
                                      const std::vector<ConstraintSpec>& before) {
  const std::string& file = s.file;
  TableReader tr(t, file, fmt::format("design.constraints[{}]", i));
  auto name = tr.string("name");
  auto kind = tr.string("kind");
  auto step = tr.integer("step");
  auto ref = tr.integer("reference_step");
  auto mn = tr.number("min", kNone);
  auto mx = tr.number("max", kNone);
  tr.finish();
  ConstraintSpec c;
  c.name = read_entry_name(tr, name, before, "design.constraints", "constraint",
                           "\"areal_capacity\"", "");
  c.metric.name = c.name;
  const char* kinds =
      "allowed \"retention\", \"capacity_mAh_g\", \"capacity_mAh_cm2\", \"energy_Wh_kg\" or "
      "\"active_mass_mg_cm2\"";
  if (!kind) tr.missing("kind", kinds);
  if (!is_step_metric_kind(*kind) && *kind != "active_mass_mg_cm2")
    tr.fail("kind", fmt::format("is not a constraint kind; {}", kinds));
  c.metric.kind = *kind;
  if (c.metric.kind == "active_mass_mg_cm2") {
    const std::string why = fmt::format(
        "is not allowed for {} = \"active_mass_mg_cm2\": the mass loading belongs to the design, "
        "not to a protocol step",
        tr.key_path("kind"));
    if (step) tr.fail("step", why);
    if (ref) tr.fail("reference_step", why);
  } else {
    read_metric_steps(tr, c.metric, true, step, ref, s.protocol, "a constraint");
  }
  if (!mn && !mx)
    throw ScenarioError(fmt::format(
        "{}: missing required key {} or {}: a constraint needs at least one bound (min <= value "
        "<= max)",
        file, tr.key_path("min"), tr.key_path("max")));
  if (mn && mx && !(*mn < *mx))
    throw ScenarioError(fmt::format(
        "{}: {} = {} and {} = {} leave no feasible value (the constraint can never be met); "
        "allowed min < max",
        file, tr.key_path("min"), format_number(*mn), tr.key_path("max"), format_number(*mx)));
  if (mn) c.min = *mn;
  if (mx) c.max = *mx;
  return c;
}

// [[design.materials]]: discrete material choices of a layer slot (position after the layer
// order), each material loaded from the library into s (and light).
std::vector<MaterialChoice> read_material_choices(const TableReader& tr, const toml::node* n,
                                                  Scenario& s, Scenario& light,
                                                  const std::vector<std::vector<int>>& orders,
                                                  const std::string& libdir) {
  const std::string& file = s.file;
  const toml::array& a =
      required_tables(tr, "materials", n, "layer, slot, materials", "material choice");
  const size_t K = s.layers.size();
  std::vector<MaterialChoice> out;
  for (size_t i = 0; i < a.size(); ++i) {
    TableReader mr(*a.get(i)->as_table(), file, fmt::format("design.materials[{}]", i));
    auto layer = mr.integer("layer");
    auto slot = mr.integer("slot");
    const toml::array* names = mr.array("materials");
    mr.finish();
    MaterialChoice c;
    if (!layer)
      mr.missing("layer", fmt::format("the position of the layer after the layer order, 0 .. {}",
                                      K - 1));
    if (*layer < 0 || *layer >= static_cast<long long>(K))
      mr.fail("layer", fmt::format("is out of range; allowed 0 <= layer <= {}: a layer position "
                                   "counted from the current collector after the layer order "
                                   "(the scenario has {} layer{})",
                                   K - 1, K, K == 1 ? "" : "s"));
    c.layer = static_cast<int>(*layer);
    // The layers that land at that position: the listed one, or one per layer order.
    std::vector<std::pair<size_t, std::string>> at;  // listed layer, the order naming it
    if (orders.empty()) at.emplace_back(static_cast<size_t>(c.layer), "");
    for (size_t k = 0; k < orders.size(); ++k)
      at.emplace_back(static_cast<size_t>(orders[k][static_cast<size_t>(c.layer)]),
                      fmt::format(" in design.layer_orders[{}] = {}", k, show_order(orders[k])));
    if (slot) {
      for (const auto& [li, words] : at) {
        const long long M = static_cast<long long>(s.layers[li].materials.size());
        if (*slot < 0 || *slot >= M)
          mr.fail("slot", fmt::format("is out of range; allowed 0 <= slot <= {}: the layer at "
                                      "position {}{} is the listed layers[{}], which has {} "
                                      "material{} ([[layers.materials]])",
                                      M - 1, c.layer, words, li, M, M == 1 ? "" : "s"));
      }
      c.slot = static_cast<int>(*slot);
    }
    for (size_t j = 0; j < out.size(); ++j)
      if (out[j].layer == c.layer && out[j].slot == c.slot)
        throw ScenarioError(fmt::format(
            "{}: {} (layer = {}, slot = {}) is the same slot as design.materials[{}]; allowed one "
            "[[design.materials]] entry per (layer, slot)",
            file, fmt::format("design.materials[{}]", i), c.layer, c.slot, j));
    if (!names)
      mr.missing("materials", "an array of at least 2 library material names, e.g. "
                              "[\"NMO\", \"NVP\"]");
    if (names->size() < 2)
      mr.fail("materials", "is not allowed; allowed an array of at least 2 distinct library "
                           "material names (one material is no choice)");
    for (size_t k = 0; k < names->size(); ++k) {
      const std::string key = fmt::format("{}[{}]", mr.key_path("materials"), k);
      auto name = names->get(k)->as_string();
      if (!name)
        throw ScenarioError(fmt::format("{}: {} = {} is not a string; allowed a library material "
                                        "name such as \"NVP\"",
                                        file, key, detail::show_node(*names->get(k))));
      const std::string nm = name->get();
      if (std::find(c.materials.begin(), c.materials.end(), nm) != c.materials.end())
        throw ScenarioError(fmt::format("{}: {} = \"{}\" is listed twice; allowed each material "
                                        "once",
                                        file, key, nm));
      load_material(s, &light, libdir, nm, key);
      c.materials.push_back(nm);
    }
    out.push_back(std::move(c));
  }
  return out;
}

// The thickness split of [design] (tr: its table): at most one kind of split variable
// (layers[i].thickness_fraction or layers[i].thickness_share), not on every layer,
// total_thickness_m with it and only with it, min_layer_thickness_m only with shares.
// Sets d.total_thickness_m and d.min_layer_thickness_m.
void read_thickness_split(const TableReader& tr, DesignSpec& d, const Scenario& s,
                          const std::optional<double>& total,
                          const std::optional<double>& min_layer) {
  const std::string& file = tr.file();
  const size_t K = s.layers.size();
  std::vector<std::string> kind_at(K);  // the split variable's kind at each layer position
  std::map<std::string, size_t> first_of_kind;
  double fraction_min_sum = 0.0;
  for (size_t k = 0; k < d.variables.size(); ++k) {
    const std::string kind = thickness_split_kind(d.variables[k].path);
    if (kind.empty()) continue;
    kind_at[*path_layer_index(d.variables[k].path)] = kind;
    first_of_kind.emplace(kind, k);
    if (kind == "thickness_fraction") fraction_min_sum += d.variables[k].min;
  }
  const size_t n_split = K - static_cast<size_t>(std::count(kind_at.begin(), kind_at.end(), ""));
  if (first_of_kind.size() > 1) {
    const size_t a = std::min(first_of_kind["thickness_fraction"], first_of_kind["thickness_share"]),
                 b = std::max(first_of_kind["thickness_fraction"], first_of_kind["thickness_share"]);
    throw ScenarioError(fmt::format(
        "{}: design.variables[{}].path = \"{}\" and design.variables[{}].path = \"{}\" split the "
        "thickness in two ways; allowed thickness_fraction variables or thickness_share variables, "
        "not both",
        file, a, d.variables[a].path, b, d.variables[b].path));
  }
  const std::string kind = first_of_kind.empty() ? "" : first_of_kind.begin()->first;
  if (n_split > 0 && n_split == K)
    throw ScenarioError(fmt::format(
        "{}: design.variables: every layer ({} of {}) has a {} variable; allowed at most {}: the "
        "layers without one share the rest of design.total_thickness_m",
        file, n_split, K, kind, K - 1));
  if (kind == "thickness_fraction" && !(fraction_min_sum < 1.0))
    throw ScenarioError(fmt::format(
        "{}: design.variables: the thickness_fraction lower bounds (min) sum to {}; allowed a sum "
        "< 1 (no design could give every layer its minimum share)",
        file, format_number(fraction_min_sum)));
  if (total && n_split == 0)
    tr.fail("total_thickness_m",
            "is not allowed without a layers[i].thickness_fraction or layers[i].thickness_share "
            "variable (it fixes the total electrode thickness that they split)");
  if (min_layer) {
    if (kind != "thickness_share")
      tr.fail("min_layer_thickness_m",
              "is not allowed without a layers[i].thickness_share variable (it is the thickness "
              "every layer keeps before the shares split the rest)");
    const double limit = d.total_thickness_m / static_cast<double>(K);
    if (!(*min_layer >= 0.0 && *min_layer < limit))
      tr.fail("min_layer_thickness_m",
              fmt::format("is out of range; allowed 0 <= min_layer_thickness_m < "
                          "total_thickness_m / {} layers = {} (m)",
                          K, format_number(limit)));
    d.min_layer_thickness_m = *min_layer;
  }
  // A share of 0 (or of 1: nothing left for the layers without a share) leaves a layer
  // only the floor, which must then hold at least one particle of every listed layer: a
  // thinner "layer" is not a porous electrode (a floor of 1e-15 m ran, as a one-layer
  // electrode with two empty ones, or failed to converge).
  double diameter_m = 0.0;
  std::string widest;
  for (size_t l = 0; l < K; ++l)
    for (const LayerMaterial& m : s.layers[l].materials)
      if (2.0 * m.particle_radius_m > diameter_m) {
        diameter_m = 2.0 * m.particle_radius_m;
        widest = fmt::format("listed layer {}, {}", l, m.material);
      }
  for (size_t k = 0; k < d.variables.size(); ++k) {
    const DesignVariable& v = d.variables[k];
    if (thickness_split_kind(v.path) != "thickness_share" || (v.min > 0.0 && v.max < 1.0)) continue;
    const bool at_min = !(v.min > 0.0);
    const std::string bound = fmt::format("design.variables[{}].{} = {}", k, at_min ? "min" : "max",
                                          format_number(at_min ? v.min : v.max));
    const std::string who = at_min ? "the layer with the share" : "the layers without a share";
    if (d.min_layer_thickness_m <= 0.0)
      throw ScenarioError(fmt::format(
          "{}: {} can leave {} no thickness; allowed 0 < min < max < 1, or bounds 0 and 1 with "
          "design.min_layer_thickness_m >= {} (m), one particle of the widest listed material "
          "({}), the thickness every layer keeps",
          file, bound, who, format_number(diameter_m), widest));
    if (d.min_layer_thickness_m < diameter_m)
      tr.fail("min_layer_thickness_m",
              fmt::format("is thinner than one particle of the widest listed material ({}, "
                          "diameter {} m), and {} can leave {} only that; allowed "
                          "min_layer_thickness_m >= {} (m), or share bounds 0 < min < max < 1",
                          widest, format_number(diameter_m), bound, who, format_number(diameter_m)));
  }
}

// The active shares of [design]: per layer position, not together with a
// solid_volume_fraction variable of the same position, and in every layer order at
// least one material of the layer at that position without a share (it takes the rest).
void check_active_shares(const std::string& file, const DesignSpec& d, const Scenario& s) {
  const size_t K = s.layers.size();
  std::vector<std::vector<size_t>> shares_at(K);  // variable indices, per position
  for (size_t k = 0; k < d.variables.size(); ++k)
    if (!active_share_target(d.variables[k].path).empty())
      shares_at[*path_layer_index(d.variables[k].path)].push_back(k);
  for (size_t k = 0; k < d.variables.size(); ++k) {
    const std::string& p = d.variables[k].path;
    if (!ends_with(p, ".solid_volume_fraction") || !path_layer_index(p) || shares_at[*path_layer_index(p)].empty())
      continue;
    const size_t k_share = shares_at[*path_layer_index(p)].front();
    throw ScenarioError(fmt::format(
        "{}: design.variables[{}].path = \"{}\" and design.variables[{}].path = \"{}\" both set the "
        "blend of layers[{}]; allowed active_share variables (the blend at the listed active "
        "content) or solid_volume_fraction variables, not both",
        file, k, p, k_share, d.variables[k_share].path, *path_layer_index(p)));
  }
  std::vector<std::vector<int>> orders = d.layer_orders;
  if (orders.empty()) {
    orders.emplace_back(K);
    std::iota(orders.back().begin(), orders.back().end(), 0);
  }
  for (size_t i = 0; i < K; ++i) {
    if (shares_at[i].empty()) continue;
    for (size_t o = 0; o < orders.size(); ++o) {
      const size_t n = s.layers[static_cast<size_t>(orders[o][i])].materials.size();
      if (shares_at[i].size() < n) continue;
      throw ScenarioError(fmt::format(
          "{}: design.variables: layers[{}] has {} active_share variable(s) and{} {} material(s); "
          "allowed at most {}: the materials without one take the rest of the layer's active solid",
          file, i, shares_at[i].size(),
          d.layer_orders.empty() ? "" : fmt::format(" in design.layer_orders[{}] = {}", o, show_order(orders[o])),
          n, n - 1));
    }
  }
}

}  // namespace

DesignSpec read_design(const toml::table* t, Scenario& s, Scenario& light,
                       const std::string& libdir) {
  DesignSpec d;
  if (!t) return d;
  d.present = true;
  const std::string& file = s.file;
  TableReader tr(*t, file, "design");
  auto objective = tr.string("objective");
  auto algorithm = tr.string("algorithm");
  auto sampler = tr.one_of("sampler", {{"lhs", "Latin hypercube"}, {"random"}});
  d.initial_population = read_int(tr, "initial_population", 1, 1000000, d.initial_population);
  d.starts_per_choice = read_int(tr, "starts_per_choice", 1, 1000, d.starts_per_choice);
  auto max_eval = tr.integer("max_evaluations");
  auto max_eval_opt = tr.integer("max_evaluations_per_optimizer");
  d.max_time_s = tr.number("max_time_s", kS, d.max_time_s);
  d.xtol_rel = tr.number("xtol_rel", kNone, d.xtol_rel);
  d.ftol_rel = tr.number("ftol_rel", kNone, d.ftol_rel);
  auto seed = tr.integer("seed");
  auto total = tr.number("total_thickness_m", kM);
  auto min_layer = tr.number("min_layer_thickness_m", kM);
  d.penalty_weight = tr.number("penalty_weight", kNone, d.penalty_weight);
  const toml::node* orders_n = tr.node("layer_orders");
  const toml::node* vars_n = tr.node("variables");
  const toml::node* cons_n = tr.node("constraints");
  const toml::node* mats_n = tr.node("materials");
  tr.finish();

  // The objective.
  if (s.objectives.empty())
    throw ScenarioError(fmt::format(
        "{}: {}[design] needs an objective to optimise, and the file has no [[objectives]]; add "
        "an [[objectives]] table (design.objective defaults to the first one)",
        file, objective ? fmt::format("design.objective = \"{}\": ", *objective) : ""));
  if (objective) {
    check_objective_name(tr, "objective", *objective, s.objectives);
    d.objective = *objective;
  } else {
    d.objective = s.objectives.front().name;
  }

  // Search settings.
  if (algorithm) {
    check_nlopt_algorithm(tr, *algorithm);
    d.algorithm = *algorithm;
  }
  if (sampler) d.sampler = *sampler;
  d.max_evaluations = read_max_evaluations(tr, max_eval, d.max_evaluations, d.initial_population);
  if (max_eval_opt) {
    if (*max_eval_opt < 1)
      tr.fail("max_evaluations_per_optimizer",
              "is out of range; allowed max_evaluations_per_optimizer >= 1");
    d.max_evaluations_per_optimizer = static_cast<long>(*max_eval_opt);
  }
  if (!(d.max_time_s >= 0.0))
    tr.fail("max_time_s", "is out of range; allowed max_time_s >= 0 (s; 0: no time limit)");
  check_tolerances(tr, d.xtol_rel, d.ftol_rel);
  d.seed = read_seed(tr, seed, d.seed);
  if (!(d.penalty_weight > 0.0))
    tr.fail("penalty_weight", "is out of range; allowed penalty_weight > 0");
  if (total) {
    if (!(*total > 0.0 && *total <= 5e-3))
      tr.fail("total_thickness_m", "is out of range; allowed 0 < total_thickness_m <= 5e-3 (5 mm)");
    d.total_thickness_m = *total;
  }

  // Layer orders.
  const size_t K = s.layers.size();
  if (orders_n) d.layer_orders = read_layer_orders(tr, *orders_n, K);

  // Material choices (before the variables: their materials may be named by variables).
  if (mats_n)
    d.material_choices = read_material_choices(tr, mats_n, s, light, d.layer_orders, libdir);

  // Variables, checked in every layer order of the search.
  VariableRules rules;
  rules.noun = "a design variable";
  rules.item = "variable";
  rules.design_splits = true;
  rules.total_thickness = total;
  for (size_t k = 0; k < d.layer_orders.size(); ++k)
    rules.scopes.push_back({d.layer_orders[k], {},
                            fmt::format("design.layer_orders[{}] = {}", k,
                                        show_order(d.layer_orders[k]))});
  d.variables = read_variables(tr, "variables", vars_n, s, light, rules);
  read_thickness_split(tr, d, s, total, min_layer);
  check_active_shares(file, d, s);

  // Constraints.
  if (cons_n) {
    const toml::array* ca = cons_n->as_array();
    if (!ca || (!ca->empty() && !ca->is_array_of_tables()))
      throw ScenarioError(fmt::format(
          "{}: design.constraints = {} is not an array of tables; write one "
          "[[design.constraints]] table (name, kind, step, reference_step, min, max) per "
          "constraint",
          file, detail::show_node(*cons_n)));
    for (size_t i = 0; i < ca->size(); ++i)
      d.constraints.push_back(read_design_constraint(*ca->get(i)->as_table(), i, s, d.constraints));
  }
  return d;
}

}  // namespace strata::scenario_reading
