#include "host/population_rank.hpp"

#include <algorithm>
#include <exception>
#include <numeric>

#include "host/cuda/cuda_api.hpp"

namespace strata {

std::vector<int> rank_ascending(const std::vector<double>& keys, RankDevice device) {
  bool gpu = device == RankDevice::Cuda;
  if (device == RankDevice::Auto)
    gpu = keys.size() >= kDeviceRankMinKeys && cuda_backend_built() && cuda_device_info().count > 0;
  if (gpu && device == RankDevice::Cuda) return cuda_sort_indices_by_key(keys);
  if (gpu) {
    try {
      return cuda_sort_indices_by_key(keys);
    } catch (const std::exception&) {  // e.g. a device held by another process: sort here
    }
  }
  std::vector<int> idx(keys.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return keys[a] < keys[b]; });
  return idx;
}

}  // namespace strata
