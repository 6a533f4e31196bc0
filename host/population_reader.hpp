#pragma once
// Reads the per-design results of a results file (/population) back into the
// reporting structures the runs produce, so that a CSV or table can be written from
// the whole file: a resumed run, an optimise campaign, a merged sweep.
#include <set>
#include <string>
#include <vector>

#include "host/results.hpp"
#include "host/results_store.hpp"

namespace strata {

// The /population datasets of a file, read once as flat columns (about 120 bytes per
// design and step); row(r) builds one design's result, so a writer can go through a
// large population without holding it as VariantResult objects.
class PopulationColumns {
 public:
  // Throws h5::H5Error when a dataset the schema names is missing or short.
  explicit PopulationColumns(const ResultsStore& store);
  size_t rows() const { return ids_.size(); }
  const std::vector<std::string>& step_texts() const { return step_texts_; }
  VariantResult row(size_t r) const;
  std::vector<size_t> rows_by_design_id() const;   // row indices in design_id order
  std::set<std::string> materials_present() const;  // with a value in any row
  size_t layers_used() const;                        // the most layer positions any row has
  // The per-design columns of /population/var (named by path) and /population/objective
  // ("objective:<name>"), and their values in row r.
  const std::vector<std::string>& design_columns() const { return design_names_; }
  std::vector<double> design_values(size_t r) const;

 private:
  size_t layers_in(size_t q) const;  // layer positions with a value in row-step q
  std::vector<std::string> step_texts_, materials_, labels_, reasons_;
  std::vector<int64_t> ids_;
  std::vector<int32_t> status_, end_, steps_, newton_;
  std::vector<double> mass_, mat_, lay_;
  std::vector<double> thick_, poro_;  // rows x nl_ (NaN: a file from before they were written)
  std::vector<std::vector<double>> metric_;  // by kStepMetrics
  std::vector<std::string> design_names_;
  std::vector<std::vector<double>> design_;  // by design_names_
  size_t ns_ = 0, nm_ = 0, nl_ = 0;
};

struct StoredPopulation {
  std::vector<std::string> step_texts;   // /meta step_texts
  std::vector<VariantResult> results;    // one per row, ordered by design_id
};

// Throws h5::H5Error when a dataset the schema names is missing or unreadable.
StoredPopulation read_population(const ResultsStore& store);

// The step_end_notes over every design of a results file, as strata info and
// simulate print them: from the end_reason and max_ce_mol_m3 datasets only, with the
// table end recorded in /meta.
std::vector<std::string> step_end_notes_of_file(const ResultsStore& store);

}  // namespace strata
