#pragma once
// The design space of a scenario ([design], docs/optimizer.md): the map between
// the unit cube NLopt searches and physical design points, the discrete choices
// (layer orders), and the variant a design point stands for.
#include <string>
#include <vector>

#include "host/results.hpp"
#include "host/scenario.hpp"
#include "optimizer/design_point.hpp"

namespace strata {

class DesignSpace {
 public:
  explicit DesignSpace(const Scenario& base);

  int dimensions() const { return static_cast<int>(spec_.variables.size()); }
  // Discrete choices: every layer order crossed with every combination of the
  // material choices (mixed radix, the last material choice fastest).
  int choices() const { return static_cast<int>(orders_.size()) * combos_; }
  const std::vector<int>& order(int choice) const { return orders_[choice / combos_]; }
  // The material picked by each MaterialChoice in this discrete choice.
  std::vector<std::string> materials(int choice) const;
  // "order 0,1 NMO|NVP"-style description of a choice.
  std::string describe_choice(int choice) const;
  const DesignSpec& spec() const { return spec_; }
  std::vector<std::string> variable_names() const;
  // Override paths a design sets beyond its variables and stored with them: the
  // solid_volume_fraction of every material of a layer position with an active share
  // (in any layer order). Empty without active shares.
  const std::vector<std::string>& derived_names() const { return derived_; }
  // Their values in a design's variant (NaN where it does not set one).
  std::vector<double> derived_values(const VariantSpec& vs) const;
  // The /population/var columns of a campaign: the variables, then the derived paths.
  std::vector<std::string> stored_names() const;

  // Unit cube <-> physical values (linear or logarithmic per variable).
  std::vector<double> to_physical(const std::vector<double>& u) const;
  std::vector<double> to_unit(const std::vector<double>& x) const;

  // The variant (layer order and overrides) of a design point. Thickness fractions
  // and shares become layer thicknesses at the fixed total, active shares the solid
  // fractions of a layer's materials at its listed active content; a point whose fractions
  // leave no room for the other layers gets a rejected thickness and an "infeasible"
  // label (shares cannot).
  VariantSpec variant(const DesignPoint& p) const;

 private:
  DesignSpec spec_;
  std::vector<std::vector<int>> orders_;
  int combos_ = 1;
  std::vector<double> base_thickness_m_;  // as listed in the scenario
  std::vector<std::vector<double>> base_solid_fraction_;  // per listed layer, per material
  std::vector<std::string> derived_;
};

// The merit NLopt minimises: -objective (maximise) or objective (minimise), plus
// penalty_weight * sum of squared relative constraint violations; 1e6 for a failed design.
Evaluation make_evaluation(const Scenario& base, int64_t design_id, int status, double objective,
                           const std::vector<double>& constraints);
// The same from a simulated result (objective named by [design] objective).
Evaluation evaluate_result(const Scenario& base, const VariantResult& r);

}  // namespace strata
