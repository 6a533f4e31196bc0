#include "host/simulate.hpp"

#include <omp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "host/background_writer.hpp"
#include "host/build_info.hpp"
#include "host/cpu_backend.hpp"
#include "host/csv_export.hpp"
#include "host/population_reader.hpp"
#include "host/population_rank.hpp"
#include "host/variant_runner.hpp"
#include "host/interrupt.hpp"
#include "host/results_store.hpp"
#include "host/progress_bar.hpp"
#include "host/results.hpp"
#include "host/scenario_loader.hpp"

namespace strata {

std::vector<ResolvedVariant> resolve_variants(const Scenario& base) {
  const Scenario light = light_base(base);
  std::vector<ResolvedVariant> out;
  out.reserve(base.variants.size());
  for (const VariantSpec& spec : base.variants) out.push_back(resolve_variant(light, spec));
  return out;
}

ResolvedVariant resolve_variant(const Scenario& light, const VariantSpec& spec) {
  ResolvedVariant rv;
  rv.label = spec.label;
  try {
    rv.scenario = apply_variant(light, spec);
  } catch (const ScenarioError& e) {
    rv.scenario = light;
    rv.rejected = e.what();
  }
  return rv;
}

std::unique_ptr<VariantRunner> make_runner_reporting(const SimulateOptions& opt, const Scenario& base) {
  try {
    return make_runner(opt.make_runner, base, opt.threads, opt.layout);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return nullptr;
  }
}

bool load_scenario_reporting(const std::string& path, Scenario& out) {
  try {
    out = load_scenario(path);
    return true;
  } catch (const ScenarioError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return false;
  }
}

std::string lowercase_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

bool names_hdf5_file(const std::string& path) {
  const std::string ext = lowercase_extension(path);
  return ext == ".h5" || ext == ".hdf5" || ext == ".he5" || ext == ".hdf";
}

std::string results_path(const SimulateOptions& opt, const std::string& stem) {
  if (!opt.resume.empty()) return opt.resume;
  const std::filesystem::path out(opt.out);
  return names_hdf5_file(out.string()) ? out.string() : (out / (stem + ".h5")).string();
}

std::optional<ResultsStore> open_results_reporting(const SimulateOptions& opt, const std::string& path,
                                                   const RunInfo& info) {
  try {
    return opt.resume.empty() ? ResultsStore::create(path, info, opt.overwrite) : ResultsStore::resume(path, info);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return std::nullopt;
  }
}

namespace {

// The table of a run: the scenario's objectives when it defines any (retentions,
// capacities), else the capacity of every current-passing step (the last 8).
void print_table(const Scenario& base, const std::vector<VariantResult>& results) {
  const std::vector<ProtocolStep>& steps = base.protocol.steps;
  const std::vector<std::string>& texts = base.protocol.step_texts;
  const bool by_objective = !base.objectives.empty();
  std::vector<size_t> cols;
  if (by_objective) {
    for (size_t k = 0; k < base.objectives.size(); ++k) cols.push_back(k);
  } else {
    for (size_t k = 0; k < steps.size(); ++k)
      if (steps[k].kind != StepKind::Rest) cols.push_back(k);
  }
  const size_t max_cols = 8;
  const bool cut = cols.size() > max_cols;
  if (cut) cols.erase(cols.begin(), cols.end() - max_cols);  // the last ones: the rate test's end
  // Labels up to 100 characters; a longer one keeps both ends (a sweep's label names the
  // slowest-varying value first and the fastest last).
  constexpr size_t kLabelWidth = 100;
  auto shown = [](const std::string& label) {
    if (label.size() <= kLabelWidth) return label;
    const size_t tail = (kLabelWidth - 3) / 2, head = kLabelWidth - 3 - tail;
    return label.substr(0, head) + "..." + label.substr(label.size() - tail);
  };
  size_t wl = 5;
  for (const auto& r : results) wl = std::max(wl, std::min<size_t>(r.label.size(), kLabelWidth));
  // Columns as wide as their names (at least 14).
  std::vector<size_t> width;
  for (size_t k : cols) width.push_back(by_objective ? std::max<size_t>(14, base.objectives[k].name.size()) : 14);
  std::string head = fmt::format("{:>5}  {:<{}}  {:>6}", "id", "label", wl, "status");
  for (size_t c = 0; c < cols.size(); ++c)
    head += fmt::format("  {:>{}}", by_objective ? base.objectives[cols[c]].name : fmt::format("s{} mAh/g", cols[c]),
                        width[c]);
  fmt::print("{}\n", head);
  if (by_objective) {
    // What each column is, with its unit, and the steps they name.
    std::set<int> named;
    for (size_t k : cols) {
      const ObjectiveSpec& o = base.objectives[k];
      std::string what;
      if (o.kind == "retention") {
        what = fmt::format("capacity of s{} / capacity of s{}", o.step, o.reference_step);
        named.insert({o.step, o.reference_step});
      } else if (o.kind == "weighted_sum") {
        for (size_t t = 0; t < o.term_objectives.size(); ++t)
          what += fmt::format("{}{:g} {}", t ? " + " : "", o.term_weights[t], o.term_objectives[t]);
      } else {
        what = fmt::format("{} of s{}", o.kind, o.step);
        named.insert(o.step);
      }
      fmt::print("  {} ({}, {}): {}\n", o.name, objective_units(o), o.maximize ? "maximize" : "minimize", what);
    }
    for (int k : named)
      if (k >= 0 && k < (int)texts.size()) fmt::print("  s{}: {}\n", k, texts[k]);
  } else {
    for (size_t k : cols) fmt::print("  s{}: {}\n", k, texts[k]);
    if (cut) fmt::print("  (earlier steps are in the results file)\n");
  }
  const size_t max_rows = 40;  // large sweeps: the file holds everything, `strata info` summarises it
  for (size_t k = 0; k < results.size() && k < max_rows; ++k) {
    const VariantResult& r = results[k];
    std::string line = fmt::format("{:>5}  {:<{}}  {:>6}", r.id, shown(r.label), wl, r.status == 0 ? "ok" : "FAIL");
    const std::vector<double> obj = by_objective ? objective_values(base.objectives, r) : std::vector<double>();
    for (size_t i = 0; i < cols.size(); ++i) {
      const size_t c = cols[i];
      if (by_objective) {
        line += std::isfinite(obj[c]) ? fmt::format("  {:>{}.5g}", obj[c], width[i]) : fmt::format("  {:>{}}", "-", width[i]);
        continue;
      }
      const StepResult& s = r.steps[c];
      line += s.end_reason == "not run" ? fmt::format("  {:>14}", "-") : fmt::format("  {:>14.3f}", s.capacity_mAh_g);
    }
    if (r.status != 0) {
      line += "  " + r.reason;
      for (size_t k = 0; k < r.steps.size() && k < texts.size(); ++k)
        if (r.steps[k].end_reason == "failed") {
          line += fmt::format(" (in s{}: {})", k, texts[k]);
          break;
        }
    }
    fmt::print("{}\n", line);
  }
  if (results.size() > max_rows)
    fmt::print("  ... {} more designs in the results file (strata info FILE summarises them)\n", results.size() - max_rows);
}

// A file name from the scenario name: letters, digits, '-', '_' and '.' kept, the
// rest replaced, leading dots replaced (so it cannot leave the output directory).
std::string file_stem_of(const std::string& name) {
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  for (size_t i = 0; i < out.size() && out[i] == '.'; ++i) out[i] = '_';
  return out.empty() ? std::string("run") : out;
}

}  // namespace

std::string safe_file_stem(const std::string& name) { return file_stem_of(name); }

std::string cpu_device_description(int threads) {
  std::ifstream f("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  return fmt::format("CPU: {}, {} threads", model, threads);
}

std::string layer_order_text(const VariantSpec& v) {
  std::string s;
  for (size_t k = 0; k < v.layer_order.size(); ++k) s += (k ? "," : "") + std::to_string(v.layer_order[k]);
  return s;
}

namespace {

PopulationRow make_row(const VariantResult& r, const VariantSpec& spec, const RunInfo& info, int batch) {
  PopulationRow row;
  row.result = r;
  for (const std::string& p : info.var_paths) {
    const auto it = spec.overrides.find(p);
    row.variables.push_back(it == spec.overrides.end() ? std::numeric_limits<double>::quiet_NaN() : it->second);
  }
  row.layer_order = layer_order_text(spec);
  row.objectives = objective_values(info.objectives, r);
  row.constraints = constraint_values(info.constraints, r);
  row.batch = batch;
  row.producer = "sweep";
  return row;
}

TrajectorySpec trajectory_spec_of(const OutputSpec& out) {
  TrajectorySpec ts;
  ts.enabled = 1;
  ts.capacity = out.trajectory_max_points;
  ts.interval_s = out.trajectory_interval_s;
  ts.n_profiles = static_cast<int>(std::min<size_t>(out.profiles.size(), kMaxProfiles));
  for (int k = 0; k < ts.n_profiles; ++k) {
    ts.profiles[k].step = out.profiles[k].step;
    ts.profiles[k].at = static_cast<ProfileAt>(static_cast<int>(out.profiles[k].at));
    ts.profiles[k].value = out.profiles[k].value;
  }
  return ts;
}

// Designs whose trajectories are kept after the sweep: the best k by an objective
// (from the file, so a resumed run sees every design) or a list.
std::vector<int64_t> selected_designs(const Scenario& base, const ResultsStore& store, RankDevice rank_device) {
  const OutputSpec& out = base.output;
  if (out.trajectories == "list") return std::vector<int64_t>(out.design_ids.begin(), out.design_ids.end());
  if (out.trajectories != "best") return {};
  const ObjectiveSpec* by = find_objective(base.objectives, out.best_by);
  const bool maximize = by ? by->maximize : true;
  const std::vector<int64_t> ids = h5::read_int64(store.file(), "population/design_id");
  const std::vector<int32_t> status = h5::read_int32(store.file(), "population/status");
  const std::vector<double> obj = h5::read_float64(store.file(), "population/objective/" + out.best_by);
  // Candidates in id order, then a stable ranking by objective (on the GPU for large
  // populations): the order is by objective, ties by design id.
  std::vector<std::pair<int64_t, double>> cand;
  for (size_t k = 0; k < ids.size(); ++k)
    if (status[k] == 0 && std::isfinite(obj[k])) cand.push_back({ids[k], maximize ? -obj[k] : obj[k]});
  std::sort(cand.begin(), cand.end());
  std::vector<double> keys(cand.size());
  for (size_t k = 0; k < cand.size(); ++k) keys[k] = cand[k].second;
  const std::vector<int> order = rank_ascending(keys, rank_device);
  std::vector<int64_t> best;
  for (size_t k = 0; k < order.size() && (int)k < out.best_k; ++k) best.push_back(cand[order[k]].first);
  return best;
}

}  // namespace

void record_trajectories(const Scenario& base, VariantRunner& runner, const std::vector<VariantSpec>& specs,
                         const std::vector<int64_t>& design_ids, ResultsStore& store) {
  if (specs.empty()) return;
  RunRequest req;
  req.specs = specs;
  req.ids = design_ids;
  req.record = true;
  req.trajectory_spec = trajectory_spec_of(base.output);
  req.name_trajectories = true;
  req.cancellable = true;
  RunOutcome out = runner.run(req);
  for (size_t v = 0; v < specs.size(); ++v)
    if (out.ran[v] && !store.has_trajectory(design_ids[v])) store.write_trajectory(std::move(out.trajectories[v]));
  store.flush();
}

ShardRange shard_range(const std::string& text, size_t n_designs) {
  ShardRange r;
  if (text.empty()) return r;
  const size_t slash = text.find('/');
  size_t used_i = 0, used_n = 0;
  long i = -1, count = 0;
  try {
    if (slash != std::string::npos) {
      i = std::stol(text.substr(0, slash), &used_i);
      count = std::stol(text.substr(slash + 1), &used_n);
    }
  } catch (const std::exception&) {
    i = -1;
  }
  if (slash == std::string::npos || used_i != slash || used_n != text.size() - slash - 1 || count < 1 || i < 0 ||
      i >= count)
    throw std::invalid_argument("--shard " + text + ": expected i/N with 0 <= i < N (e.g. 0/4 ... 3/4; Slurm: "
                                "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=0-3)");
  r.index = static_cast<int>(i);
  r.count = static_cast<int>(count);
  r.first = static_cast<int64_t>(n_designs * static_cast<size_t>(i) / static_cast<size_t>(count));
  r.end = static_cast<int64_t>(n_designs * static_cast<size_t>(i + 1) / static_cast<size_t>(count));
  return r;
}

int run_simulate(const SimulateOptions& opt) {
  Scenario base;
  if (!load_scenario_reporting(opt.scenario_path, base)) return 2;
  if (base.output.trajectories == "none" && !base.output.profiles.empty()) {
    // Profiles belong to recorded trajectories (strata optimize records its best
    // designs' whatever this says, so the loader allows the pair).
    std::cerr << fmt::format(
        "error: {}: output.profiles asks for {} profile(s), but output.trajectories = \"none\" (the default if "
        "unset) records no "
        "trajectory for strata simulate to put them in; set output.trajectories to \"all\", \"best\" or "
        "\"list\", or remove output.profiles\n",
        base.file, base.output.profiles.size());
    return 2;
  }
  const size_t n_designs = base.variants.size();
  ShardRange shard;
  try {
    shard = shard_range(opt.shard, n_designs);
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  const std::unique_ptr<VariantRunner> runner = make_runner_reporting(opt, base);
  if (!runner) return 2;
  const int threads = runner->threads();
  RunInfo info = run_info_for(base, opt.command, runner->device_description());
  if (shard.count > 0) {
    info.shard_index = shard.index;
    info.shard_count = shard.count;
  }

  const std::string stem = file_stem_of(base.name) +
                           (shard.count > 0 ? fmt::format("_shard{}of{}", shard.index, shard.count) : std::string());
  const std::string h5_path = results_path(opt, stem);
  std::optional<ResultsStore> store = open_results_reporting(opt, h5_path, info);
  if (!store) return 2;
  install_interrupt_handlers();
  const std::set<int64_t> done = store->design_ids();
  // Each design of this shard resolved once, keeping what the batching needs (its
  // shape) and whether it is rejected, not the resolved scenario: a sweep of millions
  // of designs would not fit (about 16 KB each). The runner resolves a batch again.
  const int64_t shard_first = shard.count > 0 ? shard.first : 0;
  const int64_t shard_end = shard.count > 0 ? shard.end : static_cast<int64_t>(n_designs);
  std::vector<ShapeKey> pending_shapes;
  std::vector<int> pending_ids;
  std::vector<char> rejected(static_cast<size_t>(shard_end - shard_first), 0);
  {
    const Scenario light = light_base(base);
    for (int64_t v = shard_first; v < shard_end; ++v) {
      const ResolvedVariant rv = resolve_variant(light, base.variants[v]);
      rejected[v - shard_first] = !rv.rejected.empty();
      if (done.count(v)) continue;
      pending_shapes.push_back(shape_key(rv));
      pending_ids.push_back(static_cast<int>(v));
    }
  }
  const bool record_all = base.output.trajectories == "all";
  const TrajectorySpec traj_spec = trajectory_spec_of(base.output);
  if (!opt.quiet) {
    fmt::print("strata {} ({}): scenario '{}' from {}: {} variants ({} already in the file), {} protocol steps, "
               "batches of {} -> {}\n",
               STRATA_VERSION, STRATA_GIT_REV, base.name, opt.scenario_path, n_designs, done.size(),
               base.protocol.steps.size(), base.output.batch_size, h5_path);
    if (!opt.device_note.empty()) fmt::print("{}\n", opt.device_note);
    if (const std::string note = runner->batch_note(base.output.batch_size); !note.empty()) fmt::print("{}\n", note);
    if (shard.count > 0)
      fmt::print("shard {}/{}: designs {} to {} of {}\n", shard.index, shard.count, shard.first, shard.end - 1,
                 n_designs);
  }

  ProgressBar bar(static_cast<int>(pending_ids.size()), "simulate");
  std::vector<VariantResult> results;
  BatchTotals tot;
  double wall_s = 0.0;
  int batch_index = store->next_batch(), done_now = 0, batches_run = 0;
  bool interrupted = false;
  BackgroundWriter writer;  // a batch's rows and trajectories are written while the next one runs
  try {
    // Variants of one shape side by side, cut into batches of batch_size: a batch may
    // hold the end of one shape and the start of the next (the runner makes a batch of
    // each, the CPU runs them as one pool), so a sweep whose cells follow its thickness
    // (numerics.cell_size_m) is not a small batch at the end of every shape.
    std::vector<int> order;
    for (const std::vector<int>& group : group_by_shape(pending_shapes))
      order.insert(order.end(), group.begin(), group.end());
    for (size_t first = 0; first < order.size() && !interrupted; first += base.output.batch_size) {
      const size_t last = std::min(order.size(), first + static_cast<size_t>(base.output.batch_size));
      RunRequest req;
      for (size_t k = first; k < last; ++k) {
        req.specs.push_back(base.variants[pending_ids[order[k]]]);
        req.ids.push_back(pending_ids[order[k]]);
      }
      req.record = record_all;
      req.trajectory_spec = traj_spec;
      req.name_trajectories = true;
      req.cancellable = true;
      std::function<void(int)> progress;
      if (!opt.quiet) progress = [&bar, done_now](int d) { bar.update(done_now + d); };
      RunOutcome out;
      try {
        out = runner->run(req, progress);
      } catch (const std::exception& e) {
        std::cerr << "error: " << opt.scenario_path << ": " << e.what() << "\n";
        writer.drain();
        store->finish("failed");
        return 2;
      }
      wall_s += out.wall_s;
      std::vector<PopulationRow> rows;
      std::vector<TrajectoryData> trajectories;
      for (size_t v = 0; v < req.specs.size(); ++v) {
        if (!out.ran[v]) continue;
        rows.push_back(make_row(out.results[v], req.specs[v], info, batch_index));
        results.push_back(out.results[v]);
        if (record_all) trajectories.push_back(std::move(out.trajectories[v]));
      }
      const int rows_done = static_cast<int>(rows.size());
      writer.submit([&store, rows = std::move(rows), trajectories = std::move(trajectories)]() mutable {
        store->append(std::move(rows));
        for (TrajectoryData& t : trajectories) store->write_trajectory(std::move(t));
        store->flush();
      });
      const BatchTotals& t = out.totals;
      tot.time_steps += t.time_steps;
      tot.newton_iterations += t.newton_iterations;
      tot.ok += t.ok;
      tot.failed += t.failed;
      done_now += rows_done;
      ++batch_index;
      ++batches_run;
      interrupted = interrupt_requested();
    }
    writer.drain();
    // Trajectories of the selected designs: re-simulated with recording on.
    if (!interrupted && !record_all) {
      std::vector<VariantSpec> sel;
      std::vector<int64_t> sel_ids;
      for (int64_t id : selected_designs(base, *store, opt.rank_device))
        if (id >= shard_first && id < shard_end && !store->has_trajectory(id) && !rejected[id - shard_first]) {
          sel.push_back(base.variants[id]);
          sel_ids.push_back(id);
        }
      record_trajectories(base, *runner, sel, sel_ids, *store);
      interrupted = interrupt_requested();
    }
    store->finish(interrupted ? "interrupted" : "complete");
  } catch (const h5::H5Error& e) {
    std::cerr << "error: writing " << h5_path << ": " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {  // a failure while recording trajectories (e.g. from another rank)
    std::cerr << "error: " << opt.scenario_path << ": " << e.what() << "\n";
    try {  // a write that failed (e.g. the file system) leaves the file as of its last commit
      writer.drain();
      store->finish("failed");
    } catch (const std::exception& w) {
      std::cerr << "error: writing " << h5_path << ": " << w.what() << "\n";
      return 3;
    }
    return 2;
  }
  if (!opt.quiet) {
    bar.finish();
    std::sort(results.begin(), results.end(), [](const VariantResult& a, const VariantResult& b) { return a.id < b.id; });
    print_table(base, results);
    fmt::print("\n{} variants in {} batch(es) ({} ok, {} failed) in {:.3f} s on {} CPU threads: {:.1f} variants/s, "
               "{:.0f} time steps/s, {:.2f} Newton iterations per step; HDF5 writing {:.3f} s "
               "({:.3f} s of it not hidden behind the next batch)\n",
               results.size(), batches_run, tot.ok, tot.failed, wall_s, threads, results.size() / std::max(wall_s, 1e-9),
               tot.time_steps / std::max(wall_s, 1e-9),
               tot.time_steps ? double(tot.newton_iterations) / tot.time_steps : 0.0, writer.write_s(),
               writer.waited_s());
    try {  // over the whole file, as strata info counts them
      for (const std::string& note : step_end_notes_of_file(ResultsStore::open_read(h5_path)))
        fmt::print("note: {}\n", note);
    } catch (const std::exception& e) {
      fmt::print("note: step ends not read ({})\n", e.what());
    }
    if (!runner->summary().empty()) fmt::print("{}\n", runner->summary());
    fmt::print("results: {}\n", h5_path);
  }
  if (opt.csv) {
    try {  // from the file: a resumed run's CSV holds the earlier designs too
      const std::string csv = csv_path_beside(h5_path);
      const size_t n = write_csv_of_results_file(h5_path, csv);
      if (!opt.quiet) fmt::print("csv: {} ({} designs)\n", csv, n);
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      return 3;
    }
  }
  // Exit status 0 all the same: in a sharded sweep a shard whose designs all fail is a
  // result (and a non-zero status would hold back the merge, afterok).
  if (tot.ok == 0 && tot.failed > 0)
    std::cerr << fmt::format("warning: all {} designs run failed (each row gives the reason); {} holds them\n",
                             tot.failed, h5_path);
  if (interrupted) {
    std::cerr << fmt::format("interrupted by signal {}: {} designs of {} are in {}; continue with --resume {}\n",
                             interrupt_signal(), done.size() + done_now, n_designs, h5_path, h5_path);
    return 130;
  }
  return 0;
}

}  // namespace strata
