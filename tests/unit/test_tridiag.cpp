// Tests for kernels/tridiag.hpp: thomas_solve and block_thomas_solve over a batch of
// random, well-conditioned variants in both layouts (blocked and interleaved), checked
// against a dense Gaussian elimination with partial pivoting written here; the two
// layouts must give bitwise-identical solutions. Also: thomas_solve_many's right-hand
// sides, solve_small (the block Thomas step) and invert_small (PCR) pivot within a
// block, and the solvers report zero pivots / singular blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "kernels/strided.hpp"
#include "kernels/tridiag.hpp"

namespace {

using strata::Layout;
using strata::Strided;
using strata::variant_view;

constexpr int kVariants = 37;
constexpr double kTol = 1e-12;
constexpr Layout kLayouts[] = {Layout::Blocked, Layout::Interleaved};

const char* layout_name(Layout l) { return l == Layout::Blocked ? "blocked" : "interleaved"; }

double uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

// Solves A X = Y by Gaussian elimination with partial pivoting. A: m x m row-major,
// Y: m x r row-major. Returns X (m x r). Fails the test on an exactly singular A.
std::vector<double> dense_solve(std::vector<double> A, std::vector<double> Y, int m, int r) {
  for (int col = 0; col < m; ++col) {
    int p = col;
    for (int i = col + 1; i < m; ++i)
      if (std::fabs(A[i * m + col]) > std::fabs(A[p * m + col])) p = i;
    if (A[p * m + col] == 0.0) {
      ADD_FAILURE() << "reference matrix is singular";
      return std::vector<double>(Y.size(), std::nan(""));
    }
    if (p != col) {
      for (int j = 0; j < m; ++j) std::swap(A[p * m + j], A[col * m + j]);
      for (int k = 0; k < r; ++k) std::swap(Y[p * r + k], Y[col * r + k]);
    }
    for (int i = col + 1; i < m; ++i) {
      const double f = A[i * m + col] / A[col * m + col];
      if (f == 0.0) continue;
      for (int j = col; j < m; ++j) A[i * m + j] -= f * A[col * m + j];
      for (int k = 0; k < r; ++k) Y[i * r + k] -= f * Y[col * r + k];
    }
  }
  std::vector<double> X(Y.size());
  for (int i = m - 1; i >= 0; --i)
    for (int k = 0; k < r; ++k) {
      double s = Y[i * r + k];
      for (int j = i + 1; j < m; ++j) s -= A[i * m + j] * X[j * r + k];
      X[i * r + k] = s / A[i * m + i];
    }
  return X;
}

// ||x - ref||_inf / ||ref||_inf (NaN-safe: a NaN in x gives +inf).
double rel_err(const std::vector<double>& x, const std::vector<double>& ref) {
  EXPECT_EQ(x.size(), ref.size());
  double num = 0.0, den = 0.0;
  for (std::size_t k = 0; k < x.size() && k < ref.size(); ++k) {
    const double e = std::fabs(x[k] - ref[k]);
    num = (e == e) ? std::fmax(num, e) : std::numeric_limits<double>::infinity();
    den = std::fmax(den, std::fabs(ref[k]));
  }
  return den > 0.0 ? num / den : num;
}

bool bitwise_equal(const std::vector<double>& x, const std::vector<double>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0;
}

// ---------------------------------------------------------------------------------
// Scalar tridiagonal (thomas_solve)
// ---------------------------------------------------------------------------------

struct TriSystem {
  std::vector<double> a, b, c, d;  // a[0], c[n-1] unused (filled with junk on purpose)
};

TriSystem random_tri(int n, std::mt19937_64& rng) {
  TriSystem s{std::vector<double>(n), std::vector<double>(n), std::vector<double>(n),
              std::vector<double>(n)};
  for (int i = 0; i < n; ++i) {
    s.a[i] = uniform(rng, -1.0, 1.0);
    s.c[i] = uniform(rng, -1.0, 1.0);
    s.d[i] = uniform(rng, -10.0, 10.0);
  }
  for (int i = 0; i < n; ++i) {
    const double off = (i > 0 ? std::fabs(s.a[i]) : 0.0) + (i < n - 1 ? std::fabs(s.c[i]) : 0.0);
    const double mag = off + uniform(rng, 0.5, 2.0);
    s.b[i] = (rng() & 1) ? mag : -mag;
  }
  return s;
}

std::vector<double> dense_reference(const TriSystem& s, int n) {
  std::vector<double> A(n * n, 0.0);
  for (int i = 0; i < n; ++i) {
    A[i * n + i] = s.b[i];
    if (i > 0) A[i * n + i - 1] = s.a[i];
    if (i < n - 1) A[i * n + i + 1] = s.c[i];
  }
  return dense_solve(A, s.d, n, 1);
}

// Solves every variant of the batch in one set of buffers laid out as `layout`.
std::vector<std::vector<double>> thomas_batch(const std::vector<TriSystem>& sys, int n,
                                              Layout layout) {
  const int N = static_cast<int>(sys.size());
  std::vector<double> a(N * n), b(N * n), c(N * n), d(N * n);
  std::vector<double> cp(N * n, std::nan(""));  // scratch: must be written before it is read
  auto view = [&](std::vector<double>& buf, int v) {
    return variant_view(buf.data(), layout, N, n, v);
  };
  for (int v = 0; v < N; ++v) {
    auto va = view(a, v), vb = view(b, v), vc = view(c, v), vd = view(d, v);
    for (int k = 0; k < n; ++k) {
      va[k] = sys[v].a[k];
      vb[k] = sys[v].b[k];
      vc[k] = sys[v].c[k];
      vd[k] = sys[v].d[k];
    }
  }
  std::vector<std::vector<double>> x(N, std::vector<double>(n));
  for (int v = 0; v < N; ++v) {
    SCOPED_TRACE(testing::Message() << "variant " << v);
    const Strided<double> va = view(a, v), vb = view(b, v), vc = view(c, v);
    Strided<double> vd = view(d, v), vcp = view(cp, v);
    EXPECT_TRUE(strata::thomas_solve(n, va, vb, vc, vd, vcp));
    for (int k = 0; k < n; ++k) {
      x[v][k] = vd[k];
      // Coefficients are inputs only.
      EXPECT_EQ(va[k], sys[v].a[k]);
      EXPECT_EQ(vb[k], sys[v].b[k]);
      EXPECT_EQ(vc[k], sys[v].c[k]);
    }
  }
  return x;
}

TEST(TridiagThomas, MatchesDenseBothLayoutsBitwiseEqual) {
  for (int n : {1, 2, 3, 17, 64}) {
    SCOPED_TRACE(testing::Message() << "n = " << n);
    std::mt19937_64 rng(0x7121da90ULL + n);
    std::vector<TriSystem> sys;
    for (int v = 0; v < kVariants; ++v) sys.push_back(random_tri(n, rng));

    const auto xb = thomas_batch(sys, n, Layout::Blocked);
    const auto xi = thomas_batch(sys, n, Layout::Interleaved);
    for (int v = 0; v < kVariants; ++v) {
      SCOPED_TRACE(testing::Message() << "variant " << v);
      const auto ref = dense_reference(sys[v], n);
      EXPECT_LT(rel_err(xb[v], ref), kTol);
      EXPECT_TRUE(bitwise_equal(xb[v], xi[v])) << "blocked and interleaved solutions differ";
    }
  }
}

// Variants really are different systems (guards against a test that solves one
// system N times): the solutions of distinct variants differ.
TEST(TridiagThomas, VariantsAreIndependent) {
  const int n = 17;
  std::mt19937_64 rng(42);
  std::vector<TriSystem> sys;
  for (int v = 0; v < kVariants; ++v) sys.push_back(random_tri(n, rng));
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    const auto x = thomas_batch(sys, n, layout);
    for (int v = 1; v < kVariants; ++v) EXPECT_FALSE(bitwise_equal(x[v], x[0]));
    // Changing one variant's data changes only that variant's solution.
    auto sys2 = sys;
    sys2[5].d[3] += 1.0;
    const auto x2 = thomas_batch(sys2, n, layout);
    for (int v = 0; v < kVariants; ++v)
      EXPECT_EQ(bitwise_equal(x[v], x2[v]), v != 5) << "variant " << v;
  }
}

