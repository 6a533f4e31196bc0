// Ranking a population by an objective (best-k trajectory selection): ascending,
// ties in input order, the same on every device.
#include <gtest/gtest.h>

#include "host/cuda/cuda_api.hpp"
#include "host/population_rank.hpp"
#include "host/simulate.hpp"

namespace strata {
namespace {

TEST(PopulationRank, AscendingWithTiesInInputOrder) {
  const std::vector<double> keys = {3.0, -1.0, 2.0, -1.0, 7.0, 2.0};
  EXPECT_EQ(rank_ascending(keys, RankDevice::Cpu), (std::vector<int>{1, 3, 2, 5, 0, 4}));
  EXPECT_EQ(rank_ascending(keys), rank_ascending(keys, RankDevice::Cpu));
  EXPECT_TRUE(rank_ascending({}, RankDevice::Cpu).empty());
}

TEST(PopulationRank, CudaRequestWithoutTheBackendSaysSo) {
  if (cuda_backend_built()) GTEST_SKIP() << "CUDA backend built: tests/gpu covers the device ranking";
  EXPECT_THROW(rank_ascending({1.0, 0.0}, RankDevice::Cuda), std::runtime_error);
}

// A run's best designs are ranked on the GPU only when the run itself uses the CUDA
// backend (strata_main sets Auto there): --device cpu and MPI mode keep the default,
// so that they never open a CUDA context (until 2026-12-07 a CPU run with 65,536 or
// more ranked designs did, and failed where the GPU was held by another process).
// Auto gives the CPU's order for a large population, on whatever device it used.
TEST(PopulationRank, OnlyARunOnTheCudaBackendRanksOnTheGpu) {
  EXPECT_EQ(SimulateOptions{}.rank_device, RankDevice::Cpu);
  std::vector<double> keys(kDeviceRankMinKeys + 3);
  for (size_t k = 0; k < keys.size(); ++k) keys[k] = static_cast<double>((k * 7919) % 1000);
  EXPECT_EQ(rank_ascending(keys, RankDevice::Auto), rank_ascending(keys, RankDevice::Cpu));
}

}  // namespace
}  // namespace strata
