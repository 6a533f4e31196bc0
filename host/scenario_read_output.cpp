// [output] and its profiles. Both refer to steps of the expanded protocol (s0, s1, ...
// as `strata simulate` prints them) and output.design_ids to variants, so they are
// read once the protocol is expanded and the variants are known.
#define STRATA_TOML_READER 1
#include "host/scenario_reading.hpp"

#include <fmt/format.h>

#include <climits>
#include <set>
#include <string>

namespace strata::scenario_reading {

using detail::TableReader;
using namespace detail;  // the unit constants (kM, kV, ...)

namespace {

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

}  // namespace

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
    check_objective_name(tr, "best_by", *best_by, s.objectives);
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

}  // namespace strata::scenario_reading
