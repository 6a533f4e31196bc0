#pragma once
// Calibration: parameters shared by every variant (the measured electrodes) fitted
// to measured step metrics by minimising chi2 = sum(((simulated - measured)/sigma)^2)
// with the same batched search as the design campaign (each parameter point
// simulates every electrode in the same batch); uncertainties from the Jacobian of
// the weighted residuals at the optimum (one more batch).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host/results_store.hpp"
#include "host/scenario.hpp"
#include "host/variant_runner.hpp"
#include "optimizer/design_point.hpp"

namespace strata {

// The scenario the campaign machinery sees for a fit: one discrete choice, the fit
// parameters as design variables, one objective "misfit" (chi2) to minimise.
Scenario fit_campaign_scenario(const Scenario& base);

class FitEvaluator : public BatchEvaluator {
 public:
  // store may be null (no file). Batches run on runner (this process's CPU, or MPI ranks).
  FitEvaluator(const Scenario& base, ResultsStore* store, const RunInfo* info, VariantRunner& runner);
  // Batches run on this process's CPU backend.
  FitEvaluator(const Scenario& base, ResultsStore* store, const RunInfo* info, int threads, Layout layout);
  std::vector<Evaluation> evaluate(const std::vector<DesignPoint>& points) override;

  // Simulated target values and weighted residuals of the last evaluation of x.
  struct Residuals {
    // By FitSpec::targets: the simulated value (for a potential curve, the RMS
    // potential difference in V) and the weighted residual (for a curve, the RMS of
    // its points' weighted residuals).
    std::vector<double> simulated, per_target;
    std::vector<double> weighted;  // every residual entry (one per scalar target, one per curve point)
    bool ok = false;
  };
  // Evaluates the points as one batch and returns their residuals.
  std::vector<Residuals> residuals(const std::vector<DesignPoint>& points);
  long replayed() const { return replayed_; }

 private:
  std::vector<Residuals> simulate(const std::vector<DesignPoint>& points, int64_t first_row);
  const Scenario& base_;
  Scenario campaign_;   // fit_campaign_scenario(base_)
  Scenario light_;
  ResultsStore* store_;
  const RunInfo* info_;
  std::unique_ptr<VariantRunner> own_runner_;  // the CPU runner when none is given
  VariantRunner& runner_;
  int64_t next_row_ = 0;
  int batch_index_ = 0;
  std::set<int64_t> in_file_;
  long replayed_ = 0;
};

struct FitReport {
  std::vector<std::string> names;
  std::vector<double> values, sigma;      // physical values and 1-sigma uncertainties
  std::vector<double> covariance;         // p x p, in the search coordinates (ln for log parameters)
  std::vector<bool> log_scale;
  std::vector<double> simulated;          // by target
  std::vector<double> weighted_residuals; // by target: (simulated - measured)/sigma, RMS for a curve
  double chi2 = 0.0;
  int dof = 0;
  bool jacobian_ok = false;
  long evaluations = 0, batches = 0;
};

// Runs the calibration: search (first population + optimisers), then the Jacobian.
FitReport run_fit(const Scenario& base, FitEvaluator& evaluator);

// Writes the report as attributes of /fit.
void write_fit_report(ResultsStore& store, const Scenario& base, const FitReport& r);

}  // namespace strata