// Several right-hand sides share one elimination (the particle columns solve two):
// each solution is the one thomas_solve gives alone, bit for bit, and the dense one.
TEST(TridiagThomas, SeveralRightHandSidesShareTheElimination) {
  std::mt19937_64 rng(4242);
  for (int n : {1, 2, 8, 33}) {
    const TriSystem s = random_tri(n, rng);
    std::vector<double> d1 = s.d, d2(n), cp(n);
    for (double& x : d2) x = uniform(rng, -10.0, 10.0);
    const std::vector<double> d2_in = d2;
    Strided<double> v1{d1.data(), 1}, v2{d2.data(), 1}, vcp{cp.data(), 1};
    ASSERT_TRUE(strata::thomas_solve_many(n, s.a.data(), s.b.data(), s.c.data(), vcp, v1, v2));
    TriSystem s2 = s;
    s2.d = d2_in;
    for (const auto& [x, sys] : {std::pair{d1, s}, std::pair{d2, s2}}) {
      std::vector<double> alone = sys.d, cp1(n);
      Strided<double> va{alone.data(), 1}, vcp1{cp1.data(), 1};
      ASSERT_TRUE(strata::thomas_solve(n, sys.a.data(), sys.b.data(), sys.c.data(), va, vcp1));
      EXPECT_TRUE(bitwise_equal(x, alone)) << "n = " << n;
      EXPECT_LT(rel_err(x, dense_reference(sys, n)), kTol) << "n = " << n;
    }
  }
}

