#pragma once
// `strata simulate`: load a scenario, run its batch on the CPU, print the table and
// the throughput, write the CSV.
#include <string>

#include "host/batch.hpp"
#include "host/scenario.hpp"

namespace strata {

struct SimulateOptions {
  std::string scenario_path;
  std::string out_dir = "results";
  int threads = 0;                 // 0: all cores
  Layout layout = Layout::Blocked;
  bool quiet = false;              // no table, no progress bar
};

// Resolves every variant of a loaded scenario; a variant whose overrides are
// invalid is kept as a rejected row with the reason.
std::vector<ResolvedVariant> resolve_variants(const Scenario& base);

// Returns the process exit code: 0 when the batch ran (failed variants are
// flagged in their rows), 2 for a bad scenario, 3 for an output error.
int run_simulate(const SimulateOptions& opt);

}  // namespace strata
