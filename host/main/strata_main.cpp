// strata: batched multilayer DFN electrode simulation.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "host/build_info.hpp"
#include "host/csv_export.hpp"
#include "host/cuda_runner.hpp"
#include "host/gpu_plan.hpp"
#include "host/main/cli_checks.hpp"
#include "host/info.hpp"
#include "host/interrupt.hpp"
#include "host/mpi_launch.hpp"
#include "host/scenario_loader.hpp"
#include "host/shard_merge.hpp"
#include "host/simulate.hpp"
#include "optimizer/optimize_command.hpp"
#ifdef STRATA_HAVE_MPI
#include "host/mpi/mpi_session.hpp"
#include "host/mpi/mpi_variant_runner.hpp"
#endif

namespace {

// A subcommand that runs a scenario into a results file (simulate, optimize, fit).
struct RunCommand {
  strata::SimulateOptions options;
  std::string layout = "blocked";
  std::string device = "auto";
  bool mpi = false;
  CLI::App* app = nullptr;

  RunCommand(CLI::App& parent, const std::string& name, const std::string& help, const std::string& scenario_help,
             const std::string& command) {
    options.command = command;
    app = parent.add_subcommand(name, help);
    app->add_option("scenario", options.scenario_path, scenario_help)->required();
    CLI::Option* out = app->add_option("--out", options.out,
                    "results: a directory (the file is named after the scenario) or a file ending in .h5 "
                    "or .hdf5 (default: results)")
        ->check(CLI::Validator(
            [](std::string& out) -> std::string {
              const std::string ext = strata::lowercase_extension(out);
              if (ext == ".csv" || ext == ".toml" || ext == ".txt")
                return "--out " + out + " looks like a " + ext.substr(1) + " file; give a directory or a file "
                       "ending in .h5 (the CSV of --csv is written beside the .h5 file)";
              return std::string();
            },
            "DIR|FILE.h5", "results path"));
    CLI::Option* resume =
        app->add_option("--resume", options.resume,
                        "continue this results file (same scenario), skipping finished designs; it is also where "
                        "the run writes, so --out is not given with it")
            ->excludes(out);
    app->add_flag("--overwrite", options.overwrite, "replace an existing results file")->excludes(resume);
    app->add_option("--threads", options.threads, "CPU threads (default: all cores)")
        ->check(strata::whole_number_at_least(0, "give a number of threads, or 0 for all cores"));
    app->add_option("--layout", layout, "memory layout of the batch: blocked or interleaved (the GPU's)")
        ->check(CLI::IsMember({"blocked", "interleaved"}));
    app->add_option("--device", device,
                    "where batches run: auto (CUDA when a device is visible, else CPU), cpu, or cuda (error "
                    "without a device or a CUDA build); a CUDA run keeps small batches and trajectory "
                    "recordings on the CPU (STRATA_CUDA_MIN_BATCH)")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    app->add_flag("--quiet", options.quiet, "no table, summary or progress output");
    app->add_flag("--mpi", mpi,
                  "MPI mode (under mpirun/srun): rank 0 runs the command and writes the file, every rank evaluates "
                  "a slice of each batch (docs/cluster.md); implied when started as several MPI processes");
  }
  const strata::SimulateOptions& parsed() {
    options.layout = layout == "interleaved" ? strata::Layout::Interleaved : strata::Layout::Blocked;
    return options;
  }
};

// `strata bench ARGS`: runs strata_bench, built beside this program, with ARGS.
int exec_bench(const std::vector<std::string>& args) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path bench = (ec ? std::filesystem::path(".") : self.parent_path()) / "strata_bench";
  std::vector<std::string> words = {bench.string()};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  execv(bench.c_str(), argv.data());
  std::cerr << "error: cannot run " << bench.string() << ": " << std::strerror(errno)
            << " (strata bench runs the strata_bench program built beside strata)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"strata: batched multilayer Doyle-Fuller-Newman electrode simulator"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(STRATA_VERSION) + " (" + STRATA_GIT_REV + ")");
  std::string command;
  for (int k = 0; k < argc; ++k) command += (k ? " " : "") + std::string(argv[k]);