// ---------------------------------------------------------------------------------
// Block tridiagonal (block_thomas_solve)
// ---------------------------------------------------------------------------------

struct BlockSystem {
  // Per block row i, row-major B x B: L at [i*B*B], D, U likewise; rhs at [i*B*R + r*R + k].
  std::vector<double> L, D, U, rhs;
};

// Random blocks; D made diagonally dominant by adding (sum |row| of L, D, U) + 1 to its
// diagonal. L_0 and U_{n-1} hold junk that the solver must ignore.
template <int B, int R>
BlockSystem random_block(int n, std::mt19937_64& rng) {
  constexpr int BB = B * B;
  BlockSystem s{std::vector<double>(n * BB), std::vector<double>(n * BB),
                std::vector<double>(n * BB), std::vector<double>(n * B * R)};
  for (auto* v : {&s.L, &s.D, &s.U})
    for (double& x : *v) x = uniform(rng, -1.0, 1.0);
  for (double& x : s.rhs) x = uniform(rng, -10.0, 10.0);
  for (int i = 0; i < n; ++i)
    for (int r = 0; r < B; ++r) {
      double sum = 0.0;
      for (int c = 0; c < B; ++c) {
        sum += std::fabs(s.D[i * BB + r * B + c]);
        if (i > 0) sum += std::fabs(s.L[i * BB + r * B + c]);
        if (i < n - 1) sum += std::fabs(s.U[i * BB + r * B + c]);
      }
      double& dd = s.D[i * BB + r * B + r];
      dd += (dd >= 0.0 ? 1.0 : -1.0) * (sum + 1.0);
    }
  return s;
}

template <int B, int R>
std::vector<double> dense_reference(const BlockSystem& s, int n) {
  constexpr int BB = B * B;
  const int m = n * B;
  std::vector<double> A(m * m, 0.0);
  for (int i = 0; i < n; ++i)
    for (int r = 0; r < B; ++r)
      for (int c = 0; c < B; ++c) {
        const int row = i * B + r;
        A[row * m + i * B + c] = s.D[i * BB + r * B + c];
        if (i > 0) A[row * m + (i - 1) * B + c] = s.L[i * BB + r * B + c];
        if (i < n - 1) A[row * m + (i + 1) * B + c] = s.U[i * BB + r * B + c];
      }
  // rhs[i*B*R + r*R + k] is exactly row (i*B + r), column k of an m x R matrix.
  return dense_solve(A, s.rhs, m, R);
}

