// strata_bench: throughput of the CPU backend on a batch of bilayer variants through
// a 3C charge to cut-off (default scenarios/bench_bilayer_3C.toml, 1,000 variants),
// on all cores and on one. Prints a table; figures go to docs/performance.md.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>
#include <sstream>
#include <thread>

#include "host/cpu_backend.hpp"
#include "host/results.hpp"
#include "host/scenario_loader.hpp"
#include "host/simulate.hpp"

int main(int argc, char** argv) {
  CLI::App app{"strata_bench: CPU throughput of batched DFN variants"};
  std::string scenario = std::string(STRATA_SOURCE_DIR) + "/scenarios/bench_bilayer_3C.toml";
  int variants = 1000;
  std::vector<int> threads_list;
  std::string layout = "blocked";
  app.add_option("--scenario", scenario, "scenario whose variants are cycled to fill the batch")->check(CLI::ExistingFile);
  app.add_option("--variants", variants, "batch size")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads_list, "thread counts to run (default: all cores, then 1)");
  app.add_option("--layout", layout, "blocked or interleaved")->check(CLI::IsMember({"blocked", "interleaved"}));
  CLI11_PARSE(app, argc, argv);
  if (threads_list.empty()) threads_list = {omp_get_max_threads(), 1};

  strata::Scenario base;
  try {
    base = strata::load_scenario(scenario);
  } catch (const strata::ScenarioError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  std::vector<strata::ResolvedVariant> pool = strata::resolve_variants(base), vars;
  for (int v = 0; v < variants; ++v) vars.push_back(pool[v % pool.size()]);

  fmt::print("strata_bench {} ({}), scenario {}: {} variants ({} distinct), {} protocol step(s), "
             "{} cells, {} shells, rtol {:g}, layout {}\n",
             STRATA_VERSION, STRATA_GIT_REV, base.name, variants, pool.size(), base.protocol.steps.size(),
             base.layers.size() * base.numerics.nodes_per_layer + base.numerics.separator_nodes, base.numerics.particle_shells, base.numerics.relative_tolerance, layout);
  fmt::print("{:>8} {:>9} {:>9} {:>12} {:>16} {:>12} {:>14} {:>10} {:>8}\n", "threads", "variants", "wall_s",
             "variants/s", "variants/s/core", "steps/var", "newton/step", "ms/var", "failed");
  for (int threads : threads_list) {
    strata::Batch b = strata::build_batch(vars, layout == "interleaved" ? strata::Layout::Interleaved
                                                                        : strata::Layout::Blocked);
    const strata::RunStats st = strata::run_batch_cpu(b, threads);
    const strata::BatchTotals t = strata::batch_totals(b);
    fmt::print("{:>8} {:>9} {:>9.3f} {:>12.1f} {:>16.1f} {:>12.1f} {:>14.3f} {:>10.3f} {:>8}\n", st.threads,
               b.n_variants, st.wall_s, b.n_variants / st.wall_s, b.n_variants / st.wall_s / st.threads,
               double(t.time_steps) / b.n_variants, double(t.newton_iterations) / std::max<long>(1, t.time_steps),
               1e3 * st.wall_s * st.threads / b.n_variants, t.failed);
  }
  return 0;
}
