#pragma once
// The CSV of a results file: one row per design and protocol step
// (docs/output-format.md), written from the file's /population, so it holds every
// design the file holds (a resumed run, a campaign, a merged sweep).
#include <string>

namespace strata {

// The CSV path beside a results file: FILE.h5 -> FILE.csv.
std::string csv_path_beside(const std::string& h5_path);

// Writes the CSV of h5_path to csv_path and returns the number of designs in it.
// Throws ResultsStoreError / h5::H5Error (unreadable file) or std::runtime_error
// (cannot write csv_path).
size_t write_csv_of_results_file(const std::string& h5_path, const std::string& csv_path);

// `strata csv FILE.h5 [--out FILE.csv]`: exit 0, or 2 with a message on stderr.
int run_csv_export(const std::string& h5_path, const std::string& csv_path, bool quiet);

}  // namespace strata
