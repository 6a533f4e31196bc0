// Scenario files: strict TOML reading, validation, material resolution, protocol
// expansion and batch expansion. Format: docs/scenario-format.md.
#define STRATA_TOML_READER 1
#include "host/scenario_loader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include <nlopt.h>

#include "host/protocol_parser.hpp"

namespace strata {

namespace fs = std::filesystem;
using detail::TableReader;
using detail::Unit;
using namespace detail;  // the unit constants (kM, kV, ...)

namespace {


// The unit of an override path, from the name of its last component.
Unit unit_of_path(const std::string& path) {
  static const Unit units[] = {{"_ohm_m2", "ohm m2"}, {"_mol_m3", "mol/m3"}, {"_kg_m3", "kg/m3"},
                               {"_m2_s", "m2/s"},     {"_A_m2", "A/m2"},     {"_S_m", "S/m"},
                               {"_K", "K"},           {"_m", "m"}};
  for (const Unit& u : units) {
    const std::string s = u.suffix;
    if (path.size() > s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0) return u;
  }
  return kNone;
}

}  // namespace

std::string override_path_units(const std::string& path) {
  const Unit u = unit_of_path(path);
  return *u.display ? std::string(u.display) : std::string("-");
}

namespace {

// A TOML key as written in a file: bare when possible, else quoted.
std::string toml_key(const std::string& k) {
  bool bare = !k.empty();
  for (char c : k)
    bare = bare && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  return bare ? k : fmt::format("\"{}\"", k);
}

[[noreturn]] void range_fail(const std::string& where, const std::string& key, double v,
                             const std::string& allowed) {
  throw ScenarioError(fmt::format("{}: {} = {} is out of range; allowed {}", where, key,
                                  format_number(v), allowed));
}

int read_int(TableReader& r, const std::string& key, long long lo, long long hi, int fallback) {
  auto v = r.integer(key);
  if (!v) return fallback;
  if (*v < lo || *v > hi) r.fail(key, fmt::format("is out of range; allowed {} <= {} <= {}", lo, key, hi));
  return static_cast<int>(*v);
}

// Exactly one of tortuosity / bruggeman_exponent.
void read_transport(TableReader& r, bool& use_bruggeman, double& tortuosity, double& bruggeman) {
  auto tau = r.number("tortuosity", kNone);
  auto b = r.number("bruggeman_exponent", kNone);
  if (tau && b)
    throw ScenarioError(fmt::format(
        "{}: {} and {} are both given ({} and {}); allowed exactly one of the two", r.file(),
        r.key_path("tortuosity"), r.key_path("bruggeman_exponent"), format_number(*tau),
        format_number(*b)));
  if (!tau && !b) {
    r.reject_typo_of("tortuosity", "or bruggeman_exponent instead");
    r.reject_typo_of("bruggeman_exponent", "or tortuosity instead");
    throw ScenarioError(fmt::format(
        "{}: missing required key {} or {} (exactly one of the two: tortuosity tau with "
        "eps_eff = eps/tau, or a Bruggeman exponent b with eps_eff = eps^b)",
        r.file(), r.key_path("tortuosity"), r.key_path("bruggeman_exponent")));
  }
  use_bruggeman = b.has_value();
  if (tau) tortuosity = *tau;
  if (b) bruggeman = *b;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(fmt::format("{}: cannot open the scenario file for reading", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------------------
// Protocol

struct ProtocolExpander {
  std::string file;
  ProtocolSpec& out;
  std::unordered_map<std::string, ProtocolStep> cache;

  void add(const std::string& text, const std::string& key) {
    auto it = cache.find(text);
    if (it == cache.end()) {
      ProtocolStep st;
      try {
        st = parse_protocol_step(text);
      } catch (const std::exception& e) {
        throw ScenarioError(fmt::format("{}: {} = \"{}\" is not a valid protocol step: {}", file,
                                        key, text, e.what()));
      }
      it = cache.emplace(text, st).first;
    }
    if (out.steps.size() >= kMaxProtocolSteps) too_many(key);
    out.step_texts.push_back(text);
    out.steps.push_back(it->second);
  }

  [[noreturn]] void too_many(const std::string& key) const {
    throw ScenarioError(fmt::format(
        "{}: {}: the protocol expands to more than {} steps; allowed at most {} steps after "
        "repeat blocks are flattened",
        file, key, kMaxProtocolSteps, kMaxProtocolSteps));
  }

  void expand(const toml::array& a, const std::string& key, int depth) {
    if (a.empty())
      throw ScenarioError(fmt::format(
          "{}: {} = [] is empty; allowed a non-empty array of step strings and repeat blocks", file,
          key));
    for (size_t i = 0; i < a.size(); ++i) {
      const toml::node& n = *a.get(i);
      const std::string k = fmt::format("{}[{}]", key, i);
      if (auto s = n.as_string()) {
        add(s->get(), k);
      } else if (auto t = n.as_table()) {
        if (depth >= 16)
          throw ScenarioError(fmt::format("{}: {}: repeat blocks nest deeper than 16 levels", file, k));
        TableReader tr(*t, file, k);
        auto rep = tr.integer("repeat");
        const toml::array* steps = tr.array("steps");
        tr.finish();
        if (!rep) tr.missing("repeat", "a whole number >= 1");
        if (*rep < 1 || *rep > 1000000)
          tr.fail("repeat", "is out of range; allowed 1 <= repeat <= 1000000");
        if (!steps) tr.missing("steps", "an array of step strings and repeat blocks");
        const size_t start = out.steps.size();
        expand(*steps, tr.key_path("steps"), depth + 1);
        const size_t len = out.steps.size() - start;
        if (static_cast<unsigned long long>(len) * static_cast<unsigned long long>(*rep) + start >
            kMaxProtocolSteps)
          too_many(k);
        for (long long r = 1; r < *rep; ++r)
          for (size_t j = 0; j < len; ++j) {
            out.step_texts.push_back(out.step_texts[start + j]);
            out.steps.push_back(out.steps[start + j]);
          }
      } else {
        throw ScenarioError(fmt::format(
            "{}: {} = {} is not a protocol step; allowed a step string such as \"Charge at 1C "
            "until 3.6 V\" or a repeat block {{ repeat = N, steps = [...] }}",
            file, k, detail::show_node(n)));
      }
    }
  }
};

// ---------------------------------------------------------------------------
// Objectives and output. Both refer to steps of the expanded protocol (s0, s1, ...
// as `strata simulate` prints them) and output.design_ids to variants, so they are
// read once the protocol is expanded and the variants are known.

bool is_identifier(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

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

// r.key(key) = k must index an existing step of the expanded protocol; with
// `current`, one that is not a Rest step (`why` says what needs the current).
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

// The steps of an objective-like metric (an [[objectives]] or [[design.constraints]]
// table read by tr; o.kind already set, kind_given when the file states it): `step`
// is required and must pass current; `reference_step` is required for (and only for)
// kind "retention", passes current and differs from `step`. `what` names the table in
// messages ("an objective").
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

// The kinds of a step metric (ObjectiveSpec::kind) and their list for messages.
constexpr const char* kStepMetricKinds =
    "\"retention\", \"capacity_mAh_g\", \"capacity_mAh_cm2\" or \"energy_Wh_kg\"";

bool is_step_metric_kind(const std::string& k) {
  return k == "retention" || k == "capacity_mAh_g" || k == "capacity_mAh_cm2" || k == "energy_Wh_kg";
}

// The `name` of an entry of a list of named tables ([[objectives]], [[design.constraints]],
// [[fit.targets]]; `name` as tr read it, nullopt when absent): required, letters, digits
// and '_', and not the name of an earlier entry (before[j] is `list`[j]). `noun` names one
// entry ("objective"), `example` is a name in quotes, `why` may say what the name becomes.
template <class Named>
std::string read_entry_name(const TableReader& tr, const std::optional<std::string>& name,
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

ProfileRequest read_profile(const toml::node& node, const std::string& key, const Scenario& s) {
  const std::string& file = s.file;
  const toml::table* t = node.as_table();
  if (!t)
    throw ScenarioError(fmt::format(
        "{}: {} = {} is not a table; allowed {{ step = k, at = \"end\" }}, {{ step = k, at = "
        "\"time\", value_s = t }} or {{ step = k, at = \"capacity\", value_mAh_g = q }}",
        file, key, detail::show_node(node)));
  TableReader tr(*t, file, key);
  auto step = tr.integer("step");
  auto at = tr.string("at");
  auto value_s = tr.number("value_s", kS);
  auto value_q = tr.number("value_mAh_g", kMAhG);
  tr.finish();
  ProfileRequest q;
  if (!step)
    tr.missing("step", fmt::format("the index of the step in the expanded protocol, 0 .. {}",
                                   s.protocol.steps.size() - 1));
  const std::string a = at.value_or("end");
  const std::string at_words =
      fmt::format("{} = \"{}\"{}", tr.key_path("at"), a, at ? "" : " (the default)");
  auto not_allowed = [&](const char* k, const std::string& use) {
    tr.fail(k, fmt::format("is not allowed with {}; {}", at_words, use));
  };
  auto need = [&](const char* k, const std::string& what) {
    throw ScenarioError(fmt::format("{}: missing required key {}: {} needs {}", file,
                                    tr.key_path(k), at_words, what));
  };
  if (a == "end") {
    q.at = ProfileRequest::At::End;
    if (value_s)
      not_allowed("value_s", "a snapshot at the end of the step takes no value (at = \"time\" "
                             "takes value_s)");
    if (value_q)
      not_allowed("value_mAh_g", "a snapshot at the end of the step takes no value (at = "
                                 "\"capacity\" takes value_mAh_g)");
  } else if (a == "time") {
    q.at = ProfileRequest::At::Time;
    if (value_q) not_allowed("value_mAh_g", "allowed value_s (s into the step)");
    if (!value_s) need("value_s", "value_s, the time into the step in s (> 0)");
    if (!(*value_s > 0.0))
      tr.fail("value_s", "is out of range; allowed value_s > 0 (s into the step)");
    q.value = *value_s;
  } else if (a == "capacity") {
    q.at = ProfileRequest::At::Capacity;
    if (value_s)
      not_allowed("value_s", "allowed value_mAh_g (capacity passed since the start of the step)");
    if (!value_q)
      need("value_mAh_g", "value_mAh_g, the capacity passed since the start of the step in "
                          "mAh/g (> 0)");
    if (!(*value_q > 0.0))
      tr.fail("value_mAh_g", "is out of range; allowed value_mAh_g > 0 (mAh per g of active "
                             "material, since the start of the step)");
    q.value = *value_q;
  } else {
    tr.fail("at", "is not allowed; allowed \"end\", \"time\" or \"capacity\"");
  }
  check_step(tr, "step", *step, s.protocol, q.at == ProfileRequest::At::Capacity,
             "no capacity passes in a Rest step");
  q.step = static_cast<int>(*step);
  return q;
}

OutputSpec read_output(const toml::table* t, const Scenario& s) {
  OutputSpec o;
  if (!t) return o;
  const std::string& file = s.file;
  TableReader tr(*t, file, "output");
  auto traj = tr.one_of("trajectories", {{"none"},
                                         {"all"},
                                         {"best", "best_k designs by objective best_by"},
                                         {"list", "design_ids"}});
  auto best_k = tr.integer("best_k");
  auto best_by = tr.string("best_by");
  const toml::array* ids = tr.array("design_ids");
  o.trajectory_interval_s = tr.number("trajectory_interval_s", kS, o.trajectory_interval_s);
  o.trajectory_max_points =
      read_int(tr, "trajectory_max_points", 10, 1000000, o.trajectory_max_points);
  o.batch_size = read_int(tr, "batch_size", 1, 1000000, o.batch_size);
  const toml::array* profiles = tr.array("profiles");
  tr.finish();

  if (traj) o.trajectories = *traj;
  const std::string traj_words =
      fmt::format("output.trajectories = \"{}\"{}", o.trajectories, traj ? "" : " (the default)");

  if (o.trajectories == "best") {
    if (!best_k)
      throw ScenarioError(fmt::format(
          "{}: missing required key output.best_k: {} needs best_k, the number of designs kept "
          "(a whole number >= 1)",
          file, traj_words));
    if (*best_k < 1 || *best_k > INT_MAX)
      tr.fail("best_k", fmt::format("is out of range; allowed 1 <= best_k <= {}", INT_MAX));
    o.best_k = static_cast<int>(*best_k);
  } else if (best_k) {
    tr.fail("best_k", fmt::format("is not allowed with {}; best_k belongs to trajectories = "
                                  "\"best\" only",
                                  traj_words));
  }

  if (best_by) {
    bool known = false;
    std::string names;
    for (const ObjectiveSpec& ob : s.objectives) {
      known = known || ob.name == *best_by;
      names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", ob.name);
    }
    if (!known)
      tr.fail("best_by", s.objectives.empty()
                             ? std::string("names no objective: the file has no [[objectives]]; "
                                           "allowed the name of an [[objectives]] table")
                             : fmt::format("names no objective; allowed the name of an "
                                           "[[objectives]] table: {}",
                                           names));
    o.best_by = *best_by;
  } else if (o.trajectories == "best") {
    if (s.objectives.empty())
      throw ScenarioError(fmt::format(
          "{}: missing required key output.best_by: {} ranks designs by an objective, and the "
          "file has no [[objectives]]; add an [[objectives]] table (best_by defaults to the "
          "first one)",
          file, traj_words));
    o.best_by = s.objectives.front().name;
  }

  const long n_variants = static_cast<long>(s.variants.size());
  if (o.trajectories == "list") {
    if (!ids)
      throw ScenarioError(fmt::format(
          "{}: missing required key output.design_ids: {} needs design_ids, a non-empty array "
          "of design ids 0 .. {} (the variant's index in the expanded batch)",
          file, traj_words, n_variants - 1));
    if (ids->empty())
      tr.fail("design_ids", fmt::format("is empty; allowed a non-empty array of design ids 0 .. "
                                        "{} (the variant's index in the expanded batch)",
                                        n_variants - 1));
    std::set<long> seen;
    for (size_t i = 0; i < ids->size(); ++i) {
      const toml::node& n = *ids->get(i);
      const std::string k = fmt::format("output.design_ids[{}]", i);
      auto v = n.as_integer();
      if (!v)
        throw ScenarioError(fmt::format("{}: {} = {} is not an integer; allowed a design id 0 .. "
                                        "{} (a whole number)",
                                        file, k, detail::show_node(n), n_variants - 1));
      if (v->get() < 0 || v->get() >= n_variants)
        throw ScenarioError(fmt::format(
            "{}: {} = {} is out of range; allowed 0 <= design id <= {} (the scenario expands to "
            "{} variant{}; a design id is the variant's index in the expanded batch)",
            file, k, v->get(), n_variants - 1, n_variants, n_variants == 1 ? "" : "s"));
      if (!seen.insert(static_cast<long>(v->get())).second)
        throw ScenarioError(fmt::format("{}: {} = {} is listed twice; allowed each design id once",
                                        file, k, v->get()));
      o.design_ids.push_back(static_cast<long>(v->get()));
    }
  } else if (ids) {
    tr.fail("design_ids", fmt::format("is not allowed with {}; design_ids belongs to "
                                      "trajectories = \"list\" only",
                                      traj_words));
  }

  if (!(o.trajectory_interval_s >= 0.0))
    tr.fail("trajectory_interval_s",
            "is out of range; allowed trajectory_interval_s >= 0 (0: every time step)");

  if (profiles)
    for (size_t i = 0; i < profiles->size(); ++i)
      o.profiles.push_back(
          read_profile(*profiles->get(i), fmt::format("output.profiles[{}]", i), s));
  return o;
}

// ---------------------------------------------------------------------------
// Design space ([design], `strata optimize`). Read last: design.objective names an
// [[objectives]] table, constraints refer to steps of the expanded protocol, and the
// variables' paths and bounds are checked against the base scenario (in every layer
// order of the search).

constexpr size_t kMaxAllOrderLayers = 8;   // layer_orders = "all": at most 8! = 40320 orders
constexpr size_t kMaxLayerOrders = 40320;  // listed orders

std::string show_order(const std::vector<int>& order) {
  std::string out = "[";
  for (size_t k = 0; k < order.size(); ++k) out += fmt::format("{}{}", k ? ", " : "", order[k]);
  return out + "]";
}

// The layer index of a path "layers[i]...." (nullopt for other paths or a malformed index).
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

// "thickness_fraction" or "thickness_share" for a path "layers[i].thickness_fraction" or
// "layers[i].thickness_share" (i a plain index): the design variables that split
// design.total_thickness_m between the layers. Empty for every other path.
std::string thickness_split_kind(const std::string& path) {
  switch (parse_design_path(path).kind) {
    case DesignPath::Kind::ThicknessFraction: return "thickness_fraction";
    case DesignPath::Kind::ThicknessShare: return "thickness_share";
    default: return "";
  }
}

// For "layers[i].materials[j].active_share" (a design variable: material j's share of the
// layer's active solid), the override path it sets, "layers[i].materials[j].solid_volume_fraction";
// empty for every other path.
std::string active_share_target(const std::string& path) {
  const DesignPath d = parse_design_path(path);
  return d.kind == DesignPath::Kind::ActiveShare ? solid_fraction_path(d.layer, d.slot) : "";
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

// For a path ending in .tortuosity or .bruggeman_exponent, the other transport
// description of the same layer (or the separator); empty for other paths.
std::string other_transport_path(const std::string& path) {
  for (const auto& [a, b] : {std::pair<const char*, const char*>{".tortuosity", ".bruggeman_exponent"},
                             {".bruggeman_exponent", ".tortuosity"}})
    if (ends_with(path, a)) return path.substr(0, path.size() - std::strlen(a)) + b;
  return "";
}

// The required, non-empty array of tables at tr's `key` (e.g. design.variables): `keys`
// lists the keys of one table, `item` names what one table describes.
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

// The variables at tr's `key` ([[design.variables]], [[fit.parameters]]): each read by
// read_variable; each parameter once, and an explicit tortuosity and a Bruggeman exponent
// of the same layer (or the separator) exclude each other.
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

// A few NLopt algorithm names for messages.
std::string nlopt_examples() {
  return "\"LN_BOBYQA\", \"LN_COBYLA\", \"LN_NELDERMEAD\", \"LN_SBPLX\", \"GN_DIRECT_L\", "
         "\"GN_CRS2_LM\", \"GN_ISRES\", \"GN_ESCH\"";
}

// Settings shared by [design] and [fit] (the NLopt search), checked once tr has read them.

// `algorithm`: an NLopt algorithm name as NLopt spells it.
void check_nlopt_algorithm(const TableReader& tr, const std::string& algorithm) {
  if (nlopt_algorithm_from_string(algorithm.c_str()) != static_cast<nlopt_algorithm>(-1)) return;
  std::string hint;
  std::string upper = algorithm;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (upper.rfind("NLOPT_", 0) == 0) upper = upper.substr(6);
  if (nlopt_algorithm_from_string(upper.c_str()) != static_cast<nlopt_algorithm>(-1))
    hint = fmt::format(" (write \"{}\")", upper);
  tr.fail("algorithm",
          fmt::format("is not an NLopt algorithm{}; allowed an NLopt algorithm name as NLopt "
                      "spells it (nlopt_algorithm_from_string), e.g. {}",
                      hint, nlopt_examples()));
}

// `max_evaluations` (nullopt: not given, `fallback` applies) >= `initial_population`: the
// budget counts every evaluation, the first population included.
long read_max_evaluations(const TableReader& tr, std::optional<long long> max_eval, long fallback,
                          int initial_population) {
  const bool population_given = tr.table().contains("initial_population");
  if (max_eval) {
    if (*max_eval < initial_population)
      tr.fail("max_evaluations",
              fmt::format("is out of range; allowed max_evaluations >= initial_population ({}{}): "
                          "the budget counts every evaluation, the first population included",
                          initial_population, population_given ? "" : ", the default"));
    return static_cast<long>(*max_eval);
  }
  if (fallback < initial_population)
    throw ScenarioError(fmt::format(
        "{}: {} = {} is more than max_evaluations = {} (the default); allowed "
        "initial_population <= max_evaluations (give a larger max_evaluations)",
        tr.file(), tr.key_path("initial_population"), initial_population, fallback));
  return fallback;
}

// xtol_rel > 0 and ftol_rel >= 0 (NLopt's relative tolerances).
void check_tolerances(const TableReader& tr, double xtol_rel, double ftol_rel) {
  if (!(xtol_rel > 0.0)) tr.fail("xtol_rel", "is out of range; allowed xtol_rel > 0");
  if (!(ftol_rel >= 0.0)) tr.fail("ftol_rel", "is out of range; allowed ftol_rel >= 0 (0: off)");
}

// `seed` (nullopt: `fallback`) >= 0.
uint64_t read_seed(const TableReader& tr, std::optional<long long> seed, uint64_t fallback) {
  if (!seed) return fallback;
  if (*seed < 0) tr.fail("seed", "is out of range; allowed seed >= 0 (a whole number)");
  return static_cast<uint64_t>(*seed);
}

// Loads library material `name` into s.materials (and into also, when given) unless it is
// there already, and range-checks it; `key` is the key path that names it, for messages.
void load_material(Scenario& s, Scenario* also, const std::string& libdir,
                   const std::string& name, const std::string& key) {
  if (!s.materials.count(name)) {
    ActiveMaterial m;
    try {
      m = load_active_material(libdir, name);
      validate_active_material(m, s.file, fmt::format("materials.{}.", name));
    } catch (const ScenarioError& e) {
      throw ScenarioError(fmt::format("{}: {} = \"{}\": {}", s.file, key, name, e.what()));
    }
    s.materials.emplace(name, std::move(m));
  }
  if (also && !also->materials.count(name)) also->materials.emplace(name, s.materials.at(name));
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
    bool known = false;
    std::string names;
    for (const ObjectiveSpec& ob : s.objectives) {
      known = known || ob.name == *objective;
      names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", ob.name);
    }
    if (!known)
      tr.fail("objective", fmt::format("names no objective; allowed the name of an "
                                       "[[objectives]] table: {}",
                                       names));
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

// ---------------------------------------------------------------------------
// Calibration ([fit], `strata fit`). Read after [design]: targets name variants of the
// expanded batch and steps of the expanded protocol, and the parameters' paths and bounds
// are checked on the base scenario and on every explicit variant (a parameter is applied
// on top of every variant).

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

// ---------------------------------------------------------------------------
// Batch

// Flattens nested tables of overrides: { materials = { NVP = { x = 1 } } } ->
// "materials.NVP.x". Leaves are collected with their display key.
void flatten(const toml::table& t, const std::string& prefix,
             std::vector<std::pair<std::string, const toml::node*>>& out, bool stop_at_range) {
  for (const auto& [k, n] : t) {
    const std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    const toml::table* sub = n.as_table();
    const bool is_range = sub && (sub->contains("from") || sub->contains("to") ||
                                  sub->contains("count") || sub->contains("log"));
    if (sub && !(stop_at_range && is_range))
      flatten(*sub, path, out, stop_at_range);
    else
      out.emplace_back(path, &n);
  }
}

std::vector<int> read_layer_order(TableReader& r) {
  std::vector<int> order;
  const toml::array* a = r.array("layer_order");
  if (!a) return order;
  for (size_t i = 0; i < a->size(); ++i) {
    auto v = a->get(i)->as_integer();
    if (!v || v->get() < 0 || v->get() > INT_MAX)
      r.fail("layer_order", "is not an array of layer indices (whole numbers >= 0)");
    order.push_back(static_cast<int>(v->get()));
  }
  return order;
}

void read_batch(const toml::table& batch, Scenario& base, const std::string& libdir,
                std::vector<VariantSpec>& explicit_v, std::vector<SweepAxis>& axes) {
  const std::string& file = base.file;
  TableReader br(batch, file, "batch");
  const toml::array* vars = br.array("variants");
  const toml::table* sweep = br.subtable("sweep");
  br.finish();

  // The reordered scenario each explicit variant starts from (path checks).
  std::vector<Scenario> shapes;
  std::set<std::string> labels;
  if (vars) {
    for (size_t i = 0; i < vars->size(); ++i) {
      const std::string vk = fmt::format("batch.variants[{}]", i);
      const toml::table* t = vars->get(i)->as_table();
      if (!t)
        throw ScenarioError(fmt::format(
            "{}: {} = {} is not a table; write [[batch.variants]] with label, layer_order, set",
            file, vk, detail::show_node(*vars->get(i))));
      TableReader vr(*t, file, vk);
      VariantSpec v;
      v.label = vr.string("label").value_or(fmt::format("variant {}", i));
      if (v.label.empty()) vr.fail("label", "is empty; allowed a non-empty label");
      if (!labels.insert(v.label).second)
        vr.fail("label", "is used by an earlier variant; labels must be unique");
      v.layer_order = read_layer_order(vr);
      Scenario shape;
      shape.file = base.file;
      shape.layers = base.layers;
      shape.materials = base.materials;
      if (!v.layer_order.empty()) {
        try {
          apply_layer_order(shape, v.layer_order);
        } catch (const std::invalid_argument& e) {
          throw ScenarioError(fmt::format("{}: {}.{}", file, vk, e.what()));
        }
      }
      if (const toml::table* set = vr.subtable("set")) {
        std::vector<std::pair<std::string, const toml::node*>> leaves;
        flatten(*set, "", leaves, false);
        for (const auto& [path, node] : leaves) {
          const std::string key = fmt::format("{}.set.{}", vk, toml_key(path));
          const double value = detail::node_number(*node, file, key, unit_of_path(path));
          const std::string why = check_override_path(shape, path);
          if (!why.empty())
            throw ScenarioError(fmt::format("{}: {} = {}: bad override path: {}", file, key,
                                            format_number(value), why));
          v.overrides[path] = value;
        }
      }
      // Material overrides: "layers[i].materials[j].name" = "library name".
      if (const toml::table* setm = vr.subtable("set_material")) {
        std::vector<std::pair<std::string, const toml::node*>> leaves;
        flatten(*setm, "", leaves, false);
        for (const auto& [path, node] : leaves) {
          const std::string key = fmt::format("{}.set_material.{}", vk, toml_key(path));
          auto name = node->as_string();
          if (!name)
            throw ScenarioError(fmt::format("{}: {} = {} is not a string; allowed a library "
                                            "material name such as \"NVP\"",
                                            file, key, detail::show_node(*node)));
          load_material(base, &shape, libdir, name->get(), key);
          const std::string why = check_material_override(shape, path, name->get());
          if (!why.empty())
            throw ScenarioError(fmt::format("{}: {} = \"{}\": bad material override: {}", file,
                                            key, name->get(), why));
          v.material_overrides[path] = name->get();
        }
      }
      vr.finish();
      explicit_v.push_back(std::move(v));
      shapes.push_back(std::move(shape));
    }
  }
  if (shapes.empty()) {
    Scenario shape;
    shape.file = base.file;
    shape.layers = base.layers;
    shape.materials = base.materials;
    shapes.push_back(std::move(shape));
  }

  if (sweep) {
    std::vector<std::pair<std::string, const toml::node*>> leaves;
    flatten(*sweep, "", leaves, true);
    if (leaves.empty())
      throw ScenarioError(fmt::format("{}: batch.sweep is empty; give at least one path = values "
                                      "or remove the table",
                                      file));
    for (const auto& [path, node] : leaves) {
      const std::string key = fmt::format("batch.sweep.{}", toml_key(path));
      const Unit unit = unit_of_path(path);
      SweepAxis axis;
      axis.path = path;
      if (const toml::array* a = node->as_array()) {
        if (a->empty())
          throw ScenarioError(fmt::format(
              "{}: {} = [] is empty; allowed a non-empty array of numbers or {{ from, to, count, "
              "log }}",
              file, key));
        for (size_t i = 0; i < a->size(); ++i)
          axis.values.push_back(
              detail::node_number(*a->get(i), file, fmt::format("{}[{}]", key, i), unit));
      } else if (const toml::table* t = node->as_table()) {
        TableReader tr(*t, file, key);
        auto from = tr.number("from", unit);
        auto to = tr.number("to", unit);
        auto count = tr.integer("count");
        const toml::node* logn = tr.node("log");
        tr.finish();
        if (!from) tr.missing("from", "a number");
        if (!to) tr.missing("to", "a number");
        if (!count) tr.missing("count", "a whole number >= 1");
        bool log = false;
        if (logn) {
          if (!logn->is_boolean()) tr.fail("log", "is not true or false");
          log = logn->as_boolean()->get();
        }
        if (*count < 1) tr.fail("count", "is out of range; allowed count >= 1");
        try {
          axis.values = sweep_values(*from, *to, *count, log);
        } catch (const std::invalid_argument& e) {
          throw ScenarioError(fmt::format("{}: {} = {}: {}", file, key, detail::show_node(*node),
                                          e.what()));
        }
      } else {
        throw ScenarioError(fmt::format(
            "{}: {} = {} is not a sweep; allowed an array of numbers [a, b, ...] or "
            "{{ from = a, to = b, count = n, log = false }}",
            file, key, detail::show_node(*node)));
      }
      for (size_t i = 0; i < shapes.size(); ++i) {
        const std::string why = check_override_path(shapes[i], path);
        if (!why.empty())
          throw ScenarioError(fmt::format(
              "{}: {} = {}: bad override path{}: {}", file, key, detail::show_node(*node),
              explicit_v.empty() ? ""
                                 : fmt::format(" for variant \"{}\"", explicit_v[i].label),
              why));
      }
      axes.push_back(std::move(axis));
    }
  }
}

// ---------------------------------------------------------------------------

std::string library_dir_for(const std::string& scenario_path, const std::optional<std::string>& lib) {
  if (!lib) return default_library_dir();
  fs::path p(*lib);
  if (p.is_absolute()) return p.lexically_normal().string();
  fs::path base = fs::path(scenario_path).parent_path();
  fs::path full = base.empty() ? p : base / p;
  return full.lexically_normal().string();
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

Scenario load_scenario(const std::string& path) {
  return load_scenario_text(read_text_file(path), path);
}

Scenario load_scenario_text(const std::string& toml_text, const std::string& path) {
  const std::string& file = path;
  toml::table root = detail::parse_toml(toml_text, path);
  TableReader r(root, file, "");
  Scenario s;
  s.file = path;
  s.text = toml_text;

  // [scenario]
  {
    const toml::table& t = r.required_subtable("scenario");
    TableReader tr(t, file, "scenario");
    s.name = tr.required_string("name");
    if (s.name.empty()) tr.fail("name", "is empty; allowed a non-empty name");
    s.description = tr.string("description").value_or("");
    tr.finish();
  }

  // [library]
  std::optional<std::string> lib;
  if (const toml::table* t = r.subtable("library")) {
    TableReader tr(*t, file, "library");
    lib = tr.string("path");
    tr.finish();
  }
  const std::string libdir = library_dir_for(path, lib);
  if (std::error_code ec; !fs::is_directory(libdir, ec)) {
    const std::string where = fs::absolute(libdir, ec).lexically_normal().string();
    const char* env = std::getenv("STRATA_MATERIALS_DIR");
    if (lib)
      throw ScenarioError(fmt::format("{}: library.path = \"{}\" names no directory ({}{}); allowed the directory "
                                      "of the material and electrolyte files",
                                      file, *lib, where,
                                      fs::path(*lib).is_absolute() ? "" : ", relative to the scenario file's directory"));
    throw ScenarioError(fmt::format("{}: the material library directory {} does not exist ({}); set [library] path "
                                    "in the scenario or STRATA_MATERIALS_DIR to the directory of the material files",
                                    file, where,
                                    env && *env ? "from the environment variable STRATA_MATERIALS_DIR"
                                                : "the default: the source tree's materials/"));
  }

  // [electrolyte]
  std::string electrolyte_name;
  double c0 = 1000.0;
  {
    const toml::table& t = r.required_subtable("electrolyte");
    TableReader tr(t, file, "electrolyte");
    electrolyte_name = tr.required_string("material");
    c0 = tr.number("initial_concentration_mol_m3", kMolM3, c0);
    tr.finish();
  }

  // [cell]
  if (const toml::table* t = r.subtable("cell")) {
    TableReader tr(*t, file, "cell");
    Cell& c = s.cell;
    c.temperature_K = tr.number("temperature_K", kK, c.temperature_K);
    c.area_m2 = tr.number("area_m2", kM2, c.area_m2);
    c.contact_resistance_ohm_m2 =
        tr.number("contact_resistance_ohm_m2", kOhmM2, c.contact_resistance_ohm_m2);
    c.electrode_tortuosity_scale =
        tr.number("electrode_tortuosity_scale", kNone, c.electrode_tortuosity_scale);
    c.reference_position_fraction =
        tr.number("reference_position_fraction", kNone, c.reference_position_fraction);
    c.initial_soc = tr.number("initial_soc", kNone, c.initial_soc);
    if (auto m = tr.one_of("measured_against", {{"reference"}, {"counter"}})) {
      c.measured_against_counter = *m == "counter";
      if (c.measured_against_counter && t->contains("reference_position_fraction"))
        throw ScenarioError(fmt::format(
            "{}: cell.measured_against = \"counter\" and cell.reference_position_fraction = {} are both given; "
            "allowed one of the two: a two-electrode potential has no reference electrode",
            file, format_number(c.reference_position_fraction)));
    }
    if (auto ce = tr.one_of("counter_electrode", {{"metal"}, {"ideal"}, {"porous"}})) {
      c.counter_ideal = *ce == "ideal";
      c.counter_porous = *ce == "porous";
    }
    c.counter_exchange_current_density_A_m2 = tr.number(
        "counter_exchange_current_density_A_m2", kAM2, c.counter_exchange_current_density_A_m2);
    tr.finish();
  }

  // [separator]
  {
    const toml::table& t = r.required_subtable("separator");
    TableReader tr(t, file, "separator");
    Separator& S = s.separator;
    S.thickness_m = tr.required_number("thickness_m", kM);
    S.porosity = tr.required_number("porosity", kNone);
    read_transport(tr, S.use_bruggeman, S.tortuosity, S.bruggeman_exponent);
    S.nodes = read_int(tr, "nodes", 2, 1000, 0);
    tr.finish();
  }

  // [counter_electrode]: required by, and only allowed with, cell.counter_electrode = "porous"
  if (const toml::table* t = r.subtable("counter_electrode")) {
    TableReader tr(*t, file, "counter_electrode");
    if (!s.cell.counter_porous)
      throw ScenarioError(fmt::format("{}: [counter_electrode] is given but cell.counter_electrode is not \"porous\"; "
                                      "set cell.counter_electrode = \"porous\" or remove the table",
                                      file));
    PorousCounter& C = s.counter;
    C.material = tr.required_string("material");
    C.thickness_m = tr.required_number("thickness_m", kM);
    C.porosity = tr.required_number("porosity", kNone);
    C.solid_volume_fraction = tr.number("solid_volume_fraction", kNone, C.solid_volume_fraction);
    C.particle_radius_m = tr.required_number("particle_radius_m", kM);
    read_transport(tr, C.use_bruggeman, C.tortuosity, C.bruggeman_exponent);
    C.nodes = read_int(tr, "nodes", 2, 1000, 0);
    tr.finish();
    load_material(s, nullptr, libdir, C.material, "counter_electrode.material");
  } else if (s.cell.counter_porous) {
    throw ScenarioError(fmt::format("{}: cell.counter_electrode = \"porous\" needs a [counter_electrode] table "
                                    "(material, thickness_m, porosity, particle_radius_m; docs/scenario-format.md)",
                                    file));
  }

  // [[layers]]
  {
    const toml::node* ln = r.node("layers");
    if (!ln) r.missing("layers", "one [[layers]] table per sub-layer, the first at the current collector");
    const toml::array* la = ln->as_array();
    if (!la || !la->is_array_of_tables())
      r.fail("layers", "is not an array of tables; write one [[layers]] table per sub-layer");
    if (la->empty() || la->size() > static_cast<size_t>(kMaxLayers))
      throw ScenarioError(fmt::format("{}: layers has {} entries; allowed 1 to {} layers (at most {})",
                                      file, la->size(), kMaxLayers, kMaxLayers));
    for (size_t i = 0; i < la->size(); ++i) {
      const toml::table& t = *la->get(i)->as_table();
      TableReader tr(t, file, fmt::format("layers[{}]", i));
      Layer L;
      L.thickness_m = tr.required_number("thickness_m", kM);
      L.porosity = tr.required_number("porosity", kNone);
      read_transport(tr, L.use_bruggeman, L.tortuosity, L.bruggeman_exponent);
      L.conductivity_S_m = tr.required_number("conductivity_S_m", kSM);
      L.contact_resistance_ohm_m2 = tr.number("contact_resistance_ohm_m2", kOhmM2, L.contact_resistance_ohm_m2);
      L.nodes = read_int(tr, "nodes", 2, 1000, 0);
      const toml::node* mn = tr.node("materials");
      if (!mn) tr.missing("materials", "one or more [[layers.materials]] tables");
      const toml::array* ma = mn->as_array();
      if (!ma || !ma->is_array_of_tables())
        tr.fail("materials", "is not an array of tables; write [[layers.materials]] tables");
      if (ma->empty() || ma->size() > static_cast<size_t>(kMaxMaterialsPerLayer))
        throw ScenarioError(fmt::format("{}: {} has {} entries; allowed 1 to {} materials per layer",
                                        file, tr.key_path("materials"), ma->size(),
                                        kMaxMaterialsPerLayer));
      for (size_t j = 0; j < ma->size(); ++j) {
        TableReader mr(*ma->get(j)->as_table(), file,
                       fmt::format("layers[{}].materials[{}]", i, j));
        LayerMaterial m;
        m.material = mr.required_string("name");
        m.solid_volume_fraction = mr.required_number("solid_volume_fraction", kNone);
        m.particle_radius_m = mr.required_number("particle_radius_m", kM);
        mr.finish();
        if (!s.materials.count(m.material)) {
          try {
            s.materials.emplace(m.material, load_active_material(libdir, m.material));
          } catch (const ScenarioError& e) {
            throw ScenarioError(fmt::format("{}: {} = \"{}\": {}", file, mr.key_path("name"),
                                            m.material, e.what()));
          }
        }
        L.materials.push_back(std::move(m));
      }
      tr.finish();
      s.layers.push_back(std::move(L));
    }
  }

  // Electrolyte from the library.
  try {
    s.electrolyte = load_electrolyte(libdir, electrolyte_name);
  } catch (const ScenarioError& e) {
    throw ScenarioError(
        fmt::format("{}: electrolyte.material = \"{}\": {}", file, electrolyte_name, e.what()));
  }
  s.electrolyte.initial_concentration_mol_m3 = c0;

  // [numerics]
  if (const toml::table* t = r.subtable("numerics")) {
    TableReader tr(*t, file, "numerics");
    Numerics& n = s.numerics;
    n.nodes_per_layer = read_int(tr, "nodes_per_layer", 2, 1000, n.nodes_per_layer);
    n.cell_size_m = tr.number("cell_size_m", kM, n.cell_size_m);
    n.min_nodes_per_layer = read_int(tr, "min_nodes_per_layer", 2, 1000, n.min_nodes_per_layer);
    n.separator_nodes = read_int(tr, "separator_nodes", 2, 1000, n.separator_nodes);
    n.particle_shells = read_int(tr, "particle_shells", 3, 1000, n.particle_shells);
    n.particle_shell_ratio = tr.number("particle_shell_ratio", kNone, n.particle_shell_ratio);
    if (auto mesh = tr.one_of("particle_mesh",
                              {{"geometric", "shell thicknesses in the ratio particle_shell_ratio toward the surface"},
                               {"equal_volume"}})) {
      n.particle_equal_volume = *mesh == "equal_volume";
      if (n.particle_equal_volume && t->contains("particle_shell_ratio"))
        tr.fail("particle_shell_ratio", "is not used with numerics.particle_mesh = \"equal_volume\" (shells of "
                                        "equal volume); remove it, or use particle_mesh = \"geometric\"");
    }
    if (t->contains("nodes_per_layer") && n.cell_size_m > 0.0)
      tr.fail("nodes_per_layer", "is not used with numerics.cell_size_m (each layer then gets cells in proportion "
                                 "to its thickness, at least min_nodes_per_layer); remove one of the two");
    if (t->contains("min_nodes_per_layer") && !(n.cell_size_m > 0.0))
      tr.fail("min_nodes_per_layer", "is not used without numerics.cell_size_m (it is the floor of the cells in "
                                     "proportion to thickness); give cell_size_m, or remove it");
    if (auto scheme = tr.one_of("time_integrator",
                                {{"backward_euler", "first order"}, {"bdf2", "second order, variable step"}}))
      n.time_order = *scheme == "bdf2" ? 2 : 1;
    n.relative_tolerance = tr.number("relative_tolerance", kNone, n.relative_tolerance);
    n.max_step_s = tr.number("max_step_s", kS, n.max_step_s);
    n.voltage_event_tolerance_V =
        tr.number("voltage_event_tolerance_V", kV, n.voltage_event_tolerance_V);
    n.max_steps_per_protocol_step =
        read_int(tr, "max_steps_per_protocol_step", 1, 1000000000, n.max_steps_per_protocol_step);
    n.newton_max_contraction = tr.number("newton_max_contraction", kNone, n.newton_max_contraction);
    if (auto controller = tr.one_of(
            "step_controller",
            {{"predictive", "Gustafsson's controller, from the trend of the error over the last two steps"},
             {"standard", "from the last step's error alone"}}))
      n.predictive_step_control = *controller == "predictive";
    tr.finish();
  }

  // [protocol]
  {
    const toml::table& t = r.required_subtable("protocol");
    TableReader tr(t, file, "protocol");
    s.protocol.nominal_capacity_mAh_g =
        tr.number("nominal_capacity_mAh_g", kMAhG, s.protocol.nominal_capacity_mAh_g);
    const toml::node* sn = tr.node("steps");
    if (!sn) tr.missing("steps", "an array of step strings and repeat blocks");
    const toml::array* sa = sn->as_array();
    if (!sa)
      tr.fail("steps", "is not an array; allowed [\"Charge at 1C until 3.6 V\", { repeat = 2, "
                       "steps = [...] }, ...]");
    tr.finish();
    ProtocolExpander ex{file, s.protocol, {}};
    ex.expand(*sa, "protocol.steps", 0);
  }

  // [batch] is read after validation of the base (paths are checked against it).
  const toml::table* batch = r.subtable("batch");
  // [[objectives]] and [output] are read last: they refer to protocol steps and variants.
  const toml::node* objectives = r.node("objectives");
  const toml::table* output = r.subtable("output");
  // [design] after [[objectives]]: design.objective names one.
  const toml::table* design = r.subtable("design");
  // [fit]: its targets name variants, its parameters are checked on the explicit ones.
  const toml::table* fit = r.subtable("fit");
  r.finish();

  validate_scenario(s, file);

  std::vector<VariantSpec> explicit_v;
  std::vector<SweepAxis> axes;
  if (batch) read_batch(*batch, s, libdir, explicit_v, axes);
  try {
    s.variants = expand_variants(explicit_v, axes, s.name, kMaxVariants);
  } catch (const std::invalid_argument& e) {
    throw ScenarioError(fmt::format("{}: batch: {}", file, e.what()));
  }

  // Every variant must be valid: apply each to a light copy of the base.
  Scenario light = s;
  light.text.clear();
  light.variants.clear();
  light.protocol.steps.clear();
  light.protocol.step_texts.clear();
  light.protocol.steps.push_back(ProtocolStep{});  // keep validate_scenario's step check happy
  light.protocol.step_texts.push_back("");
  for (const VariantSpec& v : s.variants) (void)apply_variant(light, v);

  s.objectives = read_objectives(objectives, s);
  s.output = read_output(output, s);
  s.design = read_design(design, s, light, libdir);
  if (s.numerics.cell_size_m > 0.0 && s.design.total_thickness_m > 0.0) {
    // The thickness fractions move the cells between layers: every design of the search
    // has at least this many, which the base scenario's total-cells check does not see.
    const long cells = static_cast<long>(cells_covering(s.design.total_thickness_m, s.numerics.cell_size_m)) +
                       static_cast<long>(s.layers.size()) - 1 + separator_nodes(s) + counter_nodes(s);
    if (cells > kMaxCells)
      throw ScenarioError(fmt::format(
          "{}: numerics.cell_size_m = {} with design.total_thickness_m = {} gives at least {} cells per design; "
          "allowed at most {} in the layers, the separator and a porous counter: raise numerics.cell_size_m",
          file, format_number(s.numerics.cell_size_m), format_number(s.design.total_thickness_m), cells, kMaxCells));
  }
  s.fit = read_fit(fit, s, light, explicit_v);
  return s;
}

}  // namespace strata
