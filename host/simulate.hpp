#pragma once
// `strata simulate`: load a scenario, run its batch on the CPU, print the table and
// the throughput, write the CSV.
#include <optional>
#include <string>

#include "host/batch.hpp"
#include "host/population_rank.hpp"
#include "host/results_store.hpp"
#include "host/scenario.hpp"
#include "host/variant_runner.hpp"

namespace strata {

struct SimulateOptions {
  std::string scenario_path;
  std::string out = "results";     // a directory (file <scenario name>.h5 in it) or a path ending in .h5
  std::string resume;              // an existing results file to continue ("" : a new run)
  bool overwrite = false;          // replace an existing results file
  bool csv = false;                // also write <stem>.csv beside the HDF5 file
  int threads = 0;                 // 0: all cores
  Layout layout = Layout::Blocked;
  bool quiet = false;              // no table, no progress bar
  std::string command;             // the command line, for /meta
  // strata optimize only: optimise this [[objectives]] name instead of design.objective
  // (the results file is then named <scenario>_<objective>.h5), and multiply the
  // campaign's budgets (initial population, evaluations) by budget_scale.
  std::string design_objective;
  double budget_scale = 1.0;
  std::string shard;               // simulate: "i/N" runs the i-th of N parts of the variant list ("" : all)
  RunnerFactory make_runner;       // how batches are evaluated (MPI mode, --device cuda); empty: this process's CPU
  std::string device_note;         // --device: what was chosen and why, printed under the run header
  // Where large populations are ranked (output.trajectories = "best"): Auto only when
  // the run uses the CUDA backend; --device cpu and MPI mode never touch a GPU.
  RankDevice rank_device = RankDevice::Cpu;
};

// The designs of shard i of N: [first, end) of the scenario's variant list, in
// contiguous parts whose sizes differ by at most one. count 0: not sharded.
struct ShardRange {
  int index = 0, count = 0;
  int64_t first = 0, end = 0;
};
// Parses "i/N" ("" : not sharded). Throws std::invalid_argument naming the value.
ShardRange shard_range(const std::string& text, size_t n_designs);

// "CPU: <model>, N threads".
std::string cpu_device_description(int threads);

// A file name from a scenario name (letters, digits, '-', '_', '.'; no leading dots).
std::string safe_file_stem(const std::string& name);

// Resolves every variant of a loaded scenario; a variant whose overrides are
// invalid is kept as a rejected row with the reason.
std::vector<ResolvedVariant> resolve_variants(const Scenario& base);

// One variant applied to a base without its variant list (light_base); invalid
// overrides give a rejected variant carrying the reason.
ResolvedVariant resolve_variant(const Scenario& light, const VariantSpec& spec);

// The command-line plumbing shared by simulate, optimize and fit. Each prints the
// error ("error: ...") and returns false / nullopt when it fails.
bool load_scenario_reporting(const std::string& path, Scenario& out);
// The command's runner (opt.make_runner, or the CPU's); null when it cannot run (an MPI
// worker that cannot load the scenario or use its device), having printed why.
std::unique_ptr<VariantRunner> make_runner_reporting(const SimulateOptions& opt, const Scenario& base);
// A variant's layer order as /population/layer_order stores it: "1,0", or "" when
// the layers are as listed.
std::string layer_order_text(const VariantSpec& v);
// A path's extension in lower case, with its dot (".h5"; "" when none).
std::string lowercase_extension(const std::string& path);
// True when a --out path names an HDF5 file (.h5, .hdf5, .he5, .hdf, any case)
// rather than a directory.
bool names_hdf5_file(const std::string& path);
// The results file: --resume's file, --out when it names an HDF5 file, else
// --out/<stem>.h5.
std::string results_path(const SimulateOptions& opt, const std::string& stem);
// A new file (refusing an existing one unless --overwrite) or the --resume one.
std::optional<ResultsStore> open_results_reporting(const SimulateOptions& opt, const std::string& path,
                                                   const RunInfo& info);

// Simulates the given designs (variant specs, with their design ids) again with
// recording on and writes their trajectories and profiles ([output] settings) to the
// file (those not there yet).
void record_trajectories(const Scenario& base, VariantRunner& runner, const std::vector<VariantSpec>& specs,
                         const std::vector<int64_t>& design_ids, ResultsStore& store);

// Runs the scenario's designs in batches of [output] batch_size, appending each
// batch to the HDF5 file and flushing it, then records the selected trajectories.
// Returns the process exit code: 0 when the run completed (failed variants are
// flagged in their rows), 2 for a bad scenario or a refused output file, 3 for an
// output error, 130 when interrupted by SIGINT/SIGTERM (the file holds every
// finished batch and can be resumed).
int run_simulate(const SimulateOptions& opt);

}  // namespace strata