  RunCommand simulate(app, "simulate", "run a scenario's batch of variants through its protocol", "scenario file (TOML)",
                      command);
  simulate.app->add_flag("--csv", simulate.options.csv,
                         "also write a CSV (one row per design and step) beside the HDF5 file");
  RunCommand optimize(app, "optimize", "search the scenario's [design] space with NLopt, batch by batch",
                      "scenario file (TOML) with a [design] section", command);
  optimize.app->add_option("--objective", optimize.options.design_objective,
                           "optimise this [[objectives]] name instead of design.objective (results file "
                           "<scenario>_<objective>.h5)");
  optimize.app
      ->add_option("--scale", optimize.options.budget_scale,
                   "multiply the campaign's initial population and evaluation budgets (default 1)")
      ->check(strata::number_within(0.01, 1000.0, "give the factor on the campaign's budgets, e.g. 0.5 or 4"));
  RunCommand fit(app, "fit", "calibrate the scenario's [fit] parameters against its measured targets",
                 "scenario file (TOML) with a [fit] section", command);

  std::string info_path;
  int info_top = 3;
  CLI::App* info = app.add_subcommand("info", "summarise a results file");
  info->add_option("file", info_path, "results file (HDF5)")->required();
  info->add_option("--top", info_top, "designs listed per objective")
      ->check(strata::whole_number_at_least(1, "give how many designs to list per objective"));

  std::string csv_in, csv_out;
  bool csv_quiet = false;
  CLI::App* csv = app.add_subcommand(
      "csv", "write the CSV of a results file (one row per design and step, docs/output-format.md): every design "
             "it holds, also of a resumed run, a campaign or a merged sweep");
  csv->add_option("file", csv_in, "results file (HDF5)")->required()->check(CLI::ExistingFile);
  csv->add_option("--out", csv_out, "CSV file (default: beside the results file, FILE.csv)");
  csv->add_flag("--quiet", csv_quiet, "no summary");

  CLI::App* bench = app.add_subcommand(
      "bench", "run the benchmark tables (the strata_bench program) with the arguments that follow; "
               "strata bench --help lists them");
  bench->prefix_command();
  bench->set_help_flag();  // --help goes to strata_bench

  std::string merge_out;
  strata::MergeOptions merge_opt;
  merge_opt.command = command;
  CLI::App* merge = app.add_subcommand("merge", "combine the shard files of a sweep (simulate --shard i/N) into one file");
  merge->add_option("out", merge_opt.out, "merged results file (HDF5)")->required();
  merge->add_option("files", merge_opt.files, "shard files, any order")->required();
  merge->add_flag("--allow-partial", merge_opt.allow_partial, "merge even when shards are missing or unfinished");
  merge->add_flag("--overwrite", merge_opt.overwrite, "replace an existing output file");
  merge->add_flag("--quiet", merge_opt.quiet, "no summary");

