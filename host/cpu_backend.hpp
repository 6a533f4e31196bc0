#pragma once
// The CPU backend: runs the kernels' protocol on every variant of a batch over
// all cores (OpenMP), in either layout.
#include <atomic>
#include <functional>
#include <vector>

#include "host/batch.hpp"

namespace strata {

struct RunStats {
  double wall_s = 0.0;
  int threads = 1;
  std::vector<char> ran;  // per variant: 1 if it ran (0: skipped after cancellation)
};

// threads <= 0: all cores. progress (optional) is called from a monitor thread
// with the number of finished variants, about five times a second. Once
// cancelled() returns true, variants not yet started are skipped.
RunStats run_batch_cpu(Batch& batch, int threads, const std::function<void(int)>& progress = {},
                       const std::function<bool()>& cancelled = {});
// Several batches (of different shapes, either layout) as one pool of variants: `ran`
// and progress count over the pool, batch by batch in the order given.
RunStats run_batches_cpu(const std::vector<Batch*>& batches, int threads,
                         const std::function<void(int)>& progress = {}, const std::function<bool()>& cancelled = {});

}  // namespace strata
