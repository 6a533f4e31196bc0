#pragma once
// Test helpers for the design search on the real model: simulate chosen design points
// directly (the known answer) and run a scenario's [design] campaign into a file.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "host/cpu_backend.hpp"
#include "host/results.hpp"
#include "host/results_store.hpp"
#include "host/simulate.hpp"
#include "optimizer/campaign.hpp"
#include "optimizer/design_space.hpp"
#include "optimizer/engine_evaluator.hpp"

namespace strata::test {

// Results, in the order given, of design points of base's [design] space, simulated as
// one batch on the CPU.
inline std::vector<VariantResult> simulate_design_points(const Scenario& base, const std::vector<DesignPoint>& points) {
  const DesignSpace space(base);
  Scenario batch = base;
  batch.variants.clear();
  for (const DesignPoint& p : points) batch.variants.push_back(space.variant(p));
  Batch b = build_batch(resolve_variants(batch), Layout::Blocked);
  run_batch_cpu(b, 0);
  return collect_results(b);
}

// Runs base's [design] campaign on the CPU into a new results file `out`, finished
// ("complete") when it returns.
inline CampaignResult run_campaign_into(const Scenario& base, const std::string& out) {
  RunInfo info = run_info_for(base, "test", "cpu");
  info.var_paths = DesignSpace(base).stored_names();
  ResultsStore store = ResultsStore::create(out, info, false);
  EngineEvaluator ev(base, store, info, 0, Layout::Blocked);
  const CampaignResult r = run_campaign(base, ev);
  store.finish("complete");
  return r;
}

// Best value of `objective` among the first population ("lhs" rows) of a campaign's
// results file; with floor_objective, only rows where that objective is >= floor.
inline double first_population_best(const std::string& file, const std::string& objective,
                                    const std::string& floor_objective = "", double floor = 0.0) {
  const ResultsStore rd = ResultsStore::open_read(file);
  const auto producer = h5::read_strings(rd.file(), "population/producer");
  const auto obj = h5::read_float64(rd.file(), "population/objective/" + objective);
  const auto gate = floor_objective.empty() ? obj : h5::read_float64(rd.file(), "population/objective/" + floor_objective);
  double best = -1;
  for (size_t k = 0; k < obj.size(); ++k)
    if (producer[k] == "lhs" && std::isfinite(obj[k]) && (floor_objective.empty() || gate[k] >= floor))
      best = std::max(best, obj[k]);
  return best;
}

}  // namespace strata::test
