#include "host/csv_export.hpp"

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "host/population_reader.hpp"
#include "host/results_store.hpp"
#include "host/simulate.hpp"

namespace strata {

std::string csv_path_beside(const std::string& h5_path) {
  std::filesystem::path csv(h5_path);
  csv.replace_extension(".csv");
  return csv.string();
}

size_t write_csv_of_results_file(const std::string& h5_path, const std::string& csv_path) {
  const ResultsStore store = ResultsStore::open_read(h5_path);
  const PopulationColumns cols(store);
  ResultsCsvWriter w(csv_path, cols.step_texts(), cols.materials_present(), cols.layers_used(), cols.design_columns());
  for (size_t r : cols.rows_by_design_id()) w.add(cols.row(r), cols.design_values(r));  // one design at a time
  w.close();
  return cols.rows();
}

int run_csv_export(const std::string& h5_path, const std::string& csv_path, bool quiet) {
  const std::string out = csv_path.empty() ? csv_path_beside(h5_path) : csv_path;
  std::error_code ec;
  const bool same_file = std::filesystem::exists(out, ec) && std::filesystem::equivalent(out, h5_path, ec);
  if (same_file || names_hdf5_file(out)) {  // never write a CSV over a results file
    std::cerr << "error: --out " << out
              << (same_file ? " is the results file itself" : " names an HDF5 file") << "; give a path ending in .csv\n";
    return 2;
  }
  try {
    const size_t n = write_csv_of_results_file(h5_path, out);
    if (!quiet) fmt::print("{}: {} designs -> {}\n", h5_path, n, out);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

}  // namespace strata
