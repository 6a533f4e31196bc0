#include "host/simulate.hpp"

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

void print_table(const Batch& b, const std::vector<VariantResult>& results) {
  // Columns: every step that passes current (rests are in the CSV only).
  std::vector<size_t> cols;
  for (size_t k = 0; k < b.steps.size(); ++k)
    if (b.steps[k].kind != StepKind::Rest) cols.push_back(k);
  const size_t max_cols = 8;
  const bool cut = cols.size() > max_cols;
  if (cut) cols.erase(cols.begin(), cols.end() - max_cols);  // the last ones: the rate test's end
  size_t wl = 5;
  for (const auto& r : results) wl = std::max(wl, std::min<size_t>(r.label.size(), 40));
  std::string head = fmt::format("{:>5}  {:<{}}  {:>6}", "id", "label", wl, "status");
  for (size_t k : cols) head += fmt::format("  {:>10}", fmt::format("s{} mAh/g", k));
  fmt::print("{}\n", head);
  for (size_t k : cols) fmt::print("  s{}: {}\n", k, b.step_texts[k]);
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
  Batch batch;
  try {
    batch = build_batch(vars, opt.layout);
  } catch (const std::exception& e) {
    std::cerr << "error: " << opt.scenario_path << ": " << e.what() << "\n";
    return 2;
  }
  if (!opt.quiet)
    fmt::print("strata {} ({}): scenario '{}' from {}: {} variants x {} protocol steps, {} cells, {} shells\n",
               STRATA_VERSION, STRATA_GIT_REV, base.name, opt.scenario_path, batch.n_variants, batch.steps.size(),
               batch.shape.nx, batch.shape.nr);
  ProgressBar bar(batch.n_variants, "simulate");
  std::function<void(int)> progress;
  if (!opt.quiet) progress = [&bar](int done) { bar.update(done); };
  const RunStats stats = run_batch_cpu(batch, opt.threads, progress);
  if (!opt.quiet) bar.finish();
  std::vector<VariantResult> results = collect_results(batch);
  const BatchTotals tot = batch_totals(batch);
  if (!opt.quiet) {
    print_table(batch, results);
    fmt::print("\n{} variants ({} ok, {} failed) in {:.3f} s on {} CPU threads: {:.1f} variants/s, {:.0f} time steps/s, "
               "{:.2f} Newton iterations per step\n",
               batch.n_variants, tot.ok, tot.failed, stats.wall_s, stats.threads, batch.n_variants / stats.wall_s,
               tot.time_steps / stats.wall_s, tot.time_steps ? double(tot.newton_iterations) / tot.time_steps : 0.0);
  }
  try {
    std::filesystem::create_directories(opt.out_dir);
    const std::string stem = base.name.empty() ? std::string("run") : base.name;
    const std::string path = (std::filesystem::path(opt.out_dir) / (stem + ".csv")).string();
    write_results_csv(path, batch, results);
    if (!opt.quiet) fmt::print("results: {}\n", path);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}

}  // namespace strata
