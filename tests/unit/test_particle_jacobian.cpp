// The shell equations' Jacobian in particle_condense is written by hand (the flux
// N = -D(x_face) dc/dr and its derivatives in both shells, D tabulated against x).
// Newton's method converges quadratically only when that Jacobian is exact, so the
// test iterates c <- c + y at a fixed surface current on a strongly
// concentration-dependent diffusivity and checks the order of convergence.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "host/table_builder.hpp"
#include "kernels/particle.hpp"

using namespace strata;

namespace {

// Largest update of Newton's iteration on one implicit step of the particle, relative
// to cmax, for each iteration in turn.
std::vector<double> newton_update_sizes(double shell_ratio) {
  // D/D_ref = 10^(2x - 1): a hundredfold rise across the stoichiometry window.
  Table1D factor;
  for (int i = 0; i <= 10; ++i) {
    factor.x.push_back(0.1 * i);
    factor.y.push_back(std::pow(10.0, 0.2 * i - 1.0));
  }
  TableBuilder tables;
  MaterialFns mat;
  mat.diffusivity_factor = tables.add(factor);
  const double* data = tables.data().data();

  const int nr = 12;
  const double R = 5e-6, d_ref = 1e-14, cmax = 30000.0, dt = 200.0;
  const double j_A_m2 = -4.0;  // sodium entering: the surface fills over the step
  const ShellGrid g{R, nr, shell_ratio};
  std::vector<double> c_old(nr, 0.3 * cmax), c = c_old, y(nr), z(nr);
  std::vector<double> sizes;
  for (int it = 0; it < 8; ++it) {
    EXPECT_TRUE(particle_condense(data, mat, d_ref, cmax, nr, g, dt, c.data(), c_old.data(), j_A_m2, y, z));
    double size = 0.0;
    for (int k = 0; k < nr; ++k) {
      c[k] += y[k];
      size = std::fmax(size, std::fabs(y[k]) / cmax);
    }
    sizes.push_back(size);
    if (size < 1e-13) break;
  }
  return sizes;
}

void expect_quadratic_convergence(const std::vector<double>& sizes) {
  // The step is far from the guess (the first update is a sizeable part of cmax)...
  ASSERT_GE(sizes.size(), 3u);
  EXPECT_GT(sizes[0], 1e-2);
  // ...and each update is bounded by a constant times the square of the last, until
  // round-off; a Jacobian that missed dD/dc would contract at a fixed rate instead.
  int checked = 0;
  for (size_t k = 1; k < sizes.size(); ++k) {
    if (sizes[k - 1] < 1e-7) break;
    EXPECT_LT(sizes[k], 10.0 * sizes[k - 1] * sizes[k - 1]) << "iteration " << k;
    ++checked;
  }
  EXPECT_GE(checked, 2);
  EXPECT_LT(sizes.back(), 1e-12);
}

}  // namespace

TEST(ParticleJacobian, NewtonConvergesQuadraticallyWithTabulatedDiffusivity) {
  expect_quadratic_convergence(newton_update_sizes(0.8));  // shells refined toward the surface
  expect_quadratic_convergence(newton_update_sizes(1.0));  // equal thickness
  expect_quadratic_convergence(newton_update_sizes(0.0));  // equal volume
}
