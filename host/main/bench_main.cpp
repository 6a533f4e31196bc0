// strata_bench: throughput of batched DFN variants through a 3C charge from the
// discharged state to cut-off (default scenarios/bench_bilayer_3C.toml, 1,000
// variants). Prints, as tables (figures go to docs/performance.md):
//  1. the per-step cost model of the batch's shape: record size, record accesses per
//     Newton iteration and per time step (counted on the CPU through a counting view),
//     bytes and flops per step (flops: the valgrind/lackey count of the default
//     resolution, --flops-per-newton);
//  2. the CPU backend on all cores and on one;
//  3. where a CUDA device is visible: the GPU backend at several batch sizes, with the
//     achieved memory bandwidth and FP64 rate implied by the cost model against the
//     device's peaks, and the two thread mappings of the Newton linear solve.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <stdexcept>

#include "host/build_info.hpp"
#include "host/access_count.hpp"
#include "host/cpu_backend.hpp"
#include "host/cuda_runner.hpp"
#include "host/gpu_plan.hpp"
#include "host/main/cli_checks.hpp"
#include "host/warp_model.hpp"
#include "host/results.hpp"
#include "host/scenario_loader.hpp"
#include "host/simulate.hpp"

namespace {

std::vector<strata::ResolvedVariant> cycle(const std::vector<strata::ResolvedVariant>& pool, int n) {
  std::vector<strata::ResolvedVariant> vars;
  vars.reserve(n);
  for (int v = 0; v < n; ++v) vars.push_back(pool[v % pool.size()]);
  return vars;
}

// One row of the GPU table: the launch shape, throughput and the cost model's
// bandwidth and FP64 rate against the device's peaks; '*' marks what the rules pick.
void print_gpu_row(strata::Batch& b, const strata::CudaRunReport& rep, const strata::CudaRunOptions& opt,
                   const strata::CudaDeviceInfo& info, double bytes_per_newton, double flops_per_newton) {
  const long n = b.n_variants;
  const strata::BatchTotals t = strata::batch_totals(b);
  const double bw = bytes_per_newton * t.newton_iterations / rep.kernel_s;
  const double fl = flops_per_newton * t.newton_iterations / rep.kernel_s;
  const strata::GpuMapping mapping = strata::parse_mapping_request(opt.mapping, n, info.sm_count);
  const bool picked = mapping == strata::choose_mapping(n, info.sm_count);
  const bool pass_picked = strata::parse_pass_request(opt.pass, mapping) == strata::choose_pass_unit(mapping);
  fmt::print("{:>9} {:>7}{} {:>9}{} {:>4}{} {:>5} {:>7} {:>9.3f} {:>9.3f} {:>12.1f} {:>10.1f} {:>12.3f} {:>10.1f} "
             "{:>7.1f} {:>10.1f} {:>7.2f} {:>7}\n",
             n, opt.mapping, picked ? "*" : " ", rep.pass, pass_picked ? "*" : " ", rep.max_registers,
             opt.max_registers == 0 ? "*" : " ", opt.block_size,
             rep.chunks, rep.wall_s, rep.kernel_s, n / rep.wall_s, double(t.time_steps) / n,
             double(t.newton_iterations) / std::max<long>(1, t.time_steps), bw / 1e9, 100.0 * bw / info.peak_bandwidth_B_s,
             fl / 1e9, 100.0 * fl / info.peak_fp64_flop_s, t.failed);
  std::fflush(stdout);  // rows survive a run cut short
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"strata_bench: throughput of batched DFN variants on the CPU and, where present, a CUDA GPU"};
  std::string scenario = std::string(STRATA_SOURCE_DIR) + "/scenarios/bench_bilayer_3C.toml";
  int variants = 1000;
  size_t distinct = 0;  // 0: every design of the scenario
  std::vector<int> threads_list, gpu_variants = {1000, 10000, 100000}, gpu_registers, gpu_block_sizes;
  std::vector<std::string> gpu_mappings = {"thread", "warp"}, gpu_passes;
  std::string layout = "blocked", device = "all";
  bool solve_bench = true;
  // valgrind --tool=lackey --detailed-counts=yes, default resolution (docs/performance.md;
  // 3.0e4 before the cuts of 2026-12-05).
  double flops_per_newton = 29000.0;
  app.add_option("--scenario", scenario, "scenario whose variants are cycled to fill the batch")->check(CLI::ExistingFile);
  app.add_option("--variants", variants, "CPU batch size")
      ->check(strata::whole_number_at_least(1, "give the number of variants in the CPU batch"));
  app.add_option("--distinct", distinct,
                 "cycle only the scenario's first N designs (1: every variant the same design, no divergence "
                 "between the threads of a warp)")
      ->check(strata::whole_number_at_least(1, "give how many distinct designs to cycle"));
  app.add_option("--threads", threads_list, "thread counts to run (default: all cores, then 1)")
      ->check(strata::whole_number_at_least(1, "give thread counts of 1 or more"));
  app.add_option("--layout", layout, "CPU layout: blocked or interleaved")->check(CLI::IsMember({"blocked", "interleaved"}));
  app.add_option("--device", device, "all (CPU, then the GPU when one is visible), cpu or cuda")
      ->check(CLI::IsMember({"all", "cpu", "cuda"}));
  app.add_option("--gpu-variants", gpu_variants, "GPU batch sizes")
      ->check(strata::whole_number_at_least(1, "give GPU batch sizes of 1 or more"));
  app.add_option("--gpu-mappings", gpu_mappings, "GPU mappings to run (thread, warp)")
      ->check(CLI::IsMember({"thread", "warp"}));
  app.add_option("--gpu-passes", gpu_passes,
                 "integrator pass units to run with a thread per variant (attempt, iteration; default: STRATA_CUDA_PASS "
                 "or the rule; the warp mapping always runs attempts)")
      ->check(CLI::IsMember({"attempt", "iteration"}));
  app.add_option("--gpu-registers", gpu_registers,
                 "register caps of the protocol kernels to run (255, 128, 64, or 0: the rule; default: STRATA_CUDA_MAX_REGISTERS or the rule)")
      ->check(CLI::IsMember({0, 255, 128, 64}));
  app.add_option("--gpu-block-sizes", gpu_block_sizes,
                 "threads per block to run (multiples of 32 up to 256; default: STRATA_CUDA_BLOCK_SIZE or 32)")
      ->check(CLI::Range(32, 256));
  bool no_solve_bench = false;
  app.add_flag("--no-solve-bench", no_solve_bench, "skip the Newton linear-solve benchmark");
  app.add_option("--flops-per-newton", flops_per_newton, "flops per Newton iteration for the FP64 rate (cost model)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help exits 0; a bad invocation 2, as strata's
  }
  solve_bench = !no_solve_bench;
  if (threads_list.empty()) threads_list = {omp_get_max_threads(), 1};

