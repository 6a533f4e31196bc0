// strata: batched multilayer DFN electrode simulation.
#include <CLI/CLI.hpp>

#include "host/simulate.hpp"

int main(int argc, char** argv) {
  CLI::App app{"strata: batched multilayer Doyle-Fuller-Newman electrode simulator"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(STRATA_VERSION) + " (" + STRATA_GIT_REV + ")");

  strata::SimulateOptions sim;
  std::string layout = "blocked";
  CLI::App* simulate = app.add_subcommand("simulate", "run a scenario's batch of variants through its protocol");
  simulate->add_option("scenario", sim.scenario_path, "scenario file (TOML)")->required();
  simulate->add_option("--threads", sim.threads, "CPU threads (default: all cores)")->check(CLI::NonNegativeNumber);
  simulate->add_option("--out", sim.out_dir, "directory for the results (default: results)");
  simulate->add_option("--layout", layout, "memory layout of the batch: blocked or interleaved (the GPU's)")
      ->check(CLI::IsMember({"blocked", "interleaved"}));
  simulate->add_flag("--quiet", sim.quiet, "no table or progress bar");

  CLI11_PARSE(app, argc, argv);
  if (simulate->parsed()) {
    sim.layout = layout == "interleaved" ? strata::Layout::Interleaved : strata::Layout::Blocked;
    return strata::run_simulate(sim);
  }
  return 1;
}
