#pragma once
// The HDF5 results file of a run (docs/hdf5-schema.md): provenance in /meta, the
// population appended and flushed per batch, optimiser trajectories, and
// per-design time series and profiles. Resumable: a reopened file reports the
// designs it already holds.
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "host/batch.hpp"
#include "host/committed_h5_file.hpp"
#include "host/h5_file.hpp"
#include "host/results.hpp"
#include "host/scenario.hpp"

namespace strata {

struct ResultsStoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What /meta records and what fixes the population's columns.
struct RunInfo {
  std::string command, device, build_type;
  std::string scenario_file, scenario_name, scenario_text;
  int64_t seed = 0;
  int64_t n_designs = 0;
  std::vector<std::string> step_texts;
  std::vector<std::string> material_names;  // axis of the per-material arrays
  std::vector<std::string> material_files, material_texts;
  int n_layers = 0;
  std::vector<std::string> var_paths;       // design variables (override paths)
  std::vector<ObjectiveSpec> objectives;
  std::vector<ConstraintSpec> constraints;  // /population/constraint/<name>
  int shard_index = 0, shard_count = 0;      // a sharded simulate (--shard i/N); count 0: not sharded
  std::string design_objective;             // strata optimize: the objective optimised ("" : not a campaign)
  ElectrolyteTableEnd electrolyte_tables;   // /meta electrolyte_table_end_mol_m3 (when finite)
};

// Builds the RunInfo of a scenario (reads the material files it used).
RunInfo run_info_for(const Scenario& s, const std::string& command, const std::string& device);

// Material and electrolyte data files of two runs, compared by file name (the
// directory may differ between machines): "" when both used the same files with the
// same texts, else which file was added, dropped or edited. /meta material_files and
// material_texts hold one side (`theirs` in the message), files and texts the other
// (`ours`); a results file written without them compares equal.
std::string material_data_difference(hid_t meta, const std::vector<std::string>& files,
                                     const std::vector<std::string>& texts, const std::string& ours = "this run",
                                     const std::string& theirs = "the run that wrote the file");

// One population row.
struct PopulationRow {
  VariantResult result;
  std::vector<double> variables;   // by RunInfo::var_paths (NaN: not set)
  std::string layer_order;         // "" or "1,0"
  std::vector<double> objectives;  // by RunInfo::objectives
  std::vector<double> constraints; // by RunInfo::constraints
  int batch = 0;
  std::string producer = "sweep";
};

// The unit of an objective's values ("-" for retentions and weighted sums).
std::string objective_units(const ObjectiveSpec& o);
// A constraint metric's units: its objective kind's, or mg/cm2 for the mass loading.
std::string constraint_units(const ConstraintSpec& c);
// Objective values of a result (NaN for a failed design).
std::vector<double> objective_values(const std::vector<ObjectiveSpec>& objectives, const VariantResult& r);
// Constraint metric values of a result (NaN for a failed design).
std::vector<double> constraint_values(const std::vector<ConstraintSpec>& constraints, const VariantResult& r);

// A design's recorded trajectory, in reporting units.
struct TrajectoryData {
  int64_t design_id = 0;
  std::string label;
  int status = 0;
  std::vector<double> time_s, current_A_m2, potential_V, capacity_mAh_g;
  std::vector<int32_t> step;
  std::vector<double> material_soc;  // samples x materials
  struct Profile {
    int request = 0;   // index in [output] profiles (the group name)
    int step = 0;
    std::string at;
    double requested = 0.0, time_s = 0.0;
    std::vector<double> x_m, ce_mol_m3, phie_V;             // cells
    std::vector<double> interfaces_m;                        // sub-layer interfaces and the separator face
    std::vector<double> eta_V, j_A_m2, x_surf;              // electrode cells x materials
  };
  std::vector<Profile> profiles;
};

// Reads variant v's trajectory record out of a batch run with trajectories enabled.
TrajectoryData extract_trajectory(Batch& b, int v, int64_t design_id, const std::vector<std::string>& material_names,
                                  const std::vector<ProfileRequest>& requests);

// Writes go through a CommittedH5File: a kill at any moment leaves the file at the
// path readable with everything committed (every append and flush commits).
class ResultsStore {
 public:
  // A new file. Refuses an existing file unless overwrite.
  static ResultsStore create(const std::string& path, const RunInfo& info, bool overwrite);
  // An existing file to continue: refuses one written for another scenario text.
  static ResultsStore resume(const std::string& path, const RunInfo& info);
  // Read-only (strata info, tests).
  static ResultsStore open_read(const std::string& path);

  ResultsStore(ResultsStore&&) = default;
  ResultsStore& operator=(ResultsStore&&) = default;
  ~ResultsStore();

  const std::string& path() const { return path_; }
  // The file as written so far, for reading (a writer's working copy).
  hid_t file() const { return out_.is_open() ? out_.work() : read_.id(); }
  std::set<int64_t> design_ids() const;
  int next_batch() const;
  int64_t rows() const;
  bool has_trajectory(int64_t design_id) const;

  // Appends the rows and commits (the rows are kept until the other copy has them).
  void append(std::vector<PopulationRow> rows);
  // Holds the rows and appends everything held once min_interval_s has passed since the
  // last write (finish() writes the rest). For many small batches: each commit
  // writes the file twice and renames it, so a campaign's rows are committed at most
  // every min_interval_s (a kill loses at most that much).
  void append_buffered(std::vector<PopulationRow> rows, double min_interval_s);
  void write_buffered();
  double write_s() const { return write_s_; }  // time spent appending and committing
  // Writes a design's trajectory (not committed: call flush() after a batch of them;
  // kept until the other copy has it).
  void write_trajectory(TrajectoryData t);
  // One optimiser instance's whole trajectory as /optimizer/<k>, replacing what was
  // there (an interrupted run writes the iterations it got to; resumed, the campaign
  // replays from the start and writes them all); `end` says how it stopped. Commits.
  void write_optimizer(int k, const std::string& algorithm, const std::string& end,
                       const std::vector<std::string>& variables, const std::vector<int64_t>& iteration,
                       const std::vector<int64_t>& design_id, const std::vector<double>& points,
                       const std::vector<double>& objective, const std::vector<double>& best_objective);
  // Any other write (e.g. /fit): applied now, committed at the next flush().
  void edit(CommittedH5File::Edit e);
  // Sets /meta status and end time, commits and closes.
  void finish(const std::string& status);
  // Commits every write so far.
  void flush();

 private:
  ResultsStore() = default;
  std::string path_;
  h5::Handle read_;        // open_read
  CommittedH5File out_;    // create, resume
  std::shared_ptr<const RunInfo> info_;
  std::vector<PopulationRow> buffered_;
  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
  double write_s_ = 0.0;
};

std::string iso_time_now();

}  // namespace strata
