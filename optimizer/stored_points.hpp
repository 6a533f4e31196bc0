#pragma once
// The design-variable values a results file stores per row (/population/var/<path>),
// so that a resumed search can check that a row it reads back is the point it asks
// for: a file written by a strata whose search visits points in another order is
// then refused, not misread.
#include <string>
#include <vector>

#include "host/h5_file.hpp"

namespace strata {

class StoredPoints {
 public:
  StoredPoints(hid_t file, const std::vector<std::string>& var_paths) {
    for (const std::string& p : var_paths) columns_.push_back(h5::read_float64(file, "population/var/" + p));
  }
  // True when row `row` holds exactly x (bit for bit, in var_paths order).
  bool holds(size_t row, const std::vector<double>& x) const {
    if (x.size() != columns_.size()) return false;
    for (size_t j = 0; j < x.size(); ++j)
      if (!(columns_[j][row] == x[j])) return false;
    return true;
  }

 private:
  std::vector<std::vector<double>> columns_;
};

}  // namespace strata
