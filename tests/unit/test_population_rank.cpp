// Ranking a population by an objective (best-k trajectory selection): ascending,
// ties in input order, the same on every device.
#include <gtest/gtest.h>

#include "host/cuda/cuda_api.hpp"
#include "host/population_rank.hpp"

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

}  // namespace
}  // namespace strata
