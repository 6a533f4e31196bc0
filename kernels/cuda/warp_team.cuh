#pragma once
// The 32 lanes of a warp as a team (kernels/team.hpp) for the warp-per-variant
// mapping. Barriers are __syncwarp(), which also orders the lanes' memory accesses;
// reductions are shuffles. max and min are exact in any order; sum reduces down to
// lane 0 and broadcasts, so every lane holds the same bits. Device code only.
#include "kernels/config.hpp"

namespace strata {

struct WarpTeam {
  int lane = 0;
  static constexpr unsigned kAll = 0xffffffffu;
  __device__ int rank() const { return lane; }
  __device__ int size() const { return 32; }
  __device__ bool leader() const { return lane == 0; }
  __device__ void sync() const { __syncwarp(); }
  __device__ double max(double x) const {
    for (int o = 16; o > 0; o >>= 1) x = fmax(x, __shfl_xor_sync(kAll, x, o));
    return x;
  }
  __device__ double min(double x) const {
    for (int o = 16; o > 0; o >>= 1) x = fmin(x, __shfl_xor_sync(kAll, x, o));
    return x;
  }
  __device__ double sum(double x) const {
    for (int o = 16; o > 0; o >>= 1) x += __shfl_down_sync(kAll, x, o);
    return __shfl_sync(kAll, x, 0);
  }
  __device__ bool any(bool b) const { return __any_sync(kAll, b) != 0; }
};

}  // namespace strata
