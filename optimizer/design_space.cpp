#include "optimizer/design_space.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "host/results_store.hpp"
#include "host/variant_expansion.hpp"

namespace strata {

namespace {
// Stick-breaking: the positions with a share (NaN: none), in order, each take their
// share of what the ones before them left; the positions without one split the
// remainder in proportion to `weight` (equally where all their weights are 0). Any
// shares in [0, 1] give fractions >= 0 that sum to 1 (the loader makes sure that at
// least one position has no share).
std::vector<double> stick_breaking_fractions(const std::vector<double>& share,
                                             const std::vector<double>& weight) {
  std::vector<double> f(share.size(), 0.0);
  double left = 1.0, rest_weight = 0.0;
  for (size_t j = 0; j < share.size(); ++j) {
    if (std::isnan(share[j])) {
      rest_weight += weight[j];
      continue;
    }
    f[j] = share[j] * left;
    left *= 1.0 - share[j];
  }
  const double unshared = static_cast<double>(std::count_if(share.begin(), share.end(),
                                                            [](double s) { return std::isnan(s); }));
  for (size_t j = 0; j < share.size(); ++j)
    if (std::isnan(share[j])) f[j] = rest_weight > 0.0 ? left * weight[j] / rest_weight : left / unshared;
  return f;
}
}  // namespace

DesignSpace::DesignSpace(const Scenario& base) : spec_(base.design) {
  orders_ = spec_.layer_orders;
  if (orders_.empty()) {
    std::vector<int> identity(base.layers.size());
    std::iota(identity.begin(), identity.end(), 0);
    orders_.push_back(identity);
  }
  for (const Layer& l : base.layers) {
    base_thickness_m_.push_back(l.thickness_m);
    base_solid_fraction_.emplace_back();
    for (const LayerMaterial& m : l.materials) base_solid_fraction_.back().push_back(m.solid_volume_fraction);
  }
  for (const MaterialChoice& m : spec_.material_choices) combos_ *= static_cast<int>(m.materials.size());
  std::set<std::string> derived;
  for (const DesignVariable& v : spec_.variables) {
    const DesignPath d = parse_design_path(v.path);
    if (d.kind != DesignPath::Kind::ActiveShare) continue;
    for (const std::vector<int>& o : orders_)
      for (size_t m = 0; m < base_solid_fraction_[o[d.layer]].size(); ++m)
        derived.insert(solid_fraction_path(d.layer, static_cast<int>(m)));
  }
  derived_.assign(derived.begin(), derived.end());
}

std::vector<std::string> DesignSpace::stored_names() const {
  std::vector<std::string> names = variable_names();
  names.insert(names.end(), derived_.begin(), derived_.end());
  return names;
}

std::vector<double> DesignSpace::derived_values(const VariantSpec& vs) const {
  std::vector<double> out;
  for (const std::string& p : derived_) {
    const auto it = vs.overrides.find(p);
    out.push_back(it == vs.overrides.end() ? std::numeric_limits<double>::quiet_NaN() : it->second);
  }
  return out;
}

std::vector<std::string> DesignSpace::materials(int choice) const {
  std::vector<std::string> out(spec_.material_choices.size());
  int c = choice % combos_;
  for (int k = static_cast<int>(out.size()) - 1; k >= 0; --k) {
    const auto& opts = spec_.material_choices[k].materials;
    out[k] = opts[c % opts.size()];
    c /= static_cast<int>(opts.size());
  }
  return out;
}

std::string DesignSpace::describe_choice(int choice) const {
  std::string s = "order";
  const std::vector<int>& o = order(choice);
  for (size_t k = 0; k < o.size(); ++k) s += (k ? "," : " ") + std::to_string(o[k]);
  const std::vector<std::string> m = materials(choice);
  for (size_t k = 0; k < m.size(); ++k)
    s += fmt::format(" layers[{}].materials[{}]={}", spec_.material_choices[k].layer, spec_.material_choices[k].slot, m[k]);
  return s;
}

std::vector<std::string> DesignSpace::variable_names() const {
  std::vector<std::string> names;
  for (const auto& v : spec_.variables) names.push_back(v.path);
  return names;
}

std::vector<double> DesignSpace::to_physical(const std::vector<double>& u) const {
  std::vector<double> x(u.size());
  for (size_t k = 0; k < u.size(); ++k) {
    const DesignVariable& v = spec_.variables[k];
    x[k] = v.log ? v.min * std::pow(v.max / v.min, u[k]) : v.min + u[k] * (v.max - v.min);
  }
  return x;
}

std::vector<double> DesignSpace::to_unit(const std::vector<double>& x) const {
  std::vector<double> u(x.size());
  for (size_t k = 0; k < x.size(); ++k) {
    const DesignVariable& v = spec_.variables[k];
    u[k] = v.log ? std::log(x[k] / v.min) / std::log(v.max / v.min) : (x[k] - v.min) / (v.max - v.min);
  }
  return u;
}

VariantSpec DesignSpace::variant(const DesignPoint& p) const {
  VariantSpec vs;
  vs.layer_order = order(p.choice);
  const size_t K = vs.layer_order.size();
  const double none = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> fraction(K, -1.0), share(K, none);
  // Active shares, by position: one entry per material of the layer there.
  std::vector<std::vector<double>> active(K);
  for (size_t j = 0; j < K; ++j) active[j].assign(base_solid_fraction_[vs.layer_order[j]].size(), none);
  bool any_active = false;
  const std::vector<std::string> mats = materials(p.choice);
  for (size_t k = 0; k < mats.size(); ++k)
    vs.material_overrides[fmt::format("layers[{}].materials[{}].name", spec_.material_choices[k].layer,
                                      spec_.material_choices[k].slot)] = mats[k];
  std::string label = p.producer + " " + describe_choice(p.choice);
  for (size_t k = 0; k < p.x.size(); ++k) {
    const std::string& path = spec_.variables[k].path;
    label += fmt::format(" {}={:.6g}", path, p.x[k]);
    const DesignPath d = parse_design_path(path);
    switch (d.kind) {
      case DesignPath::Kind::ThicknessFraction: fraction[d.layer] = p.x[k]; break;
      case DesignPath::Kind::ThicknessShare: share[d.layer] = p.x[k]; break;
      case DesignPath::Kind::ActiveShare:
        active[d.layer][d.slot] = p.x[k];
        any_active = true;
        break;
      case DesignPath::Kind::Other: vs.overrides[path] = p.x[k]; break;
    }
  }
  vs.label = label;
  // Active shares: the layer keeps its listed active content (the sum of its materials'
  // solid_volume_fraction); the shares split it between the materials.
  for (size_t j = 0; any_active && j < K; ++j) {
    if (std::all_of(active[j].begin(), active[j].end(), [](double s) { return std::isnan(s); })) continue;
    const std::vector<double>& listed = base_solid_fraction_[vs.layer_order[j]];
    const double content = std::accumulate(listed.begin(), listed.end(), 0.0);
    const std::vector<double> f = stick_breaking_fractions(active[j], listed);
    for (size_t m = 0; m < listed.size(); ++m)
      vs.overrides[solid_fraction_path(static_cast<int>(j), static_cast<int>(m))] = f[m] * content;
  }
  std::vector<double> listed_m(K);  // listed thicknesses in the variant's order
  for (size_t j = 0; j < K; ++j) listed_m[j] = base_thickness_m_[vs.layer_order[j]];
  // A split's layers in um, from the collector, so that labels (and strata info, the
  // campaign summary) show the electrode and not only the shares.
  auto set_thicknesses = [&](const std::vector<double>& thickness_m) {
    std::string um;
    for (size_t j = 0; j < K; ++j) {
      vs.overrides[fmt::format("layers[{}].thickness_m", j)] = thickness_m[j];
      um += fmt::format("{}{:.3g}", j ? "/" : "", thickness_m[j] * 1e6);
    }
    vs.label += " layers_um=" + um;
  };
  if (std::any_of(share.begin(), share.end(), [](double s) { return !std::isnan(s); })) {
    // Every layer keeps the floor; the shares split the rest.
    const double floor_m = spec_.min_layer_thickness_m;
    const double free_m = spec_.total_thickness_m - static_cast<double>(K) * floor_m;
    const std::vector<double> f = stick_breaking_fractions(share, listed_m);
    std::vector<double> thickness_m(K);
    for (size_t j = 0; j < K; ++j) thickness_m[j] = floor_m + f[j] * free_m;
    set_thicknesses(thickness_m);
    return vs;
  }
  // Thickness fractions at a fixed total: the layers without a fraction share the
  // rest in proportion to their listed thicknesses (in the variant's order).
  bool any = false;
  double given = 0.0, rest_base = 0.0;
  for (size_t j = 0; j < K; ++j) {
    if (fraction[j] >= 0.0) { any = true; given += fraction[j]; }
    else rest_base += listed_m[j];
  }
  if (any) {
    const double total = spec_.total_thickness_m, rest = 1.0 - given;
    if (rest < 0.0 || (rest > 0.0 && rest_base <= 0.0) || (rest <= 0.0 && given < K)) {
      vs.label += " (infeasible: thickness fractions exceed 1)";
      vs.overrides["layers[0].thickness_m"] = -1.0;  // rejected by validation, flagged in its row
      return vs;
    }
    std::vector<double> thickness_m(K);
    for (size_t j = 0; j < K; ++j)
      thickness_m[j] = (fraction[j] >= 0.0 ? fraction[j] : rest * listed_m[j] / rest_base) * total;
    set_thicknesses(thickness_m);
  }
  return vs;
}

Evaluation make_evaluation(const Scenario& base, int64_t design_id, int status, double objective,
                           const std::vector<double>& constraints) {
  Evaluation e;
  e.status = status;
  e.design_id = design_id;
  e.objective = objective;
  e.constraints = constraints;
  const DesignSpec& d = base.design;
  for (size_t k = 0; k < d.constraints.size() && k < constraints.size(); ++k) {
    const ConstraintSpec& c = d.constraints[k];
    const double v = constraints[k];
    if (!std::isfinite(v)) continue;
    const double scale = std::max({std::fabs(c.min) < 1e299 ? std::fabs(c.min) : 0.0,
                                   std::fabs(c.max) < 1e299 ? std::fabs(c.max) : 0.0, 1e-12});
    const double below = c.min > v ? (c.min - v) / scale : 0.0, above = v > c.max ? (v - c.max) / scale : 0.0;
    e.violation += below * below + above * above;
  }
  const ObjectiveSpec* spec = find_objective(base.objectives, d.objective);
  const bool maximize = spec ? spec->maximize : true;
  // A failed design is worse than any real one: a large finite merit keeps NLopt going.
  e.merit = std::isfinite(objective) ? (maximize ? -objective : objective) + d.penalty_weight * e.violation : 1e6;
  return e;
}

Evaluation evaluate_result(const Scenario& base, const VariantResult& r) {
  const DesignSpec& d = base.design;
  const std::vector<double> objs = objective_values(base.objectives, r);
  double objective = std::numeric_limits<double>::quiet_NaN();
  for (size_t k = 0; k < base.objectives.size(); ++k)
    if (base.objectives[k].name == d.objective) objective = objs[k];
  return make_evaluation(base, r.id, r.status, objective, constraint_values(d.constraints, r));
}

}  // namespace strata
