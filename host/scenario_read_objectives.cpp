// [[objectives]], and the step metrics (measured steps, kinds, entry names) that
// [[design.constraints]] and [[fit.targets]] share with them. They refer to steps of the
// expanded protocol (s0, s1, ... as `strata simulate` prints them), so they are read once the
// protocol is expanded.
#define STRATA_TOML_READER 1
#include "host/scenario_reading.hpp"

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

namespace strata::scenario_reading {

using detail::TableReader;
using namespace detail;  // the unit constants (kM, kV, ...)

bool is_identifier(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

namespace {

// The steps that pass current, "s0, s2, s3, ..." (at most 8 named).
std::string current_steps_words(const ProtocolSpec& p) {
  std::string out;
  size_t n = 0;
  for (size_t k = 0; k < p.steps.size(); ++k) {
    if (p.steps[k].kind == StepKind::Rest) continue;
    if (n == 8) {
      out += ", ...";
      break;
    }
    out += fmt::format("{}s{}", n ? ", " : "", k);
    ++n;
  }
  return out.empty() ? std::string("none (every step of the protocol is a Rest)") : out;
}

}  // namespace

void check_step(const TableReader& r, const std::string& key, long long k, const ProtocolSpec& p,
                bool current, const std::string& why) {
  const long long n = static_cast<long long>(p.steps.size());
  if (k < 0 || k >= n)
    r.fail(key, fmt::format("is out of range; allowed 0 <= {} <= {}: an index into the protocol "
                            "steps after repeat blocks are expanded (s0 .. s{} as `strata "
                            "simulate` prints them)",
                            key, n - 1, n - 1));
  if (current && p.steps[static_cast<size_t>(k)].kind == StepKind::Rest)
    r.fail(key, fmt::format("is a Rest step (s{}: \"{}\"); {}; allowed a step that passes "
                            "current: {}",
                            k, p.step_texts[static_cast<size_t>(k)], why, current_steps_words(p)));
}

void read_metric_steps(const TableReader& tr, ObjectiveSpec& o, bool kind_given,
                       std::optional<long long> step, std::optional<long long> ref,
                       const ProtocolSpec& pr, const std::string& what) {
  const std::string& file = tr.file();
  const long long last = static_cast<long long>(pr.steps.size()) - 1;
  if (!step)
    tr.missing("step", fmt::format("the index of the measured step in the expanded protocol, "
                                   "0 .. {}, not a Rest step",
                                   last));
  check_step(tr, "step", *step, pr, true, what + " measures a step that passes current");
  o.step = static_cast<int>(*step);
  if (o.kind == "retention") {
    if (!ref)
      throw ScenarioError(fmt::format(
          "{}: missing required key {}: {} = \"retention\"{} is the capacity of step s{} "
          "divided by the capacity of reference_step; allowed an index 0 .. {} into the "
          "expanded protocol that is not a Rest step and differs from step",
          file, tr.key_path("reference_step"), tr.key_path("kind"),
          kind_given ? "" : " (the default)", *step, last));
    check_step(tr, "reference_step", *ref, pr, true,
               "a retention divides by the capacity of a step that passes current");
    if (*ref == *step)
      tr.fail("reference_step", fmt::format("is the measured step itself ({} = {}); allowed a "
                                            "different step",
                                            tr.key_path("step"), *step));
    o.reference_step = static_cast<int>(*ref);
  } else if (ref) {
    tr.fail("reference_step", fmt::format("is not allowed for {} = \"{}\"; only kind = "
                                          "\"retention\" takes a reference_step",
                                          tr.key_path("kind"), o.kind));
  }
}

bool is_step_metric_kind(const std::string& k) {
  return k == "retention" || k == "capacity_mAh_g" || k == "capacity_mAh_cm2" || k == "energy_Wh_kg";
}

std::vector<ObjectiveSpec> read_objectives(const toml::node* node, const Scenario& s) {
  std::vector<ObjectiveSpec> out;
  if (!node) return out;
  const std::string& file = s.file;
  const ProtocolSpec& pr = s.protocol;
  const toml::array* a = node->as_array();
  if (!a || (!a->empty() && !a->is_array_of_tables()))
    throw ScenarioError(fmt::format(
        "{}: objectives = {} is not an array of tables; write one [[objectives]] table per "
        "objective (name, kind, step, reference_step, sense)",
        file, detail::show_node(*node)));
  std::vector<const toml::array*> terms_of(a->size(), nullptr);  // weighted sums' terms
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string p = fmt::format("objectives[{}]", i);
    TableReader tr(*a->get(i)->as_table(), file, p);
    auto name = tr.string("name");
    auto kind = tr.string("kind");
    auto step = tr.integer("step");
    auto ref = tr.integer("reference_step");
    auto sense = tr.one_of("sense", {{"maximize"}, {"minimize"}});
    const toml::array* terms = tr.array("terms");
    tr.finish();
    ObjectiveSpec o;
    o.name = read_entry_name(tr, name, out, "objectives", "objective", "\"retention_3C\"",
                             " (it becomes a column name in the results)");
    if (kind) {
      if (!is_step_metric_kind(*kind) && *kind != "weighted_sum")
        tr.fail("kind", fmt::format("is not an objective kind; allowed {} (step metrics), or "
                                    "\"weighted_sum\" (a weighted sum of other objectives)",
                                    kStepMetricKinds));
      o.kind = *kind;
    }
    if (o.kind == "weighted_sum") {
      const std::string why = fmt::format(
          "is not allowed for {} = \"weighted_sum\": a weighted sum combines other objectives "
          "(terms) and measures no step itself",
          tr.key_path("kind"));
      if (step) tr.fail("step", why);
      if (ref) tr.fail("reference_step", why);
      if (!terms)
        tr.missing("terms", "a weighted_sum needs terms = [ { objective = \"name\", weight = w }, "
                            "... ], at least one");
      if (terms->empty())
        tr.fail("terms", "is empty; allowed at least one term { objective = \"name\", weight = w }");
      terms_of[i] = terms;
    } else {
      if (terms)
        tr.fail("terms", fmt::format("is not allowed for {} = \"{}\"; only kind = "
                                     "\"weighted_sum\" takes terms",
                                     tr.key_path("kind"), o.kind));
      read_metric_steps(tr, o, kind.has_value(), step, ref, pr, "an objective");
    }
    if (sense) o.maximize = *sense == "maximize";
    out.push_back(std::move(o));
  }
  // The terms of the weighted sums: each names an objective of the file that is not itself
  // a weighted sum, with a finite, non-zero weight.
  std::string plain_names;
  for (const ObjectiveSpec& ob : out)
    if (ob.kind != "weighted_sum")
      plain_names += fmt::format("{}\"{}\"", plain_names.empty() ? "" : ", ", ob.name);
  if (plain_names.empty()) plain_names = "none (the file has no objective of another kind)";
  for (size_t i = 0; i < out.size(); ++i) {
    if (!terms_of[i]) continue;
    const toml::array& terms = *terms_of[i];
    for (size_t k = 0; k < terms.size(); ++k) {
      const std::string tk = fmt::format("objectives[{}].terms[{}]", i, k);
      const toml::table* t = terms.get(k)->as_table();
      if (!t)
        throw ScenarioError(fmt::format(
            "{}: {} = {} is not a table; allowed {{ objective = \"name\", weight = w }}", file, tk,
            detail::show_node(*terms.get(k))));
      TableReader tr(*t, file, tk);
      auto obj = tr.string("objective");
      auto weight = tr.number("weight", kNone);
      tr.finish();
      if (!obj)
        tr.missing("objective", fmt::format("the name of another [[objectives]] table that is "
                                            "not a weighted_sum: {}",
                                            plain_names));
      const ObjectiveSpec* target = nullptr;
      for (const ObjectiveSpec& ob : out)
        if (ob.name == *obj) target = &ob;
      if (!target)
        tr.fail("objective", fmt::format("names no objective; allowed the name of another "
                                         "[[objectives]] table that is not a weighted_sum: {}",
                                         plain_names));
      if (target->kind == "weighted_sum")
        tr.fail("objective", fmt::format("names a weighted_sum; weighted sums do not nest; "
                                         "allowed an objective of another kind: {}",
                                         plain_names));
      if (!weight) tr.missing("weight", "a finite, non-zero number");
      if (*weight == 0.0)
        tr.fail("weight", "is not allowed; allowed a finite, non-zero number (negative to "
                          "subtract the term)");
      out[i].term_objectives.push_back(*obj);
      out[i].term_weights.push_back(*weight);
    }
  }
  return out;
}

void check_objective_name(const TableReader& r, const std::string& key, const std::string& name,
                          const std::vector<ObjectiveSpec>& objectives) {
  std::string names;
  for (const ObjectiveSpec& ob : objectives) {
    if (ob.name == name) return;
    names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", ob.name);
  }
  r.fail(key, objectives.empty() ? std::string("names no objective: the file has no [[objectives]]; "
                                               "allowed the name of an [[objectives]] table")
                                 : fmt::format("names no objective; allowed the name of an [[objectives]] table: {}",
                                               names));
}

}  // namespace strata::scenario_reading
