#pragma once
// The evaluations of a campaign by design point, so that a point asked for again
// (an optimiser's start point, taken from the first population; a point a simplex
// or trust-region method revisits) is answered from its earlier evaluation instead
// of being simulated again. Keys are exact: (choice, physical values) bit for bit.
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "optimizer/design_point.hpp"

namespace strata {

class EvaluationMemo {
 public:
  void add(const std::vector<DesignPoint>& points, const std::vector<Evaluation>& evaluations) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < points.size() && i < evaluations.size(); ++i)
      known_.emplace(Key{points[i].choice, points[i].x}, evaluations[i]);
  }
  // True (and *out set) when the point was evaluated before.
  bool find(const DesignPoint& p, Evaluation* out) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = known_.find(Key{p.choice, p.x});
    if (it == known_.end()) return false;
    *out = it->second;
    ++hits_;
    return true;
  }
  long hits() const {
    std::lock_guard<std::mutex> lock(mu_);
    return hits_;
  }

 private:
  using Key = std::pair<int, std::vector<double>>;
  mutable std::mutex mu_;
  std::map<Key, Evaluation> known_;
  long hits_ = 0;
};

}  // namespace strata
