#pragma once
// Ranking a population by an objective: the order of indices that sorts the keys
// ascending, ties in input order. Large populations are sorted on the GPU
// (thrust::stable_sort_by_key, host/cuda/cuda_reduce.cu) when the CUDA backend is
// built and a device is visible; otherwise, and below kDeviceRankMinKeys, by
// std::stable_sort. Both give the same order.
#include <cstddef>
#include <vector>

namespace strata {

constexpr size_t kDeviceRankMinKeys = 1 << 16;

enum class RankDevice { Auto, Cpu, Cuda };

std::vector<int> rank_ascending(const std::vector<double>& keys, RankDevice device = RankDevice::Auto);

}  // namespace strata
