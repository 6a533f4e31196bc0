#pragma once
// How many variants of a batch each of P workers (MPI ranks) gets: in proportion to
// each one's measured throughput (variants/s), so that a slower rank gets fewer and
// does not hold up the batch. Contiguous slices in request order.
#include <vector>

namespace strata {

// Sizes summing to n, proportional to rates (largest remainders; ties to the lower
// index). A rate <= 0 or not finite counts as the mean of the others (or 1 when none is known).
std::vector<int> slice_sizes(int n, const std::vector<double>& rates);

// Throughput per worker, updated from each batch: variants / seconds of the slice
// each ran (a worker that ran nothing keeps its previous rate).
class ThroughputTracker {
 public:
  explicit ThroughputTracker(int workers) : rates_(workers, 0.0) {}
  void record(int worker, int variants, double seconds);
  const std::vector<double>& rates() const { return rates_; }

 private:
  std::vector<double> rates_;  // 0: not measured yet
};

}  // namespace strata