// Solves every variant of the batch in one set of buffers laid out as `layout`;
// returns each variant's solution (n*B*R values, rhs ordering).
template <int B, int R>
std::vector<std::vector<double>> block_batch(const std::vector<BlockSystem>& sys, int n,
                                             Layout layout) {
  constexpr int BB = B * B;
  const int N = static_cast<int>(sys.size());
  const int mat_rec = n * BB, rhs_rec = n * B * R;
  std::vector<double> L(N * mat_rec), D(N * mat_rec), U(N * mat_rec), Y(N * rhs_rec);
  for (int v = 0; v < N; ++v) {
    auto vl = variant_view(L.data(), layout, N, mat_rec, v);
    auto vd = variant_view(D.data(), layout, N, mat_rec, v);
    auto vu = variant_view(U.data(), layout, N, mat_rec, v);
    auto vy = variant_view(Y.data(), layout, N, rhs_rec, v);
    for (int k = 0; k < mat_rec; ++k) {
      vl[k] = sys[v].L[k];
      vd[k] = sys[v].D[k];
      vu[k] = sys[v].U[k];
    }
    for (int k = 0; k < rhs_rec; ++k) vy[k] = sys[v].rhs[k];
  }
  std::vector<std::vector<double>> x(N, std::vector<double>(rhs_rec));
  for (int v = 0; v < N; ++v) {
    SCOPED_TRACE(testing::Message() << "variant " << v);
    const Strided<double> vl = variant_view(L.data(), layout, N, mat_rec, v);
    Strided<double> vd = variant_view(D.data(), layout, N, mat_rec, v);
    Strided<double> vu = variant_view(U.data(), layout, N, mat_rec, v);
    Strided<double> vy = variant_view(Y.data(), layout, N, rhs_rec, v);
    EXPECT_TRUE((strata::block_thomas_solve<B, R>(n, vl, vd, vu, vy)));
    for (int k = 0; k < rhs_rec; ++k) x[v][k] = vy[k];
    for (int k = 0; k < mat_rec; ++k) EXPECT_EQ(vl[k], sys[v].L[k]) << "lower is an input";
  }
  return x;
}

template <int B, int R>
void check_block_batch(const std::vector<BlockSystem>& sys, int n) {
  SCOPED_TRACE(testing::Message() << "B = " << B << ", R = " << R << ", n = " << n);
  const auto xb = block_batch<B, R>(sys, n, Layout::Blocked);
  const auto xi = block_batch<B, R>(sys, n, Layout::Interleaved);
  for (std::size_t v = 0; v < sys.size(); ++v) {
    SCOPED_TRACE(testing::Message() << "variant " << v);
    EXPECT_LT(rel_err(xb[v], dense_reference<B, R>(sys[v], n)), kTol);
    EXPECT_TRUE(bitwise_equal(xb[v], xi[v])) << "blocked and interleaved solutions differ";
  }
}

template <int B, int R>
void run_random_block_cases() {
  for (int n : {1, 2, 5, 40}) {
    std::mt19937_64 rng(1000003ULL * B + 1009ULL * R + n);
    std::vector<BlockSystem> sys;
    for (int v = 0; v < kVariants; ++v) sys.push_back(random_block<B, R>(n, rng));
    check_block_batch<B, R>(sys, n);
  }
}

TEST(TridiagBlockThomas, B2MatchesDenseBothLayouts) {
  run_random_block_cases<2, 1>();
  run_random_block_cases<2, 2>();
}
TEST(TridiagBlockThomas, B3MatchesDenseBothLayouts) {
  run_random_block_cases<3, 1>();
  run_random_block_cases<3, 2>();
}
TEST(TridiagBlockThomas, B4MatchesDenseBothLayouts) {
  run_random_block_cases<4, 1>();
  run_random_block_cases<4, 2>();
}

// ---------------------------------------------------------------------------------
// Pivoting within a block (invert_small)
// ---------------------------------------------------------------------------------

template <int B>
double inverse_residual(const double (&a)[B * B], const double (&inv)[B * B]) {
  double worst = 0.0;
  for (int r = 0; r < B; ++r)
    for (int c = 0; c < B; ++c) {
      double s = 0.0;
      for (int q = 0; q < B; ++q) s += a[r * B + q] * inv[q * B + c];
      worst = std::fmax(worst, std::fabs(s - (r == c ? 1.0 : 0.0)));
    }
  return worst;
}

