#pragma once
// How many variants of a batch each of P workers (MPI ranks) gets: in proportion to
// each one's measured throughput (variants/s), so that a slower rank gets fewer and
// does not hold up the batch. Contiguous slices in request order.
#include <vector>

namespace strata {

// How far a rank's share may move from the median rank's: a rank twice as fast gets
// twice the designs, one measured 100 times faster still only twice. Until 2026-12-07
// there was no bound: a rank that drew the slow designs of one batch got none in the
// next and was never measured again (idle for the rest of the run), and one whose
// designs all failed at once got most of the next batch.
constexpr double kMaxShareRatio = 2.0;

// Sizes summing to n, proportional to rates (largest remainders; ties to the lower
// index), each rate first bounded to [median / kMaxShareRatio, median * kMaxShareRatio].
// A rate <= 0 or not finite counts as the mean of the others (or 1 when none is known).
std::vector<int> slice_sizes(int n, const std::vector<double>& rates);

// How long rank 0 waits for the other ranks' results once a stop signal has arrived
// before it takes their silence for a dead rank and aborts the job: they were
// signalled too and finish only the designs they are running, none of which takes
// longer than a whole batch has, so twice the longest batch so far, and at least 30 s
// (the first batch; a scheduler's SIGKILL ends a cancelled job anyway). Until
// 2026-12-07 it was 5 s, which aborted healthy jobs whose designs take longer.
double grace_after_signal_s(double longest_batch_s);

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