  simulate.app->add_option("--shard", simulate.options.shard,
                           "run only part i of N of the variant list (0 <= i < N), e.g. a job-array task; "
                           "combine the parts with strata merge");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a bad invocation exits 2, as a bad scenario does.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (bench->parsed()) return exec_bench(bench->remaining());
  if (merge->parsed()) return strata::run_merge(merge_opt);
  if (info->parsed()) return strata::print_info(info_path, info_top);
  if (csv->parsed()) return strata::run_csv_export(csv_in, csv_out, csv_quiet);
  RunCommand* run = simulate.app->parsed() ? &simulate : optimize.app->parsed() ? &optimize : &fit;
  auto dispatch = [&](const strata::SimulateOptions& o) {
    if (run == &simulate) return strata::run_simulate(o);
    if (run == &optimize) return strata::run_optimize(o);
    return strata::run_fit_command(o);
  };
  const bool launched = strata::launched_as_mpi_job();
  const bool mpi_mode = run->mpi || launched;
  const strata::DeviceRequest request = strata::parse_device_request(run->device);
  // A runner of this process's own: the CPU backend, or CUDA on the current device,
  // whose STRATA_CUDA_* settings are read only then (a bad one throws
  // std::invalid_argument; a CPU run ignores them).
  auto local_runner = [](bool use_cuda) -> strata::RunnerFactory {
    if (!use_cuda) return {};
    const strata::CudaRunOptions cuda_options = strata::cuda_options_from_env();
    return [cuda_options](const strata::Scenario& base, int threads, strata::Layout) {
      return std::unique_ptr<strata::VariantRunner>(new strata::CudaVariantRunner(base, threads, cuda_options));
    };
  };
  if (!mpi_mode) {
    // --device: probe only when CUDA may be used; refuse an impossible request (exit 2).
    strata::CudaDeviceInfo device_info;
    if (request != strata::DeviceRequest::Cpu) device_info = strata::cuda_device_info();
    const strata::DeviceDecision decision =
        strata::decide_device(request, strata::cuda_backend_built(), device_info.count, device_info.error);
    if (!decision.error.empty()) {
      std::cerr << "error: " << decision.error << "\n";
      return 2;
    }
    strata::SimulateOptions opt = run->parsed();
    opt.device_note = decision.note;
    if (decision.use_cuda) opt.rank_device = strata::RankDevice::Auto;
    try {
      opt.make_runner = local_runner(decision.use_cuda);
    } catch (const std::invalid_argument& e) {
      std::cerr << "error: " << e.what() << "\n";
      return 2;
    }
    return dispatch(opt);
  }
#ifndef STRATA_HAVE_MPI
  std::cerr << "error: MPI mode is not built into this strata (" << (run->mpi ? "--mpi given" : "started as several MPI processes")
            << "): install Open MPI (scripts/install_deps.sh: openmpi-bin libopenmpi-dev) and rebuild "
               "(./scripts/build.sh); docs/cluster.md\n";
  return 2;
#else
  strata::MpiSession session(argc, argv);
  strata::SimulateOptions opt = run->parsed();
  // Each rank decides its device on its own node: the GPU local_rank % count where the
  // request allows CUDA and one is visible, else the CPU (docs/cluster.md).
  strata::CudaDeviceInfo device_info;  // no context yet: each rank makes one, on its own GPU
  if (request != strata::DeviceRequest::Cpu) device_info = strata::cuda_device_info(/*with_memory=*/false);
  strata::RankDeviceDecision mine =
      strata::decide_rank_device(request, strata::cuda_backend_built(), device_info.count, device_info.error,
                                 session.rank(), session.local_rank());
  if (mine.decision.use_cuda) {
    const std::string why = strata::cuda_use_device(mine.device_index);
    if (!why.empty()) mine.decision.error = why;
  }
  strata::RunnerFactory own;
  if (mine.decision.error.empty()) {
    try {
      own = local_runner(mine.decision.use_cuda);
    } catch (const std::invalid_argument& e) {
      mine.decision.error = e.what();
    }
  }
  if (session.rank() != 0) {
    // A worker: the same scenario, its slices of every batch on its own device, no output.
    std::unique_ptr<strata::VariantRunner> runner;
    std::string load_error = mine.decision.error;
    if (load_error.empty()) {
      try {
        const strata::Scenario base = strata::load_scenario(opt.scenario_path);
        runner = strata::make_runner(own, base, opt.threads, opt.layout);
      } catch (const std::exception& e) {
        load_error = e.what();
      }
    }
    strata::install_interrupt_handlers();
    return strata::run_mpi_worker(session, runner.get(), load_error);
  }
  if (!mine.decision.error.empty()) {
    std::cerr << "error: rank 0: " << mine.decision.error << "\n";
    strata::stop_mpi_workers(session);
    return 2;
  }
  opt.device_note = mine.decision.note;
  if (mine.decision.use_cuda) opt.rank_device = strata::RankDevice::Auto;
  opt.make_runner = [&session, own](const strata::Scenario& base, int threads, strata::Layout layout) {
    return std::unique_ptr<strata::VariantRunner>(
        new strata::MpiVariantRunner(session, strata::make_runner(own, base, threads, layout)));
  };
  const int code = dispatch(opt);
  strata::stop_mpi_workers(session);  // when the command stopped before making its runner
  return code;
#endif
}
