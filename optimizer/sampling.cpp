#include "optimizer/sampling.hpp"

#include <algorithm>
#include <numeric>
#include <random>

namespace strata {

std::vector<std::vector<double>> latin_hypercube(int n, int d, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<std::vector<double>> pts(n, std::vector<double>(d));
  std::vector<int> perm(n);
  for (int j = 0; j < d; ++j) {
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (int i = 0; i < n; ++i) pts[i][j] = (perm[i] + u(rng)) / n;
  }
  return pts;
}

std::vector<std::vector<double>> uniform_random(int n, int d, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<std::vector<double>> pts(n, std::vector<double>(d));
  for (auto& p : pts)
    for (double& v : p) v = u(rng);
  return pts;
}

}  // namespace strata