TEST(TridiagInvertSmall, RandomMatricesInverse) {
  std::mt19937_64 rng(7);
  for (int t = 0; t < 50; ++t) {
    double a2[4], a3[9], a4[16];
    for (double& x : a2) x = uniform(rng, -1.0, 1.0);
    for (double& x : a3) x = uniform(rng, -1.0, 1.0);
    for (double& x : a4) x = uniform(rng, -1.0, 1.0);
    for (int k = 0; k < 2; ++k) a2[k * 3] += 3.0;
    for (int k = 0; k < 3; ++k) a3[k * 4] += 4.0;
    for (int k = 0; k < 4; ++k) a4[k * 5] += 5.0;
    double i2[4], i3[9], i4[16];
    std::memcpy(i2, a2, sizeof a2);
    std::memcpy(i3, a3, sizeof a3);
    std::memcpy(i4, a4, sizeof a4);
    ASSERT_TRUE(strata::invert_small<2>(i2));
    ASSERT_TRUE(strata::invert_small<3>(i3));
    ASSERT_TRUE(strata::invert_small<4>(i4));
    EXPECT_LT(inverse_residual<2>(a2, i2), kTol);
    EXPECT_LT(inverse_residual<3>(a3, i3), kTol);
    EXPECT_LT(inverse_residual<4>(a4, i4), kTol);
  }
  double one[1] = {-4.0};
  ASSERT_TRUE(strata::invert_small<1>(one));
  EXPECT_EQ(one[0], -0.25);
}

// A zero leading entry: impossible without a row swap.
TEST(TridiagInvertSmall, PermutationNeedsRowSwap) {
  const double p[9] = {0, 2, 0,  //
                       2, 0, 0,  //
                       0, 0, 2};
  double inv[9];
  std::memcpy(inv, p, sizeof p);
  ASSERT_TRUE(strata::invert_small<3>(inv));
  const double expect[9] = {0, 0.5, 0, 0.5, 0, 0, 0, 0, 0.5};
  for (int k = 0; k < 9; ++k) EXPECT_EQ(inv[k], expect[k]) << "entry " << k;
}

// A tiny (not zero) leading entry: unpivoted elimination gives an O(1) error here
// (1 - 1e20 swamps the 1), partial pivoting is accurate to rounding.
TEST(TridiagInvertSmall, TinyPivotIsAccurate) {
  const double a[9] = {1e-20, 1, 0,  //
                       1, 1, 0,      //
                       0, 1, 3};
  double inv[9];
  std::memcpy(inv, a, sizeof a);
  ASSERT_TRUE(strata::invert_small<3>(inv));
  EXPECT_LT(inverse_residual<3>(a, inv), kTol);
  // Exact inverse (to within 1e-20): [[-1,1,0],[1,0,0],[-1/3,0,1/3]].
  const double expect[9] = {-1, 1, 0, 1, 0, 0, -1.0 / 3, 0, 1.0 / 3};
  for (int k = 0; k < 9; ++k) EXPECT_NEAR(inv[k], expect[k], kTol) << "entry " << k;
}

// Block system whose diagonal blocks are scaled permutations plus small noise: well
// conditioned and block dominant, but NOT diagonally dominant inside a block. The first
// block has an exactly zero (0,0) entry, so the factorisation cannot work without pivoting.
TEST(TridiagBlockThomas, PermutedDiagonalBlocksNeedPivoting) {
  constexpr int B = 3, R = 2, BB = B * B;
  const int perms[3][3] = {{1, 0, 2}, {2, 0, 1}, {1, 2, 0}};  // column of each row's 1
  for (int n : {1, 2, 5, 40}) {
    std::mt19937_64 rng(0x9e3779b9ULL + n);
    std::vector<BlockSystem> sys;
    for (int v = 0; v < kVariants; ++v) {
      BlockSystem s{std::vector<double>(n * BB), std::vector<double>(n * BB),
                    std::vector<double>(n * BB), std::vector<double>(n * B * R)};
      for (double& x : s.L) x = uniform(rng, -0.1, 0.1);
      for (double& x : s.U) x = uniform(rng, -0.1, 0.1);
      for (double& x : s.rhs) x = uniform(rng, -10.0, 10.0);
      for (int i = 0; i < n; ++i) {
        const int* perm = perms[(i + v) % 3];
        if (i == 0) perm = perms[0];  // [[0,1,0],[1,0,0],[0,0,1]]
        const double scale = uniform(rng, 2.0, 3.0) * ((rng() & 1) ? 1.0 : -1.0);
        for (int r = 0; r < B; ++r)
          for (int c = 0; c < B; ++c) {
            double& e = s.D[i * BB + r * B + c];
            e = (c == perm[r]) ? scale : uniform(rng, -1e-3, 1e-3);
            if (i == 0 && r == 0 && c == 0) e = 0.0;
          }
        // The test only means something if D is not diagonally dominant.
        double off = 0.0;
        for (int c = 1; c < B; ++c) off += std::fabs(s.D[i * BB + c]);
        ASSERT_LT(std::fabs(s.D[i * BB]), off);
      }
      sys.push_back(std::move(s));
    }
    check_block_batch<B, R>(sys, n);
  }
}

