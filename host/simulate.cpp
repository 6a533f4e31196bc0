#include "host/simulate.hpp"

#include <cctype>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "host/cpu_backend.hpp"
#include "host/progress_bar.hpp"
#include "host/results.hpp"
#include "host/scenario_loader.hpp"

namespace strata {

std::vector<ResolvedVariant> resolve_variants(const Scenario& base) {
  // Each variant copies the base: copy one without the variant list and the text,
  // or resolving N variants would cost O(N^2).
  Scenario light = base;
  light.variants.clear();
  light.text.clear();
  std::vector<ResolvedVariant> out;
  out.reserve(base.variants.size());
  for (const VariantSpec& spec : base.variants) {
    ResolvedVariant rv;
    rv.label = spec.label;
    try {
      rv.scenario = apply_variant(light, spec);
    } catch (const ScenarioError& e) {
      rv.scenario = light;
      rv.rejected = e.what();
    }
    out.push_back(std::move(rv));
  }
  return out;
}

namespace {

void print_table(const std::vector<ProtocolStep>& steps, const std::vector<std::string>& texts,
                 const std::vector<VariantResult>& results) {
  // Columns: every step that passes current (rests are in the CSV only).
  std::vector<size_t> cols;
  for (size_t k = 0; k < steps.size(); ++k)
    if (steps[k].kind != StepKind::Rest) cols.push_back(k);
  const size_t max_cols = 8;
  const bool cut = cols.size() > max_cols;
  if (cut) cols.erase(cols.begin(), cols.end() - max_cols);  // the last ones: the rate test's end
  size_t wl = 5;
  for (const auto& r : results) wl = std::max(wl, std::min<size_t>(r.label.size(), 40));
  std::string head = fmt::format("{:>5}  {:<{}}  {:>6}", "id", "label", wl, "status");
  for (size_t k : cols) head += fmt::format("  {:>10}", fmt::format("s{} mAh/g", k));
  fmt::print("{}\n", head);
  for (size_t k : cols) fmt::print("  s{}: {}\n", k, texts[k]);
  if (cut) fmt::print("  (earlier steps are in the CSV)\n");
  for (const auto& r : results) {
    std::string line = fmt::format("{:>5}  {:<{}}  {:>6}", r.id, r.label.substr(0, 40), wl, r.status == 0 ? "ok" : "FAIL");
    for (size_t k : cols) {
      const StepResult& s = r.steps[k];
      line += s.end_reason == "not run" ? fmt::format("  {:>10}", "-") : fmt::format("  {:>10.3f}", s.capacity_mAh_g);
    }
    if (r.status != 0) line += "  " + r.reason;
    fmt::print("{}\n", line);
  }
}

// A file name from the scenario name: letters, digits, '-', '_' and '.' kept, the
// rest replaced, leading dots replaced (so it cannot leave the output directory).
std::string safe_file_stem(const std::string& name) {
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  for (size_t i = 0; i < out.size() && out[i] == '.'; ++i) out[i] = '_';
  return out.empty() ? std::string("run") : out;
}

}  // namespace

int run_simulate(const SimulateOptions& opt) {
  Scenario base;
  try {
    base = load_scenario(opt.scenario_path);
  } catch (const ScenarioError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  std::vector<ResolvedVariant> vars = resolve_variants(base);
  const std::vector<std::vector<int>> groups = group_by_shape(vars);
  if (!opt.quiet)
    fmt::print("strata {} ({}): scenario '{}' from {}: {} variants in {} batch(es) of one shape each, {} protocol steps\n",
               STRATA_VERSION, STRATA_GIT_REV, base.name, opt.scenario_path, vars.size(), groups.size(),
               base.protocol.steps.size());
  ProgressBar bar(static_cast<int>(vars.size()), "simulate");
  std::vector<VariantResult> results(vars.size());
  BatchTotals tot;
  double wall_s = 0.0;
  int threads = 0, done_before = 0;
  for (const std::vector<int>& group : groups) {
    std::vector<ResolvedVariant> members;
    for (int v : group) members.push_back(vars[v]);
    Batch batch;
    try {
      batch = build_batch(members, opt.layout);
    } catch (const std::exception& e) {
      std::cerr << "error: " << opt.scenario_path << ": " << e.what() << "\n";
      return 2;
    }
    std::function<void(int)> progress;
    if (!opt.quiet) progress = [&bar, done_before](int done) { bar.update(done_before + done); };
    const RunStats stats = run_batch_cpu(batch, opt.threads, progress);
    wall_s += stats.wall_s;
    threads = stats.threads;
    done_before += batch.n_variants;
    for (VariantResult& r : collect_results(batch, group)) results[r.id] = std::move(r);
    const BatchTotals t = batch_totals(batch);
    tot.time_steps += t.time_steps;
    tot.newton_iterations += t.newton_iterations;
    tot.ok += t.ok;
    tot.failed += t.failed;
  }
  if (!opt.quiet) {
    bar.finish();
    print_table(base.protocol.steps, base.protocol.step_texts, results);
    fmt::print("\n{} variants ({} ok, {} failed) in {:.3f} s on {} CPU threads: {:.1f} variants/s, {:.0f} time steps/s, "
               "{:.2f} Newton iterations per step\n",
               vars.size(), tot.ok, tot.failed, wall_s, threads, vars.size() / wall_s, tot.time_steps / wall_s,
               tot.time_steps ? double(tot.newton_iterations) / tot.time_steps : 0.0);
  }
  try {
    std::filesystem::create_directories(opt.out_dir);
    const std::string path = (std::filesystem::path(opt.out_dir) / (safe_file_stem(base.name) + ".csv")).string();
    write_results_csv(path, base.protocol.step_texts, results);
    if (!opt.quiet) fmt::print("results: {}\n", path);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}

}  // namespace strata
