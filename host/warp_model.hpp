#pragma once
// Models of how the variants of a GPU warp keep in step, computed on the CPU from
// the work each variant does (strata_bench prints them; docs/performance.md). One
// thread per variant runs the 32 variants of a warp in lockstep: where their control
// flow parts, the warp runs each path in turn and the other lanes wait. The models
// count Newton iterations as the unit of work (the bulk of it) and give the share
// of lane time spent on useful ones.
#include <vector>

#include "host/batch.hpp"

namespace strata {

// The share of lane time doing work when a warp runs `lanes` consecutive variants and
// finishes with the slowest: sum(work) / sum over warps (lanes in the warp x most work
// in the warp). work: per variant, e.g. Newton iterations. 1 for equal work; a bound
// on what ordering a batch by work could recover (the last warp counts its own lanes).
double warp_lane_efficiency(const std::vector<long>& work, int lanes = 32);

// One variant's attempts in order (kernels/dfn_protocol.hpp, AttemptLog): protocol
// step index, AttemptKind (0 step, 1 event probe, 2 event finish), Newton iterations.
struct AttemptTrace {
  std::vector<int> protocol_step, kind, newton_iterations;
};

// Lane time busy with Newton iterations (useful / held), by loop structure:
struct WarpLoopModel {
  // Protocol steps, time steps and event location as nested loops: lanes wait for
  // each other at every protocol step's end; per time step the warp runs its slowest
  // attempt, then the event location of the lanes whose events start at that loop
  // index, in lockstep by probe number (the slowest lane's probe each), and their
  // slowest finishing attempt; the other lanes wait.
  double nested = 1.0;
  // One attempt per pass of a single loop (the integrator since 2026-12-04): per pass
  // the warp runs its slowest attempt.
  double flat_attempts = 1.0;
  // One Newton iteration per pass: the warp waits only for its variant with the most
  // iterations in all (warp_lane_efficiency of the totals).
  double flat_iterations = 1.0;
};
WarpLoopModel warp_loop_model(const std::vector<AttemptTrace>& variants, int lanes = 32);

// Runs every variant of the batch (all cores) and returns its attempts. The batch's
// records and outputs end as after run_batch_cpu (without trajectories). Throws
// std::runtime_error when a variant makes more than max_attempts attempts.
std::vector<AttemptTrace> trace_attempts(Batch& batch, long max_attempts = 1L << 16);

}  // namespace strata
