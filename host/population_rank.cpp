#include "host/population_rank.hpp"

#include <algorithm>
#include <numeric>

#include "host/cuda/cuda_api.hpp"

namespace strata {

std::vector<int> rank_ascending(const std::vector<double>& keys, RankDevice device) {
  bool gpu = device == RankDevice::Cuda;
  if (device == RankDevice::Auto)
    gpu = keys.size() >= kDeviceRankMinKeys && cuda_backend_built() && cuda_device_info().count > 0;
  if (gpu) return cuda_sort_indices_by_key(keys);
  std::vector<int> idx(keys.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return keys[a] < keys[b]; });
  return idx;
}

}  // namespace strata
