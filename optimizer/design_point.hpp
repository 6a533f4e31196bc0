#pragma once
// A point of the design space and what evaluating it gives, shared by the search,
// the batching gate and the evaluators (the engine, or a test double).
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace strata {

struct DesignPoint {
  int choice = 0;          // index of the discrete choice (layer order)
  std::vector<double> x;   // physical values of the continuous variables (DesignSpec::variables order)
  std::string producer;    // "lhs", "optimizer 3", ...
};

struct Evaluation {
  double objective = std::numeric_limits<double>::quiet_NaN();  // the objective as defined (NaN: failed)
  double merit = std::numeric_limits<double>::infinity();        // minimised: -objective (maximise) + penalty
  double violation = 0.0;                                         // sum of squared relative violations
  std::vector<double> constraints;                                // constraint metric values
  int status = 0;
  int64_t design_id = -1;
};

// Evaluates whole batches of design points (the engine behind it, or a test double).
class BatchEvaluator {
 public:
  virtual ~BatchEvaluator() = default;
  virtual std::vector<Evaluation> evaluate(const std::vector<DesignPoint>& points) = 0;
};

}  // namespace strata
