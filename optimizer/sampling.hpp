#pragma once
// Space-filling first populations in the unit cube.
#include <cstdint>
#include <vector>

namespace strata {

// n points in [0,1]^d: a Latin hypercube (each axis cut in n strata, one point per
// stratum, at a random place in it, strata paired by random permutations), seeded.
std::vector<std::vector<double>> latin_hypercube(int n, int d, uint64_t seed);

// n independent uniform points in [0,1]^d, seeded.
std::vector<std::vector<double>> uniform_random(int n, int d, uint64_t seed);

}  // namespace strata
