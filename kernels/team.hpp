#pragma once
// Who runs one variant: a team of lanes that share its loops over cells.
//
// The numerics (dfn_newton.hpp, dfn_protocol.hpp) are written once against this
// interface: loops over cells, faces and state entries run `for (i = t.rank(); i < n;
// i += t.size())`, phases that read what other lanes wrote are separated by t.sync(),
// scalars every lane needs are all-reduced (identical on every lane, so control flow
// stays uniform), and single values (counters, outputs) are written by t.leader() only.
//
//  - SerialTeam: one CPU or GPU thread runs the variant (the CPU backend and the
//    thread-per-variant CUDA mapping); everything below compiles away.
//  - WarpTeam (kernels/cuda/warp_team.cuh): the 32 lanes of a warp share one
//    variant (the warp-per-variant mapping, host/gpu_plan.hpp).
//  - The CPU tests emulate a warp with real threads and a barrier
//    (tests/unit/thread_team.hpp), so missing barriers show up without a GPU.
// A reduction is not a barrier: on the GPU a shuffle orders no memory, while the CPU
// emulation's reductions do (they pass through barriers), so a sync() missing next to
// a reduction would pass the CPU tests and race on the GPU. Where lanes read what
// others wrote, call sync() even if a reduction sits in between.
#include "kernels/config.hpp"

namespace strata {

struct SerialTeam {
  STRATA_HD int rank() const { return 0; }
  STRATA_HD int size() const { return 1; }
  STRATA_HD bool leader() const { return true; }
  STRATA_HD void sync() const {}
  STRATA_HD double max(double x) const { return x; }
  STRATA_HD double min(double x) const { return x; }
  STRATA_HD double sum(double x) const { return x; }
  STRATA_HD bool any(bool b) const { return b; }
};

}  // namespace strata
