#pragma once
// The engine behind the batching gate: each batch of design points becomes a batch
// of variants on the CPU backend, its rows go to the results file (flushed), and
// the objective/constraint values come back. On a resumed run, batches whose
// designs are already in the file are read from it instead of simulated, so the
// campaign replays to the same population.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host/results_store.hpp"
#include "host/scenario.hpp"
#include "host/variant_runner.hpp"
#include "optimizer/design_point.hpp"
#include "optimizer/design_space.hpp"

namespace strata {

class EngineEvaluator : public BatchEvaluator {
 public:
  // Batches run on runner (this process's CPU, or the ranks of an MPI run).
  EngineEvaluator(const Scenario& base, ResultsStore& store, const RunInfo& info, VariantRunner& runner);
  // Batches run on this process's CPU backend.
  EngineEvaluator(const Scenario& base, ResultsStore& store, const RunInfo& info, int threads, Layout layout);
  std::vector<Evaluation> evaluate(const std::vector<DesignPoint>& points) override;
  // Rows go to the file at most every kWriteInterval_s (ResultsStore::append_buffered):
  // optimiser batches are small and frequent.
  static constexpr double kWriteInterval_s = 0.5;

  // The variant each design id of this run stands for (for re-simulating the best).
  const std::map<int64_t, VariantSpec>& variants() const { return variants_; }
  long replayed() const { return replayed_; }  // designs read back from the file

 private:
  std::vector<Evaluation> replay(const std::vector<DesignPoint>& points, int64_t first_id);
  const Scenario& base_;
  Scenario light_;  // base without its variant list, for applying variants
  DesignSpace space_;
  ResultsStore& store_;
  const RunInfo& info_;
  std::unique_ptr<VariantRunner> own_runner_;  // the CPU runner when none is given
  VariantRunner& runner_;
  int64_t next_id_ = 0;
  int batch_index_ = 0;
  std::set<int64_t> in_file_;
  std::map<int64_t, VariantSpec> variants_;
  long replayed_ = 0;
};

}  // namespace strata
