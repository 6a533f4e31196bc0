// strata: batched multilayer DFN electrode simulation.
#include <CLI/CLI.hpp>

#include "host/info.hpp"
#include "host/simulate.hpp"
#include "optimizer/optimize_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"strata: batched multilayer Doyle-Fuller-Newman electrode simulator"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(STRATA_VERSION) + " (" + STRATA_GIT_REV + ")");
  std::string command;
  for (int k = 0; k < argc; ++k) command += (k ? " " : "") + std::string(argv[k]);

  strata::SimulateOptions sim;
  sim.command = command;
  std::string layout = "blocked";
  CLI::App* simulate = app.add_subcommand("simulate", "run a scenario's batch of variants through its protocol");
  simulate->add_option("scenario", sim.scenario_path, "scenario file (TOML)")->required();
  simulate->add_option("--out", sim.out,
                       "results: a directory (writes <scenario name>.h5 in it) or a file ending in .h5 (default: results)");
  CLI::Option* resume =
      simulate->add_option("--resume", sim.resume, "continue this results file (same scenario), skipping finished designs");
  simulate->add_flag("--overwrite", sim.overwrite, "replace an existing results file")->excludes(resume);
  simulate->add_flag("--csv", sim.csv, "also write a CSV (one row per design and step) beside the HDF5 file");
  simulate->add_option("--threads", sim.threads, "CPU threads (default: all cores)")->check(CLI::NonNegativeNumber);
  simulate->add_option("--layout", layout, "memory layout of the batch: blocked or interleaved (the GPU's)")
      ->check(CLI::IsMember({"blocked", "interleaved"}));
  simulate->add_flag("--quiet", sim.quiet, "no table or progress bar");

  strata::SimulateOptions optim;
  optim.command = command;
  optim.out = "results";
  std::string olayout = "blocked";
  CLI::App* optimize = app.add_subcommand("optimize", "search the scenario's [design] space with NLopt, batch by batch");
  optimize->add_option("scenario", optim.scenario_path, "scenario file (TOML) with a [design] section")->required();
  optimize->add_option("--out", optim.out, "results: a directory (<scenario name>.h5 in it) or a file ending in .h5");
  CLI::Option* oresume = optimize->add_option("--resume", optim.resume, "continue this results file (same scenario)");
  optimize->add_flag("--overwrite", optim.overwrite, "replace an existing results file")->excludes(oresume);
  optimize->add_option("--threads", optim.threads, "CPU threads (default: all cores)")->check(CLI::NonNegativeNumber);
  optimize->add_option("--layout", olayout, "blocked or interleaved")->check(CLI::IsMember({"blocked", "interleaved"}));
  optimize->add_flag("--quiet", optim.quiet, "no summary or progress line");

  strata::SimulateOptions fitopt;
  fitopt.command = command;
  CLI::App* fit = app.add_subcommand("fit", "calibrate the scenario's [fit] parameters against its measured targets");
  fit->add_option("scenario", fitopt.scenario_path, "scenario file (TOML) with a [fit] section")->required();
  fit->add_option("--out", fitopt.out, "results: a directory (<scenario name>_fit.h5 in it) or a file ending in .h5");
  CLI::Option* fresume = fit->add_option("--resume", fitopt.resume, "continue this results file (same scenario)");
  fit->add_flag("--overwrite", fitopt.overwrite, "replace an existing results file")->excludes(fresume);
  fit->add_option("--threads", fitopt.threads, "CPU threads (default: all cores)")->check(CLI::NonNegativeNumber);
  fit->add_flag("--quiet", fitopt.quiet, "no report");

  std::string info_path;
  int info_top = 3;
  CLI::App* info = app.add_subcommand("info", "summarise a results file");
  info->add_option("file", info_path, "results file (HDF5)")->required();
  info->add_option("--top", info_top, "designs listed per objective")->check(CLI::PositiveNumber);

  CLI11_PARSE(app, argc, argv);
  if (simulate->parsed()) {
    sim.layout = layout == "interleaved" ? strata::Layout::Interleaved : strata::Layout::Blocked;
    return strata::run_simulate(sim);
  }
  if (optimize->parsed()) {
    optim.layout = olayout == "interleaved" ? strata::Layout::Interleaved : strata::Layout::Blocked;
    return strata::run_optimize(optim);
  }
  if (fit->parsed()) return strata::run_fit_command(fitopt);
  if (info->parsed()) return strata::print_info(info_path, info_top);
  return 1;
}
