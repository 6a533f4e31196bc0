#pragma once
// Reads the per-design results of a results file (/population) back into the
// reporting structures the runs produce, so that a CSV or table can be written from
// the whole file: a resumed run, an optimise campaign, a merged sweep.
#include <string>
#include <vector>

#include "host/results.hpp"
#include "host/results_store.hpp"

namespace strata {

struct StoredPopulation {
  std::vector<std::string> step_texts;   // /meta step_texts
  std::vector<VariantResult> results;    // one per row, ordered by design_id
};

// Throws h5::H5Error when a dataset the schema names is missing or unreadable.
StoredPopulation read_population(const ResultsStore& store);

// The counts behind step_end_notes over every design of the file, from the
// end_reason and max_ce_mol_m3 datasets only (a large file is not read whole), with
// the table end recorded in /meta.
StepEndTally tally_step_ends(const ResultsStore& store);
// The notes of a results file, as strata info and simulate print them.
std::vector<std::string> step_end_notes_of_file(const ResultsStore& store);

}  // namespace strata