  strata::Scenario base;
  try {
    base = strata::load_scenario(scenario);
  } catch (const strata::ScenarioError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  std::vector<strata::ResolvedVariant> pool = strata::resolve_variants(base);
  if (distinct > 0 && distinct < pool.size()) pool.resize(distinct);
  const std::vector<strata::ResolvedVariant> vars = cycle(pool, variants);
  if (strata::group_by_shape(pool).size() > 1) {  // each table row is one batch of one shape
    std::cerr << "error: " << scenario << ": its designs have different discretisation shapes (cell or shell "
              << "counts, e.g. from numerics.cell_size_m and a thickness sweep); strata_bench runs one batch: "
              << "give a scenario whose designs share one shape, or --distinct 1\n";
    return 2;
  }

  // 1. Cost model (variant 0); its shape is the batch's (a bench batch has one shape).
  const strata::Batch probe = strata::build_batch({vars.front()}, strata::Layout::Blocked);
  fmt::print("strata_bench {} ({}), scenario {}: {} variants ({} distinct), {} protocol step(s), "
             "{} cells, {} shells, rtol {:g}\n",
             STRATA_VERSION, STRATA_GIT_REV, base.name, variants, std::min(pool.size(), vars.size()),
             base.protocol.steps.size(), probe.shape.nx, probe.shape.nr, base.numerics.relative_tolerance);

  const strata::AccessCount ac = strata::count_record_accesses(probe, 0);
  const double newton_per_step = double(ac.newton_iterations) / std::max<long>(1, ac.time_steps);
  const double bytes_per_newton = 8.0 * ac.accesses_per_newton();
  fmt::print("\ncost model (variant 0: {} steps, {:.2f} Newton iterations per step)\n", ac.time_steps, newton_per_step);
  fmt::print("{:>14} {:>16} {:>16} {:>18} {:>18} {:>16}\n", "record_doubles", "accesses/newton", "accesses/step",
             "bytes/step(upper)", "bytes/step(lower)", "flops/step");
  fmt::print("{:>14} {:>16.0f} {:>16.0f} {:>18.0f} {:>18.0f} {:>16.0f}\n", ac.record_doubles, ac.accesses_per_newton(),
             ac.accesses_per_step(), 8.0 * ac.accesses_per_step(), 16.0 * ac.record_doubles,
             flops_per_newton * newton_per_step);

  // 2. CPU, then what the batch's work says about a GPU warp of 32 consecutive
  // variants run in lockstep (host/warp_model.hpp, docs/performance.md divergence).
  if (device != "cuda") {
    fmt::print("\nCPU ({} layout)\n", layout);
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
    strata::Batch traced = strata::build_batch(vars, strata::Layout::Blocked);
    const std::vector<strata::AttemptTrace> traces = strata::trace_attempts(traced);
    const strata::WarpLoopModel m = strata::warp_loop_model(traces);
    std::vector<long> totals;
    for (const strata::AttemptTrace& t : traces)
      totals.push_back(std::accumulate(t.newton_iterations.begin(), t.newton_iterations.end(), 0L));
    std::sort(totals.begin(), totals.end());
    fmt::print("\nwarp lanes busy with Newton iterations, 32 consecutive variants per warp in lockstep (model):\n"
               "  nested loops (integrator before 2026-12-04)             {:.3f}\n"
               "  one attempt per pass (warp mapping, CPU)                {:.3f}\n"
               "  one Newton iteration per pass (thread mapping's rule)   {:.3f} in batch order, {:.3f} sorted by work\n",
               m.nested, m.flat_attempts, m.flat_iterations, strata::warp_lane_efficiency(totals));
  }
  if (device == "cpu") return 0;

  // 3. GPU.
  const strata::CudaDeviceInfo info = strata::cuda_device_info();
  if (!strata::cuda_backend_built() || info.count <= 0) {
    fmt::print("\nGPU: none ({}); GPU rows skipped\n",
               strata::cuda_backend_built() ? info.error : "CUDA backend not built");
    return device == "cuda" ? 2 : 0;
  }
  fmt::print("\nGPU {}: peak {:.0f} GB/s, FP64 vector peak {:.1f} TFLOP/s; the rules' picks (mapping, pass unit, "
             "register cap) marked *\n",
             strata::cuda_device_description(info), info.peak_bandwidth_B_s / 1e9, info.peak_fp64_flop_s / 1e12);
  fmt::print("{:>9} {:>8} {:>10} {:>5} {:>5} {:>7} {:>9} {:>9} {:>12} {:>10} {:>12} {:>10} {:>7} {:>10} {:>7} {:>7}\n",
             "variants", "mapping", "pass", "regs", "block", "chunks", "wall_s", "kernel_s", "variants/s", "steps/var", "newton/step", "GB/s", "%peak",
             "GFLOP/s", "%peak", "failed");
  try {
    strata::CudaRunOptions opt = strata::cuda_options_from_env();
    if (gpu_registers.empty()) gpu_registers = {opt.max_registers};
    if (gpu_block_sizes.empty()) gpu_block_sizes = {opt.block_size};
    if (gpu_passes.empty()) gpu_passes = {opt.pass};
    for (int block : gpu_block_sizes)
      if (block % 32) throw std::invalid_argument(fmt::format("--gpu-block-sizes {}: not a multiple of 32", block));
    // Every combination of batch size, register cap, block size, mapping and pass unit
    // (the warp mapping: whole attempts only, one row).
    for (int n : gpu_variants)
      for (int regs : gpu_registers)
        for (int block : gpu_block_sizes)
          for (const std::string& mapping : gpu_mappings)
            for (const std::string& pass : mapping == "warp" ? std::vector<std::string>{"attempt"} : gpu_passes) {
              opt.mapping = mapping;
              opt.max_registers = regs;
              opt.block_size = block;
              opt.pass = pass;
              strata::Batch b = strata::build_batch(cycle(pool, n), strata::Layout::Interleaved);
              strata::CudaRunReport rep;
              strata::run_batch_cuda(b, opt, {}, {}, &rep);
              print_gpu_row(b, rep, opt, info, bytes_per_newton, flops_per_newton);
            }
    if (!solve_bench) return 0;
    const int cells = static_cast<int>(probe.shape.nx);
    fmt::print("\nNewton linear solve alone (3x3 blocks, 2 right-hand sides, random diagonally dominant), per solve\n");
    fmt::print("{:>9} {:>6} {:>16} {:>16} {:>12} {:>20}\n", "systems", "cells", "thread/system_us", "warp/system_us",
               "max_rel_diff", "rule picks");
    for (int n_cells : {cells, 60})
      for (int n : {1000, 16896, 100000}) {
        const strata::SolveBenchResult r = strata::cuda_bench_block_solve(n, n_cells, 10);
        fmt::print("{:>9} {:>6} {:>16.1f} {:>16.1f} {:>12.1e} {:>20}\n", n, n_cells, 1e6 * r.thread_s, 1e6 * r.warp_s,
                   r.max_rel_diff, strata::mapping_name(strata::choose_mapping(n, info.sm_count)));
      }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}
