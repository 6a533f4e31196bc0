#pragma once
// Ranking a population by an objective: the order of indices that sorts the keys
// ascending, ties in input order. With RankDevice::Auto (a run on the CUDA backend),
// large populations are sorted on the GPU (thrust::stable_sort_by_key,
// host/cuda/cuda_reduce.cu) when the CUDA backend is built and a device is visible,
// falling back to the CPU should that fail; otherwise, below kDeviceRankMinKeys, and
// always with RankDevice::Cpu (--device cpu, MPI mode), by std::stable_sort. Both
// give the same order.
#include <cstddef>
#include <vector>

namespace strata {

constexpr size_t kDeviceRankMinKeys = 1 << 16;

enum class RankDevice { Auto, Cpu, Cuda };

std::vector<int> rank_ascending(const std::vector<double>& keys, RankDevice device = RankDevice::Auto);

}  // namespace strata
