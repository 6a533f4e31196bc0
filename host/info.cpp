#include "host/info.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "host/population_reader.hpp"
#include "host/results_store.hpp"
#include "host/writer_lock.hpp"

namespace strata {

namespace {

// ">= lo", "<= hi" or "in [lo, hi]": a bound beyond 1e299 is none (ConstraintSpec's default).
std::string bounds_text(double lo, double hi) {
  if (hi >= 1e299) return fmt::format(">= {:g}", lo);
  if (lo <= -1e299) return fmt::format("<= {:g}", hi);
  return fmt::format("in [{:g}, {:g}]", lo, hi);
}

// Per row: whether every constraint metric of a design search lies within its bounds
// (a failed design's NaN does not); all true without constraints. Prints the summary.
std::vector<bool> feasible_rows(hid_t f, size_t rows) {
  std::vector<bool> ok(rows, true);
  const std::string group = "population/constraint";
  if (!h5::exists(f, group)) return ok;
  std::vector<std::string> paths;
  h5::list_datasets(h5::open_group(f, group).id(), group, paths);
  if (paths.empty()) return ok;
  std::string what;
  for (const std::string& path : paths) {
    h5::Handle d(H5Dopen2(f, path.c_str(), H5P_DEFAULT));
    auto bound = [&](const char* attr, double none) {
      return H5Aexists(d.id(), attr) > 0 ? h5::get_attr_double(d.id(), attr) : none;
    };
    const double lo = bound("min", -1e300), hi = bound("max", 1e300);
    const std::vector<double> v = h5::read_float64(f, path);
    for (size_t r = 0; r < rows; ++r)
      if (!(r < v.size() && v[r] >= lo && v[r] <= hi)) ok[r] = false;
    const std::string units = h5::get_attr_string(d.id(), "units");
    what += fmt::format("{}{} {}{}", what.empty() ? "" : ", ", path.substr(group.size() + 1), bounds_text(lo, hi),
                        units.empty() ? "" : " " + units);
  }
  fmt::print("constraints: {} of {} designs meet {}; the objectives' best are of those\n",
             std::count(ok.begin(), ok.end(), true), rows, what);
  return ok;
}

}  // namespace

int print_info(const std::string& path, int top) {
  try {
    const ResultsStore store = ResultsStore::open_read(path);
    const hid_t f = store.file();
    h5::Handle meta = h5::open_group(f, "meta");
    fmt::print("file:      {}\n", path);
    fmt::print("scenario:  {} ({})\n", h5::get_attr_string(meta.id(), "scenario_name"),
               h5::get_attr_string(meta.id(), "scenario_file"));
    fmt::print("program:   strata {} ({}), {}\n", h5::get_attr_string(meta.id(), "version"),
               h5::get_attr_string(meta.id(), "git_revision"), h5::get_attr_string(meta.id(), "device"));
    const std::string run_status = h5::get_attr_string(meta.id(), "status");
    const std::optional<std::string> writer = WriterLock::holder(path);
    if (writer)  // the file at the path is the run's last commit (host/committed_h5_file.hpp)
      fmt::print("run:       running now ({}), as of its last commit\n", *writer);
    else if (run_status == "running")  // no writer holds the lock here
      fmt::print("run:       running when last written: killed, or still going on another machine "
                 "(started {}; --resume continues it)\n", h5::get_attr_string(meta.id(), "start_time"));
    else
      fmt::print("run:       {} (started {}, ended {})\n", run_status, h5::get_attr_string(meta.id(), "start_time"),
                 h5::get_attr_string(meta.id(), "end_time"));
    const std::vector<int64_t> ids = h5::read_int64(f, "population/design_id");
    const std::vector<int32_t> status = h5::read_int32(f, "population/status");
    const std::vector<std::string> labels = h5::read_strings(f, "population/label");
    const std::vector<std::string> reasons = h5::read_strings(f, "population/reason");
    if (H5Aexists(meta.id(), "design_objective") > 0)  // a design search: n_designs is its budget
      fmt::print("designs:   {} evaluated (budget {} evaluations)\n", ids.size(),
                 h5::get_attr_int(meta.id(), "n_designs"));
    else
      fmt::print("designs:   {} of {} in the scenario's batch\n", ids.size(), h5::get_attr_int(meta.id(), "n_designs"));
    if (H5Aexists(meta.id(), "shard_count") > 0)
      fmt::print("shard:     {}/{} (strata merge combines the shards)\n", h5::get_attr_int(meta.id(), "shard_index"),
                 h5::get_attr_int(meta.id(), "shard_count"));
    if (H5Aexists(meta.id(), "merged_from") > 0)
      fmt::print("merged:    from {} shard file(s)\n", h5::get_attr_strings(meta.id(), "merged_from").size());
    std::map<std::string, int> by_reason;
    for (size_t k = 0; k < ids.size(); ++k) ++by_reason[status[k] == 0 ? std::string("ok") : reasons[k]];
    for (const auto& [reason, n] : by_reason) fmt::print("  {:>7}  {}\n", n, reason);
    try {  // the notes are a courtesy: a file a kill left uneven still gets its summary
      for (const std::string& note : step_end_notes_of_file(store)) fmt::print("note:      {}\n", note);
    } catch (const std::exception& e) {
      fmt::print("note:      step ends not read ({})\n", e.what());
    }

    const std::vector<bool> feasible = feasible_rows(f, ids.size());
    h5::Handle obj = h5::open_group(f, "population/objective");
    H5G_info_t gi;
    H5Gget_info(obj.id(), &gi);
    for (hsize_t k = 0; k < gi.nlinks; ++k) {
      char name[256];
      H5Lget_name_by_idx(obj.id(), ".", H5_INDEX_NAME, H5_ITER_INC, k, name, sizeof name, H5P_DEFAULT);
      h5::Handle d(H5Dopen2(obj.id(), name, H5P_DEFAULT));
      const bool maximize = h5::get_attr_string(d.id(), "sense") != "minimize";
      const std::string units = h5::get_attr_string(d.id(), "units");
      const std::vector<double> v = h5::read_float64(obj.id(), name);
      std::vector<size_t> order;
      for (size_t r = 0; r < v.size() && r < feasible.size(); ++r)
        if (std::isfinite(v[r]) && feasible[r]) order.push_back(r);
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return maximize ? v[a] > v[b] : v[a] < v[b]; });
      fmt::print("objective {} ({}, {}): best {}\n", name, maximize ? "maximize" : "minimize", units,
                 std::min<size_t>(top, order.size()));
      for (size_t r = 0; r < order.size() && (int)r < top; ++r)
        fmt::print("  design {:>6}  {:>12.6g}  {}\n", ids[order[r]], v[order[r]], labels[order[r]]);
    }
    h5::Handle tr = h5::open_group(f, "trajectories");
    H5Gget_info(tr.id(), &gi);
    std::vector<long> tids;
    for (hsize_t k = 0; k < gi.nlinks; ++k) {
      char name[64];
      H5Lget_name_by_idx(tr.id(), ".", H5_INDEX_NAME, H5_ITER_INC, k, name, sizeof name, H5P_DEFAULT);
      tids.push_back(std::stol(name));
    }
    std::sort(tids.begin(), tids.end());
    std::string list;
    for (size_t k = 0; k < tids.size() && k < 20; ++k) list += (k ? ", " : "") + std::to_string(tids[k]);
    if (tids.size() > 20) list += ", ...";
    fmt::print("trajectories: {} design(s){}{}\n", tids.size(), tids.empty() ? "" : ": ", list);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace strata
