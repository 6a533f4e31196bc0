#pragma once
// How much Newton work one pass of the integrator's loop runs (kernels/dfn_protocol.hpp).
// The results are the same bits either way; what differs is how the threads of a GPU
// warp that run different variants keep in step (docs/performance.md, divergence).
namespace strata {

enum class PassUnit : int {
  Attempt = 0,          // a whole Newton solve per pass: fewer passes, for a variant run alone
  NewtonIteration = 1,  // one Newton iteration per pass: for threads of a warp on different variants
};

}  // namespace strata
