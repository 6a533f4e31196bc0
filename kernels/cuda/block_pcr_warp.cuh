#pragma once
// The warp-per-system driver of the cooperative block-tridiagonal solve
// (kernels/block_pcr.hpp): the 32 lanes run each phase on their rows, then meet at
// __syncwarp(). The CPU test emulates exactly this loop (block_pcr_solve_emulated).
#include "kernels/block_pcr.hpp"

namespace strata {

template <int B, int R, class V>
__device__ bool block_pcr_warp_solve(int n, const BlockSystem<V>& a, const BlockSystem<V>& b, const V& x) {
  const int lane = threadIdx.x & 31;
  const int P = block_pcr_reductions(n);
  bool ok = true;
  for (int p = 0; p <= P; ++p) {
    ok = block_pcr_phase<B, R>(p, P, lane, 32, n, block_pcr_source(p, a, b), block_pcr_source(p + 1, a, b), x) && ok;
    __syncwarp();  // barrier: phase p + 1 reads what every lane wrote in phase p
  }
  return __all_sync(0xffffffffu, ok);
}

}  // namespace strata
