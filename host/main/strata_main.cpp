// strata: batched multilayer DFN electrode simulation.
#include <CLI/CLI.hpp>

#include "host/info.hpp"
#include "host/simulate.hpp"
#include "optimizer/optimize_command.hpp"

namespace {

// A subcommand that runs a scenario into a results file (simulate, optimize, fit).
struct RunCommand {
  strata::SimulateOptions options;
  std::string layout = "blocked";
  CLI::App* app = nullptr;

  RunCommand(CLI::App& parent, const std::string& name, const std::string& help, const std::string& scenario_help,
             const std::string& command) {
    options.command = command;
    app = parent.add_subcommand(name, help);
    app->add_option("scenario", options.scenario_path, scenario_help)->required();
    app->add_option("--out", options.out,
                    "results: a directory (the file is named after the scenario) or a file ending in .h5 "
                    "(default: results)");
    CLI::Option* resume =
        app->add_option("--resume", options.resume, "continue this results file (same scenario), skipping finished designs");
    app->add_flag("--overwrite", options.overwrite, "replace an existing results file")->excludes(resume);
    app->add_option("--threads", options.threads, "CPU threads (default: all cores)")->check(CLI::NonNegativeNumber);
    app->add_option("--layout", layout, "memory layout of the batch: blocked or interleaved (the GPU's)")
        ->check(CLI::IsMember({"blocked", "interleaved"}));
    app->add_flag("--quiet", options.quiet, "no table, summary or progress output");
  }
  const strata::SimulateOptions& parsed() {
    options.layout = layout == "interleaved" ? strata::Layout::Interleaved : strata::Layout::Blocked;
    return options;
  }
};

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
      ->check(CLI::Range(0.01, 1000.0));
  RunCommand fit(app, "fit", "calibrate the scenario's [fit] parameters against its measured targets",
                 "scenario file (TOML) with a [fit] section", command);

  std::string info_path;
  int info_top = 3;
  CLI::App* info = app.add_subcommand("info", "summarise a results file");
  info->add_option("file", info_path, "results file (HDF5)")->required();
  info->add_option("--top", info_top, "designs listed per objective")->check(CLI::PositiveNumber);

  CLI11_PARSE(app, argc, argv);
  if (simulate.app->parsed()) return strata::run_simulate(simulate.parsed());
  if (optimize.app->parsed()) return strata::run_optimize(optimize.parsed());
  if (fit.app->parsed()) return strata::run_fit_command(fit.parsed());
  if (info->parsed()) return strata::print_info(info_path, info_top);
  return 1;
}
