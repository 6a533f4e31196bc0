// Calibration ([fit], `strata fit`). Read after [design]: targets name variants of the
// expanded batch and steps of the expanded protocol, and the parameters' paths and bounds
// are checked on the base scenario and on every explicit variant (a parameter is applied
// on top of every variant).
#define STRATA_TOML_READER 1
#include "host/scenario_reading.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

namespace strata::scenario_reading {

using detail::TableReader;
using namespace detail;  // the unit constants (kM, kV, ...)

namespace {

// The variants' labels in quotes, "\"A\", \"B\", ..." (at most 8 named).
std::string variant_labels_words(const std::vector<VariantSpec>& variants) {
  std::string out;
  for (size_t k = 0; k < variants.size(); ++k) {
    if (k == 8) {
      out += fmt::format(", ... ({} in all)", variants.size());
      break;
    }
    out += fmt::format("{}\"{}\"", k ? ", " : "", variants[k].label);
  }
  return out;
}

// One [[fit.targets]] table.
FitTarget read_fit_target(const toml::table& t, size_t i, const Scenario& s,
                          const std::vector<FitTarget>& before) {
  const std::string& file = s.file;
  TableReader tr(t, file, fmt::format("fit.targets[{}]", i));
  auto name = tr.string("name");
  auto variant = tr.string("variant");
  auto kind = tr.string("kind");
  auto step = tr.integer("step");
  auto ref = tr.integer("reference_step");
  auto value = tr.number("value", kNone);
  auto sigma = tr.number("sigma", kNone);
  auto curve_q = tr.number_array("capacity_mAh_g", kMAhG);
  auto curve_v = tr.number_array("potential_V", kV);
  tr.finish();
  FitTarget f;
  f.name = read_entry_name(tr, name, before, "fit.targets", "target", "\"NVP_3C\"",
                           " (it names the target in the report)");
  f.metric.name = f.name;

  // The variant it was measured on.
  const std::string n_words = fmt::format("the scenario expands to {} variant{}",
                                          s.variants.size(), s.variants.size() == 1 ? "" : "s");
  if (!variant)
    tr.missing("variant", fmt::format("the label of the variant the value was measured on ({}: "
                                      "{})",
                                      n_words, variant_labels_words(s.variants)));
  bool known = false;
  for (const VariantSpec& v : s.variants) known = known || v.label == *variant;
  if (!known)
    tr.fail("variant", fmt::format("is not the label of a variant; allowed the label of a variant "
                                   "of the expanded batch ({}: {})",
                                   n_words, variant_labels_words(s.variants)));
  f.variant = *variant;

  // The metric.
  const std::string kinds = fmt::format(
      "{} (step metrics), or \"potential_curve\" (a measured potential curve)", kStepMetricKinds);
  if (!kind) tr.missing("kind", fmt::format("the measured metric: {}", kinds));
  if (!is_step_metric_kind(*kind) && *kind != "potential_curve")
    tr.fail("kind", fmt::format("is not a target kind; allowed {}", kinds));
  f.metric.kind = *kind;
  read_metric_steps(tr, f.metric, true, step, ref, s.protocol, "a target");

  // A measured curve: potential (V) against the capacity passed in the step (mAh/g).
  if (f.metric.kind == "potential_curve") {
    if (value)
      tr.fail("value", fmt::format("is not allowed for {} = \"potential_curve\": the "
                                   "measurement is the curve (capacity_mAh_g, potential_V)",
                                   tr.key_path("kind")));
    if (!curve_q)
      tr.missing("capacity_mAh_g", "the capacity passed in the step at each measured point, "
                                   "mAh/g, >= 0 and strictly increasing");
    if (!curve_v)
      tr.missing("potential_V", "the measured potential at each point of capacity_mAh_g, V");
    if (curve_q->size() != curve_v->size() || curve_q->size() < 2)
      throw ScenarioError(fmt::format(
          "{}: {} has {} value{} and {} has {}; allowed two arrays of the same length, at least "
          "2 points",
          file, tr.key_path("capacity_mAh_g"), curve_q->size(), curve_q->size() == 1 ? "" : "s",
          tr.key_path("potential_V"), curve_v->size()));
    for (size_t k = 0; k < curve_q->size(); ++k) {
      const double q = (*curve_q)[k];
      const std::string qk = fmt::format("{}[{}]", tr.key_path("capacity_mAh_g"), k);
      if (!(q >= 0.0))
        throw ScenarioError(fmt::format("{}: {} = {} is out of range; allowed capacity_mAh_g >= "
                                        "0 (capacity passed since the start of the step)",
                                        file, qk, format_number(q)));
      if (k > 0 && !(q > (*curve_q)[k - 1]))
        throw ScenarioError(fmt::format(
            "{}: {} = {} is not greater than {}[{}] = {}; allowed strictly increasing "
            "capacity_mAh_g",
            file, qk, format_number(q), tr.key_path("capacity_mAh_g"), k - 1,
            format_number((*curve_q)[k - 1])));
    }
    f.curve_capacity_mAh_g = *curve_q;
    f.curve_potential_V = *curve_v;
    if (!sigma)
      tr.missing("sigma", "the standard uncertainty of each measured potential, V, > 0");
    if (!(*sigma > 0.0))
      tr.fail("sigma", "is out of range; allowed sigma > 0 (the standard uncertainty of each "
                       "measured potential, V)");
    f.sigma = *sigma;
    return f;
  }
  for (const char* k : {"capacity_mAh_g", "potential_V"})
    if (tr.table().contains(k))
      tr.fail(k, fmt::format("is not allowed for {} = \"{}\"; only kind = \"potential_curve\" "
                             "takes a curve (capacity_mAh_g, potential_V)",
                             tr.key_path("kind"), f.metric.kind));

  // The measurement.
  if (!value)
    tr.missing("value", "the measured value, a number in the metric's unit (retention: a "
                        "fraction; mAh/g; mAh/cm2; Wh/kg)");
  f.value = *value;
  if (!sigma)
    tr.missing("sigma", "the standard uncertainty of value, a number > 0 in the metric's unit");
  if (!(*sigma > 0.0))
    tr.fail("sigma", "is out of range; allowed sigma > 0 (the standard uncertainty of value, in "
                     "its unit)");
  f.sigma = *sigma;
  return f;
}

}  // namespace

FitSpec read_fit(const toml::table* t, const Scenario& s, const Scenario& light,
                 const std::vector<VariantSpec>& explicit_variants) {
  FitSpec f;
  if (!t) return f;
  f.present = true;
  TableReader tr(*t, s.file, "fit");
  auto algorithm = tr.string("algorithm");
  f.starts = read_int(tr, "starts", 1, 100, f.starts);
  f.initial_population = read_int(tr, "initial_population", 1, 100000, f.initial_population);
  auto max_eval = tr.integer("max_evaluations");
  f.xtol_rel = tr.number("xtol_rel", kNone, f.xtol_rel);
  f.ftol_rel = tr.number("ftol_rel", kNone, f.ftol_rel);
  auto seed = tr.integer("seed");
  const toml::node* params_n = tr.node("parameters");
  const toml::node* targets_n = tr.node("targets");
  tr.finish();

  // Search settings.
  if (algorithm) {
    check_nlopt_algorithm(tr, *algorithm);
    f.algorithm = *algorithm;
  }
  f.max_evaluations = read_max_evaluations(tr, max_eval, f.max_evaluations, f.initial_population);
  check_tolerances(tr, f.xtol_rel, f.ftol_rel);
  f.seed = read_seed(tr, seed, f.seed);

  // Parameters: override paths (no thickness fractions), checked on the base and on top of
  // every explicit variant (its layer order and overrides).
  VariableRules rules;
  rules.noun = "a fit parameter";
  rules.item = "parameter";
  rules.scopes.emplace_back();
  for (const VariantSpec& v : explicit_variants)
    rules.scopes.push_back({v.layer_order, v.overrides, fmt::format("variant \"{}\"", v.label)});
  f.parameters = read_variables(tr, "parameters", params_n, s, light, rules);
  // A parameter is set on top of every variant of the expanded batch (sweeps included): a
  // variant may not set the same path (its value would be replaced, silently), nor the
  // other transport description of the same layer (the variant would set both).
  for (size_t i = 0; i < f.parameters.size(); ++i) {
    const std::string& path = f.parameters[i].path;
    const std::string other = other_transport_path(path);
    const std::string pk = fmt::format("fit.parameters[{}].path", i);
    for (const VariantSpec& v : s.variants) {
      if (auto it = v.overrides.find(path); it != v.overrides.end())
        throw ScenarioError(fmt::format(
            "{}: {} = \"{}\" is also set by variant \"{}\" ({} = {}, from [batch]); allowed a "
            "path that no variant sets: a fit parameter is applied on top of every variant and "
            "would replace the variant's own value",
            s.file, pk, path, v.label, path, format_number(it->second)));
      if (auto it = other.empty() ? v.overrides.end() : v.overrides.find(other);
          it != v.overrides.end())
        throw ScenarioError(fmt::format(
            "{}: {} = \"{}\" conflicts with variant \"{}\", which sets {} = {} (from [batch]): a "
            "layer (or the separator) has either a tortuosity or a Bruggeman exponent; allowed "
            "one of the two",
            s.file, pk, path, v.label, other, format_number(it->second)));
    }
  }

  // Targets.
  const toml::array& ta = required_tables(
      tr, "targets", targets_n,
      "name, variant, kind, step, reference_step, value, sigma, capacity_mAh_g, potential_V",
      "target");
  for (size_t i = 0; i < ta.size(); ++i)
    f.targets.push_back(read_fit_target(*ta.get(i)->as_table(), i, s, f.targets));
  return f;
}

}  // namespace strata::scenario_reading
