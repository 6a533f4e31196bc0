// The cooperative (warp-per-variant) block-tridiagonal solver, with the lanes of a
// warp emulated on the CPU between the barrier points: it must agree with block
// Thomas (kernels/tridiag.hpp) on the systems strata builds (3x3 blocks, 2 right-hand
// sides, 21-60 cells) and not depend on the order the lanes run in within a phase.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/block_pcr.hpp"
#include "kernels/strided.hpp"
#include "kernels/tridiag.hpp"

namespace strata {
namespace {

// A random block-diagonally dominant system in block Thomas storage: 33 n doubles
// (lower, diag, upper, rhs). L_0 and U_{n-1} hold garbage: both solvers must ignore it.
std::vector<double> random_system(int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> a(33L * n);
  for (double& x : a) x = u(rng);
  for (int i = 0; i < n; ++i)
    for (int r = 0; r < 3; ++r) a[9L * n + 9L * i + 4 * r] += (r == 1 ? -7.0 : 7.0);  // dominant, mixed signs
  for (int k = 0; k < 6 * n; ++k) a[27L * n + k] *= 1e3;  // rhs on another scale
  return a;
}

std::vector<double> thomas(int n, std::vector<double> a) {
  Strided<double> v{a.data(), 1};
  Strided<double> L = v.at(0), D = v.at(9L * n), U = v.at(18L * n), R = v.at(27L * n);
  EXPECT_TRUE((block_thomas_solve<3, 2>(n, L, D, U, R)));
  return std::vector<double>(a.begin() + 27L * n, a.end());
}

// PCR with n_lanes emulated lanes over a view of the given stride (1: blocked; > 1:
// the system interleaved with others, as in a batch buffer).
std::vector<double> pcr(int n, const std::vector<double>& sys, int n_lanes, long stride, bool reverse_lanes = false) {
  std::vector<double> a(sys.size() * stride, -99.0), b(sys.size() * stride, -99.0), x(6L * n * stride, -99.0);
  for (size_t k = 0; k < sys.size(); ++k) a[k * stride] = sys[k];
  const Strided<double> va{a.data(), stride}, vb{b.data(), stride}, vx{x.data(), stride};
  const BlockSystem<Strided<double>> A{va.at(0), va.at(9L * n), va.at(18L * n), va.at(27L * n)};
  const BlockSystem<Strided<double>> B{vb.at(0), vb.at(9L * n), vb.at(18L * n), vb.at(27L * n)};
  bool ok = true;
  if (!reverse_lanes) {
    ok = block_pcr_solve_emulated<3, 2>(n, n_lanes, A, B, vx);
  } else {
    const int P = block_pcr_reductions(n);
    for (int p = 0; p <= P; ++p)
      for (int lane = n_lanes - 1; lane >= 0; --lane)
        ok = block_pcr_phase<3, 2>(p, P, lane, n_lanes, n, block_pcr_source(p, A, B), block_pcr_source(p + 1, A, B), vx) && ok;
  }
  EXPECT_TRUE(ok);
  std::vector<double> out(6L * n);
  for (long k = 0; k < 6L * n; ++k) out[k] = vx[k];
  return out;
}

double rel_diff(const std::vector<double>& x, const std::vector<double>& y) {
  double num = 0.0, den = 0.0;
  for (size_t k = 0; k < x.size(); ++k) {
    num = std::max(num, std::fabs(x[k] - y[k]));
    den = std::max(den, std::fabs(y[k]));
  }
  return num / den;
}

TEST(BlockPcr, ReductionCountIsCeilLog2) {
  EXPECT_EQ(block_pcr_reductions(1), 0);
  EXPECT_EQ(block_pcr_reductions(2), 1);
  EXPECT_EQ(block_pcr_reductions(21), 5);
  EXPECT_EQ(block_pcr_reductions(32), 5);
  EXPECT_EQ(block_pcr_reductions(33), 6);
  EXPECT_EQ(block_pcr_reductions(60), 6);
}

TEST(BlockPcr, EmulatedWarpMatchesBlockThomas) {
  for (int n : {1, 2, 3, 5, 21, 32, 33, 47, 60})
    for (int lanes : {1, 7, 32})
      for (unsigned seed = 1; seed <= 5; ++seed) {
        const std::vector<double> sys = random_system(n, seed * 131 + n);
        const std::vector<double> ref = thomas(n, sys);
        EXPECT_LT(rel_diff(pcr(n, sys, lanes, 1), ref), 1e-12) << "n " << n << " lanes " << lanes << " seed " << seed;
      }
}

TEST(BlockPcr, InterleavedViewGivesTheSameBits) {
  for (int n : {21, 60}) {
    const std::vector<double> sys = random_system(n, 3);
    EXPECT_EQ(pcr(n, sys, 32, 1), pcr(n, sys, 32, 5)) << n;
  }
}

TEST(BlockPcr, LaneOrderWithinAPhaseDoesNotMatter) {
  // The lanes of a phase read one buffer and write the other, so any interleaving of
  // them (what the warp does) gives the same bits.
  for (int n : {21, 33, 60}) {
    const std::vector<double> sys = random_system(n, 11);
    EXPECT_EQ(pcr(n, sys, 32, 1), pcr(n, sys, 32, 1, true)) << n;
    EXPECT_EQ(pcr(n, sys, 32, 1), pcr(n, sys, 5, 1)) << n;
  }
}

// A system whose diagonal block D_10 is zero and decoupled from its neighbours.
std::vector<double> singular_system(int n) {
  std::vector<double> sys = random_system(n, 5);
  for (int k = 0; k < 9; ++k) sys[9L * n + 9L * 10 + k] = 0.0;  // D_10 = 0 ...
  for (int k = 0; k < 9; ++k) sys[9L * 10 + k] = 0.0;           // ... and decoupled: the matrix is singular
  for (int k = 0; k < 9; ++k) sys[18L * n + 9L * 10 + k] = 0.0;
  return sys;
}

// Solves with the scratch buffer and the solution first filled with `stale`; returns
// whether the solve succeeded and, in `after`, the system, scratch and solution buffers.
bool pcr_from_stale(int n, const std::vector<double>& sys, double stale, std::vector<double>& after) {
  std::vector<double> a = sys, b(sys.size(), stale), x(6L * n, stale);
  const Strided<double> va{a.data(), 1}, vb{b.data(), 1}, vx{x.data(), 1};
  const BlockSystem<Strided<double>> A{va.at(0), va.at(9L * n), va.at(18L * n), va.at(27L * n)};
  const BlockSystem<Strided<double>> B{vb.at(0), vb.at(9L * n), vb.at(18L * n), vb.at(27L * n)};
  const bool ok = block_pcr_solve_emulated<3, 2>(n, 32, A, B, vx);
  after = a;
  after.insert(after.end(), b.begin(), b.end());
  after.insert(after.end(), x.begin(), x.end());
  return ok;
}

TEST(BlockPcr, SingularDiagonalBlockIsReported) {
  std::vector<double> after;
  EXPECT_FALSE(pcr_from_stale(21, singular_system(21), 0.0, after));
}

TEST(BlockPcr, SingularSolveLeavesNothingOfTheScratchsOldContents) {
  // A failed variant's record must not depend on what its scratch held before (the
  // GPU reuses chunk buffers): rows with a singular block are written, as NaN.
  for (int n : {21, 26, 60}) {
    std::vector<double> first, second;
    EXPECT_FALSE(pcr_from_stale(n, singular_system(n), -99.0, first));
    EXPECT_FALSE(pcr_from_stale(n, singular_system(n), 12345.0, second));
    ASSERT_EQ(first.size(), second.size());
    EXPECT_EQ(std::memcmp(first.data(), second.data(), first.size() * sizeof(double)), 0) << n << " cells";
  }
}

}  // namespace
}  // namespace strata