// ---------------------------------------------------------------------------------
// Small dense solve within a block (solve_small, the block Thomas step)
// ---------------------------------------------------------------------------------

// m X = Y for B x B m and B x C Y, against the dense reference.
template <int B, int C>
void check_solve_small(const double (&m)[B * B], const double (&y)[B * C]) {
  double mm[B * B], x[B * C];
  std::memcpy(mm, m, sizeof mm);
  std::memcpy(x, y, sizeof x);
  ASSERT_TRUE((strata::solve_small<B, C>(mm, x)));
  const auto ref = dense_solve(std::vector<double>(m, m + B * B), std::vector<double>(y, y + B * C), B, C);
  EXPECT_LT(rel_err(std::vector<double>(x, x + B * C), ref), kTol) << "B = " << B << ", C = " << C;
}

TEST(TridiagSolveSmall, RandomSystemsMatchDense) {
  std::mt19937_64 rng(11);
  for (int t = 0; t < 50; ++t) {
    double a2[4], a3[9], a4[16], y2[2 * 3], y3[3 * 5], y4[4 * 6];
    for (double& x : a2) x = uniform(rng, -1.0, 1.0);
    for (double& x : a3) x = uniform(rng, -1.0, 1.0);
    for (double& x : a4) x = uniform(rng, -1.0, 1.0);
    for (double& x : y2) x = uniform(rng, -10.0, 10.0);
    for (double& x : y3) x = uniform(rng, -10.0, 10.0);
    for (double& x : y4) x = uniform(rng, -10.0, 10.0);
    // Not diagonally dominant: the pivot search is exercised.
    check_solve_small<2, 3>(a2, y2);
    check_solve_small<3, 5>(a3, y3);
    check_solve_small<4, 6>(a4, y4);
  }
  double one[1] = {-4.0}, y[2] = {1.0, -2.0};
  ASSERT_TRUE((strata::solve_small<1, 2>(one, y)));
  EXPECT_EQ(y[0], -0.25);
  EXPECT_EQ(y[1], 0.5);
}

// A zero leading entry (a row swap is needed) and a tiny one (unpivoted elimination
// would lose the 1 in 1 - 1e20).
TEST(TridiagSolveSmall, ZeroAndTinyLeadingEntriesArePivoted) {
  const double p[9] = {0, 2, 0,  //
                       2, 0, 0,  //
                       0, 0, 2};
  const double y[6] = {1, 2, 3, 4, 5, 6};
  double pm[9], x[6];
  std::memcpy(pm, p, sizeof p);
  std::memcpy(x, y, sizeof y);
  ASSERT_TRUE((strata::solve_small<3, 2>(pm, x)));
  const double expect[6] = {1.5, 2, 0.5, 1, 2.5, 3};
  for (int k = 0; k < 6; ++k) EXPECT_EQ(x[k], expect[k]) << "entry " << k;
  const double a[9] = {1e-20, 1, 0,  //
                       1, 1, 0,      //
                       0, 1, 3};
  check_solve_small<3, 2>(a, y);
}

// ---------------------------------------------------------------------------------
// Failure reporting
// ---------------------------------------------------------------------------------

// Runs thomas_solve on plain contiguous arrays.
bool thomas(std::vector<double> a, std::vector<double> b, std::vector<double> c,
            std::vector<double> d) {
  const int n = static_cast<int>(b.size());
  std::vector<double> cp(n);
  const Strided<double> va{a.data(), 1}, vb{b.data(), 1}, vc{c.data(), 1};
  Strided<double> vd{d.data(), 1}, vcp{cp.data(), 1};
  return strata::thomas_solve(n, va, vb, vc, vd, vcp);
}

