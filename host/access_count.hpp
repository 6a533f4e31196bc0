#pragma once
// The memory side of the per-step cost model (docs/performance.md, "Cost per time
// step"): runs one variant of a batch on the CPU through a view that counts every
// access to its record (reads and writes of the parameters, the four state copies and
// the Newton workspace), the traffic a GPU thread makes to global memory when
// nothing is cached. Same numerics as the backends (the view only counts).
#include "host/batch.hpp"

namespace strata {

struct AccessCount {
  long record_accesses = 0;     // element accesses (8 bytes each) to the record and outputs
  long time_steps = 0;          // accepted steps of the run
  long newton_iterations = 0;
  long record_doubles = 0;      // record size: what a step touches at least once
  double accesses_per_step() const { return time_steps ? double(record_accesses) / time_steps : 0.0; }
  double accesses_per_newton() const { return newton_iterations ? double(record_accesses) / newton_iterations : 0.0; }
};

// Runs variant v of the batch (a copy of its record; the batch is not changed).
AccessCount count_record_accesses(const Batch& batch, int v);

}  // namespace strata
