#pragma once
// `strata optimize SCENARIO`: the design campaign of the scenario's [design]
// section, written to the HDF5 results file (population, optimiser trajectories,
// trajectories of the best designs), resumable.
#include <string>

#include "host/simulate.hpp"

namespace strata {

// Same options as simulate (the CSV flag is ignored), plus design_objective and
// budget_scale. Exit codes as run_simulate.
int run_optimize(const SimulateOptions& opt);

// Multiplies the initial population and the evaluation budgets by scale (at least 1 each).
void scale_design_budget(DesignSpec& d, double scale);

}  // namespace strata

namespace strata {

// `strata fit SCENARIO`: calibrates the [fit] parameters against the [fit] targets,
// prints the fitted values with uncertainties and the residual of every target, and
// writes the evaluations and the report (/fit) to the results file.
int run_fit_command(const SimulateOptions& opt);

}  // namespace strata