TEST(TridiagFailure, ThomasZeroPivot) {
  // Sanity: a regular system succeeds.
  EXPECT_TRUE(thomas({0, 1, 1}, {2, 2, 2}, {1, 1, 0}, {1, 2, 3}));
  // Zero first pivot.
  EXPECT_FALSE(thomas({0, 1, 1}, {0, 2, 2}, {1, 1, 0}, {1, 2, 3}));
  EXPECT_FALSE(thomas({0}, {0}, {0}, {1}));
  // Zero pivot after elimination: b1 - a1 * c0 / b0 = 1 - 1 * 1 = 0.
  EXPECT_FALSE(thomas({0, 1, 1}, {1, 1, 2}, {1, 1, 0}, {1, 2, 3}));
  // Zero pivot at the last row: with a = [., 1, 1], c = [1, 1, .], b = [1, 2, b2] the
  // pivots are 1, 1, b2 - 1: fine for b2 = 2, zero for b2 = 1.
  EXPECT_TRUE(thomas({0, 1, 1}, {1, 2, 2}, {1, 1, 0}, {1, 2, 3}));
  EXPECT_FALSE(thomas({0, 1, 1}, {1, 2, 1}, {1, 1, 0}, {1, 2, 3}));
}

TEST(TridiagFailure, InvertSmallSingular) {
  double z1[1] = {0.0};
  EXPECT_FALSE(strata::invert_small<1>(z1));
  double z3[9] = {};
  EXPECT_FALSE(strata::invert_small<3>(z3));
  double r2[4] = {1, 2,  //
                  2, 4};
  EXPECT_FALSE(strata::invert_small<2>(r2));
  double r3[9] = {1, 0, 2,  //
                  0, 1, 3,  //
                  1, 1, 5};  // row 2 = row 0 + row 1
  EXPECT_FALSE(strata::invert_small<3>(r3));
  double r4[16] = {1, 2, 3, 4,  //
                   0, 1, 0, 1,  //
                   1, 2, 3, 4,  //
                   0, 0, 1, 0};  // duplicate row
  EXPECT_FALSE(strata::invert_small<4>(r4));
  double c4[16] = {1, 0, 0, 0,  //
                   0, 1, 0, 0,  //
                   0, 0, 1, 0,  //
                   0, 0, 0, 0};  // zero last row and column
  EXPECT_FALSE(strata::invert_small<4>(c4));
}

TEST(TridiagFailure, SolveSmallSingular) {
  double y[3] = {1, 1, 1};
  double z3[9] = {};
  EXPECT_FALSE((strata::solve_small<3, 1>(z3, y)));
  double r3[9] = {1, 0, 2,  //
                  0, 1, 3,  //
                  1, 1, 5};  // row 2 = row 0 + row 1
  EXPECT_FALSE((strata::solve_small<3, 1>(r3, y)));
  double n3[9] = {1, 0, 0,  //
                  0, std::nan(""), 0,  //
                  0, 0, 1};
  EXPECT_FALSE((strata::solve_small<3, 1>(n3, y)));
}

TEST(TridiagFailure, BlockThomasSingularBlock) {
  constexpr int B = 2, R = 1;
  // Block row 0: D_0 singular.
  {
    std::vector<double> L(4, 0.0), D = {1, 2, 2, 4}, U(4, 0.0), y = {1, 1};
    Strided<double> vl{L.data(), 1}, vd{D.data(), 1}, vu{U.data(), 1}, vy{y.data(), 1};
    EXPECT_FALSE((strata::block_thomas_solve<B, R>(1, vl, vd, vu, vy)));
  }
  // Block row 1: D_1 regular but the Schur complement D_1 - L_1 D_0^-1 U_0 = 0.
  {
    std::vector<double> L = {0, 0, 0, 0, 1, 0, 0, 1};
    std::vector<double> D = {1, 0, 0, 1, 1, 0, 0, 1};
    std::vector<double> U = {1, 0, 0, 1, 0, 0, 0, 0};
    std::vector<double> y = {1, 1, 1, 1};
    Strided<double> vl{L.data(), 1}, vd{D.data(), 1}, vu{U.data(), 1}, vy{y.data(), 1};
    EXPECT_FALSE((strata::block_thomas_solve<B, R>(2, vl, vd, vu, vy)));
  }
}

}  // namespace
