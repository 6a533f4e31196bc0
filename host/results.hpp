#pragma once
// Per-variant, per-step results in reporting units (mAh/g of total active mass,
// mAh/cm2, V, A/m2, s), and the CSV writer. Format: docs/output-format.md.
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "host/batch.hpp"
#include "host/scenario.hpp"

namespace strata {

struct StepResult {
  double capacity_mAh_g = 0.0;      // integral of |I| dt per gram of active material
  double capacity_mAh_cm2 = 0.0;
  double charge_mAh_g = 0.0;        // integral of I dt (> 0 on charge)
  double energy_Wh_kg = 0.0;        // integral of V I dt per kg of active material (> 0 on charge)
  double end_potential_V = 0.0;
  double end_current_A_m2 = 0.0;
  double duration_s = 0.0;
  double min_ce_mol_m3 = 0.0;       // lowest electrolyte concentration of any cell during the step
  double max_ce_mol_m3 = 0.0;       // highest
  long time_steps = 0;
  long newton_iterations = 0;
  std::string end_reason;           // "limit", "duration", "failed", "not run"
  std::map<std::string, double> material_charge_mAh_g;  // by material name
  std::vector<double> layer_charge_mAh_g;               // by layer position
};

// The real-valued per-step results, in the order of the HDF5 datasets
// (/population/step/<name>), the CSV columns and the MPI messages.
struct StepMetric {
  const char* name;
  const char* units;
  const char* description;
  double StepResult::*member;
};
inline constexpr StepMetric kStepMetrics[] = {
    {"capacity_mAh_g", "mAh/g", "integral of |I| dt per gram of active material", &StepResult::capacity_mAh_g},
    {"capacity_mAh_cm2", "mAh/cm2", "integral of |I| dt per electrode area", &StepResult::capacity_mAh_cm2},
    {"charge_mAh_g", "mAh/g", "integral of I dt per gram of active material (> 0 on charge)",
     &StepResult::charge_mAh_g},
    {"energy_Wh_kg", "Wh/kg", "integral of V I dt per kg of active material (> 0 on charge)",
     &StepResult::energy_Wh_kg},
    {"end_potential_V", "V", "measured potential at the end of the step", &StepResult::end_potential_V},
    {"end_current_A_m2", "A/m2", "current density at the end of the step (> 0 charging)",
     &StepResult::end_current_A_m2},
    {"duration_s", "s", "step duration", &StepResult::duration_s},
    {"min_ce_mol_m3", "mol/m3", "lowest electrolyte concentration of any cell during the step",
     &StepResult::min_ce_mol_m3},
    {"max_ce_mol_m3", "mol/m3", "highest electrolyte concentration of any cell during the step",
     &StepResult::max_ce_mol_m3},
};

struct VariantResult {
  int id = 0;
  std::string label;
  int status = 0;
  std::string reason;               // "ok" or why the variant failed
  double active_mass_mg_cm2 = 0.0;
  // The sub-layers as simulated, by position from the current collector (after the
  // variant's layer order): thickness (m) and porosity (volume-weighted over the
  // layer's cells); NaN for a variant rejected before the run.
  std::vector<double> layer_thickness_m, layer_porosity;
  std::vector<StepResult> steps;
};

// The text of a step's end (StepEnd code; the codes of /population/step/end_reason):
// "limit", "duration", "failed", "not run", ...
const char* end_reason_name(int step_end_code);

// Results of every variant of a batch; ids are the batch indices unless ids maps
// them (ids[v] = the id of batch variant v, e.g. its index in the whole scenario).
std::vector<VariantResult> collect_results(Batch& batch, const std::vector<int>& ids = {});

// Totals over the batch: time steps and Newton iterations of the variants that ran.
struct BatchTotals {
  long time_steps = 0;
  long newton_iterations = 0;
  int ok = 0;
  int failed = 0;
};
BatchTotals batch_totals(Batch& batch);

// Where the electrolyte's property tables end: the lowest last concentration of its
// tabulated properties (beyond it the kernels extend that table linearly), and that
// property's name; infinity and "" when none is tabulated.
struct ElectrolyteTableEnd {
  double c_mol_m3 = std::numeric_limits<double>::infinity();
  std::string property;
};
ElectrolyteTableEnd electrolyte_table_end(const Electrolyte& e);

// The StepEnd code of an end_reason text (the inverse of end_reason_name); NotRun
// for an unknown text.
int end_reason_code(const std::string& name);

// What the notes below count, per protocol step, over the designs added.
struct StepEndTally {
  StepEndTally(size_t steps, const ElectrolyteTableEnd& tables);
  void add(size_t step, int end_code, double max_ce_mol_m3);  // one design's step
  ElectrolyteTableEnd tables;
  size_t designs = 0;  // set by the caller
  std::vector<size_t> at_start, unlocated, beyond_tables;
  std::vector<double> highest_ce_mol_m3;
};
std::vector<std::string> step_end_notes(const std::vector<std::string>& step_texts, const StepEndTally& tally);

// Notes naming the protocol steps that ended at once in some designs (the limit was
// already met at the start: the step's values are about 0 yet rank like any other),
// whose limit was not located to tolerance, or in which c_e rose beyond the end of
// the electrolyte's tables, with the number of designs. Empty when there is nothing
// to say.
std::vector<std::string> step_end_notes(const std::vector<std::string>& step_texts,
                                        const std::vector<VariantResult>& results,
                                        const ElectrolyteTableEnd& tables = {});

// The CSV (docs/output-format.md) written one design at a time, for a population
// that is not held whole: the columns (every material and layer position of any
// design) are given up front. Throws std::runtime_error if the file cannot be
// written (close() reports a failed write).
class ResultsCsvWriter {
 public:
  // design_columns: per-design values written last on every row (a results file's
  // design variables and objectives, named as the mining package names them).
  ResultsCsvWriter(const std::string& path, const std::vector<std::string>& step_texts,
                   const std::set<std::string>& materials, size_t n_layers,
                   const std::vector<std::string>& design_columns = {});
  void add(const VariantResult& r, const std::vector<double>& design_values = {});  // one row per step
  void close();

 private:
  std::string path_;
  std::vector<std::string> step_texts_, design_columns_;
  std::set<std::string> materials_;
  size_t n_layers_;
  std::ofstream f_;
};

// One row per (variant, step), variants in the order given. Throws
// std::runtime_error if the file cannot be written.
void write_results_csv(const std::string& path, const std::vector<std::string>& step_texts,
                       const std::vector<VariantResult>& results);

}  // namespace strata
