#pragma once
// Packs the tables every variant shares (OCP curves, property tables) into the flat
// array the kernels read, with monotone PCHIP slopes (Fritsch-Butland).
#include <vector>

#include "host/scenario.hpp"
#include "kernels/materials.hpp"

namespace strata {

class TableBuilder {
 public:
  // Appends the table and returns its reference (n = 0 for an empty table).
  TableRef add(const Table1D& t);
  PropertyFn add_property(const ScalarOrTable& p);
  MaterialFns add_material(const ActiveMaterial& m);
  const std::vector<double>& data() const { return data_; }

 private:
  std::vector<double> data_;
};

// Monotone slopes (Fritsch-Butland weighted harmonic mean, as SciPy's PCHIP): a cubic Hermite interpolant through (x, y) with these
// slopes is monotone on every interval where the data are.
std::vector<double> pchip_slopes(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace strata
