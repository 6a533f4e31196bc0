#pragma once
// A design campaign: a space-filling first population evaluated as one batch, then
// NLopt optimisers (one per start point and discrete choice) running concurrently
// behind the batching gate, until the evaluation budget or the time runs out.
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "host/scenario.hpp"
#include "optimizer/design_point.hpp"
#include "optimizer/design_space.hpp"

namespace strata {

// One optimiser's trajectory: one row per objective call (its centre point).
struct OptimizerLog {
  int choice = 0;
  std::string algorithm;
  std::string end;                      // how it ended (NLopt's result or "budget")
  std::vector<int64_t> iteration, design_id;
  std::vector<double> points;           // iterations x variables, physical values
  std::vector<double> objective, best_objective;
};

// The best design: among those that ran and meet every constraint, the lowest merit;
// failing that, among those that ran, the lowest merit (a penalised breach); a failed
// design only when nothing ran (rank_key).
struct CampaignBest {
  int choice = 0;
  int64_t design_id = -1;
  double objective = std::numeric_limits<double>::quiet_NaN();
  double merit = std::numeric_limits<double>::infinity();
  double violation = 0.0;
  std::vector<double> constraints;  // the constraint metrics, as [[design.constraints]] lists them
  std::vector<double> x;
};

// How a design stands, best first.
enum class Standing { MeetsConstraints, BreaksAConstraint, Failed };
Standing standing(double objective, double violation);
// The ranking of designs (an Evaluation or a CampaignBest): better standing, then
// lower merit; a ranks before b when rank_key(a) < rank_key(b).
template <class E>
std::pair<Standing, double> rank_key(const E& e) {
  return {standing(e.objective, e.violation), e.merit};
}

struct CampaignProgress {
  long evaluations = 0, budget = 0, batches = 0;
  double best_objective = std::numeric_limits<double>::quiet_NaN();
  double elapsed_s = 0.0;
};

struct CampaignResult {
  long evaluations = 0;           // all, first population included
  long reused = 0;                // optimiser requests answered from an earlier evaluation (not simulated)
  long batches = 0;               // all, first population included
  long optimizer_batches = 0;
  double mean_batch_size = 0.0;   // of the optimiser phase
  int optimizers = 0;
  double wall_s = 0.0, evaluate_s = 0.0;  // total, and inside the evaluator
  std::vector<OptimizerLog> logs;
  std::vector<int> parked_per_batch, points_per_batch;  // optimiser phase, from the gate
  std::vector<CampaignBest> best_per_choice;
  CampaignBest best;
};

// How many optimisers a campaign starts: starts_per_choice for each discrete choice,
// fewer for a choice that has fewer points in the first population (its points are
// dealt over the choices in turn).
int planned_optimizers(const DesignSpec& spec, int choices);

// stop (optional): when it returns true, no further batch is launched.
CampaignResult run_campaign(const Scenario& base, BatchEvaluator& evaluator,
                            const std::function<void(const CampaignProgress&)>& progress = {},
                            const std::function<bool()>& stop = {});

}  // namespace strata
