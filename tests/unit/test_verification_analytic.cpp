// Discretisation checks against analytic solutions: particle diffusion under a
// constant surface flux (Crank, The Mathematics of Diffusion, eq. 6.47 form) and
// electrolyte diffusion of a cosine mode in a closed slab. The error must fall at
// second order as the mesh is refined.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/particle.hpp"
#include "kernels/tridiag.hpp"
#include "tests/unit/test_support.hpp"

using namespace strata;

namespace {

// Surface concentration of a sphere (radius R, diffusivity D, initial c0) with a
// constant inward flux q (mol/m2/s):
// c_s = c0 + (q R / D) [3 tau + 1/5 - 2 sum_n exp(-alpha_n^2 tau) / alpha_n^2],
// tau = D t / R^2, alpha_n the positive roots of tan(alpha) = alpha.
double sphere_surface_analytic(double c0, double q, double R, double D, double t) {
  const double tau = D * t / (R * R);
  double sum = 0.0;
  for (int n = 1; n <= 200; ++n) {
    // Root in ((n + 0.5) pi - pi/2, (n + 0.5) pi) by Newton from just below the asymptote.
    double a = (n + 0.5) * M_PI - 1e-3;
    for (int it = 0; it < 100; ++it) {
      const double f = std::tan(a) - a, df = 1.0 / (std::cos(a) * std::cos(a)) - 1.0;
      const double step = f / df;
      a -= step;
      if (std::fabs(step) < 1e-15) break;
    }
    sum += std::exp(-a * a * tau) / (a * a);
  }
  return c0 + q * R / D * (3.0 * tau + 0.2 - 2.0 * sum);
}

// Backward-Euler march of one particle with the kernel's discretisation; returns
// the surface concentration at t_end.
double sphere_surface_numeric(int nr, double c0, double j_A_m2, double R, double D, double cmax, double t_end,
                              int n_steps, double shell_ratio = 1.0) {
  MaterialFns mat;  // constant diffusivity
  std::vector<double> c(nr, c0), c_old(nr), y(nr), z(nr);
  const ShellGrid g{R, nr, shell_ratio};
  const double dt = t_end / n_steps;
  for (int step = 0; step < n_steps; ++step) {
    c_old = c;
    EXPECT_TRUE(particle_condense(nullptr, mat, D, cmax, nr, g, dt, c.data(), c_old.data(), j_A_m2, y, z));
    for (int k = 0; k < nr; ++k) c[k] += y[k];  // linear problem: one Newton step is exact
  }
  return surface_concentration(nullptr, mat, D, cmax, g.surface_gap(), c[nr - 1], j_A_m2);
}

}  // namespace

// z is the response of the shells to the surface current: for a constant
// diffusivity the shell equations are linear in (c, j), so the update at current
// j + dj is the update at j minus z dj.
TEST(VerificationParticle, SurfaceCurrentResponseIsTheSecondSolution) {
  MaterialFns mat;  // constant diffusivity
  for (double ratio : {1.0, 0.8, 0.0}) {  // equal thickness, refined, equal volume
    const int nr = 9;
    const ShellGrid g{4e-6, nr, ratio};
    std::vector<double> c(nr), c_old(nr), y0(nr), z0(nr), y1(nr), z1(nr);
    for (int k = 0; k < nr; ++k) {
      c[k] = 15000.0 + 300.0 * k * k;
      c_old[k] = 15500.0 - 50.0 * k;
    }
    const double dt = 2.0, j0 = 0.3, dj = 1.7;
    ASSERT_TRUE(particle_condense(nullptr, mat, 2e-15, 30000.0, nr, g, dt, c.data(), c_old.data(), j0, y0, z0));
    ASSERT_TRUE(particle_condense(nullptr, mat, 2e-15, 30000.0, nr, g, dt, c.data(), c_old.data(), j0 + dj, y1, z1));
    double scale = 0.0, change = 0.0;
    for (int k = 0; k < nr; ++k) {
      scale = std::fmax(scale, std::fmax(std::fabs(y0[k]), std::fabs(y1[k])));
      change = std::fmax(change, std::fabs(y1[k] - y0[k]));
    }
    ASSERT_GT(change, 1e-3 * scale) << "the current must move the update for the check to mean anything";
    for (int k = 0; k < nr; ++k) {
      EXPECT_NEAR(y1[k], y0[k] - z0[k] * dj, 1e-12 * scale) << "shell " << k << ", ratio " << ratio;
      EXPECT_EQ(z1[k], z0[k]) << "z does not depend on j";
    }
  }
}

TEST(VerificationParticle, ConstantFluxMatchesSeriesAtSecondOrder) {
  const double R = 5e-6, D = 1e-14, cmax = 30000.0, c0 = 20000.0, j = 1.0;  // j > 0: sodium leaves
  const double t_end = 0.3 * R * R / D;
  const double exact = sphere_surface_analytic(c0, -j / kFaraday_C_mol, R, D, t_end);
  std::vector<double> err;
  for (int nr : {5, 10, 20, 40}) {
    const double cs = sphere_surface_numeric(nr, c0, j, R, D, cmax, t_end, 40000);
    err.push_back(std::fabs(cs - exact) / std::fabs(exact - c0));
  }
  for (size_t k = 0; k + 1 < err.size(); ++k) {
    const double order = std::log2(err[k] / err[k + 1]);
    EXPECT_GT(order, 1.7) << "refinement " << k << ": errors " << err[k] << " -> " << err[k + 1];
  }
  EXPECT_LT(err.back(), 1e-3);
}

// Shells refined toward the surface (each 0.8 of the one inside it) are more accurate
// at the surface than equal shells of the same number, and still converge.
TEST(VerificationParticle, SurfaceRefinedShellsAreMoreAccurate) {
  const double R = 5e-6, D = 1e-14, cmax = 30000.0, c0 = 20000.0, j = 1.0;
  const double t_end = 0.3 * R * R / D;
  const double exact = sphere_surface_analytic(c0, -j / kFaraday_C_mol, R, D, t_end);
  const double scale = std::fabs(exact - c0);
  const double uniform8 = std::fabs(sphere_surface_numeric(8, c0, j, R, D, cmax, t_end, 40000) - exact) / scale;
  const double refined8 = std::fabs(sphere_surface_numeric(8, c0, j, R, D, cmax, t_end, 40000, 0.8) - exact) / scale;
  const double refined16 = std::fabs(sphere_surface_numeric(16, c0, j, R, D, cmax, t_end, 40000, 0.9) - exact) / scale;
  EXPECT_LT(refined8, uniform8);
  EXPECT_LT(refined16, refined8);
  EXPECT_LT(refined16, 2e-3);
}

// numerics.particle_mesh = "equal_volume" (ShellGrid q = 0): the shells hold equal
// volumes, the surface gap is half the outer shell, and the surface concentration
// converges to the series solution (on this grid, thin toward the surface, at better
// than first order).
TEST(VerificationParticle, EqualVolumeShellsHoldEqualVolumesAndConverge) {
  const double R = 5e-6;
  for (int nr : {3, 8, 32}) {
    const ShellGrid g{R, nr, 0.0};
    std::vector<double> rf(nr + 1);
    g.faces(rf.data());
    EXPECT_EQ(rf[0], 0.0);
    EXPECT_EQ(rf[nr], R);
    for (int k = 0; k < nr; ++k)
      EXPECT_NEAR(ShellGrid::volume(rf.data(), k), R * R * R / 3.0 / nr, 1e-12 * R * R * R) << nr << " shells, " << k;
    EXPECT_NEAR(g.surface_gap(), 0.5 * (R - rf[nr - 1]), 1e-15 * R);
  }
  const double D = 1e-14, cmax = 30000.0, c0 = 20000.0, j = 1.0;
  const double t_end = 0.3 * R * R / D;
  const double exact = sphere_surface_analytic(c0, -j / kFaraday_C_mol, R, D, t_end);
  std::vector<double> err;
  for (int nr : {5, 10, 20, 40})
    err.push_back(std::fabs(sphere_surface_numeric(nr, c0, j, R, D, cmax, t_end, 40000, 0.0) - exact) /
                  std::fabs(exact - c0));
  for (size_t k = 0; k + 1 < err.size(); ++k)
    EXPECT_GT(std::log2(err[k] / err[k + 1]), 1.2) << "refinement " << k << ": " << err[k] << " -> " << err[k + 1];
  EXPECT_LT(err.back(), 2e-3);
}

namespace {

// Electrolyte in a closed slab (electrode and separator with the same porosity and
// tortuosity), at rest: c = c0 + A cos(pi x / L) exp(-pi^2 D t / (tau L^2)).
// With t+ = 1 the diffusion potential vanishes, phi_e stays uniform and the
// particles stay at equilibrium (j = 0), so the electrolyte obeys plain diffusion.
// Returns the max error over cell centres after t_end.
double slab_error(int nodes_per_region, double t_end) {
  Scenario s = test::bilayer_scenario({"Rest for 1 second"});
  s.layers = {test::layer("sloping", 50e-6, nodes_per_region)};
  s.electrolyte.transference_number.value = 1.0;
  s.separator.thickness_m = 50e-6;
  s.separator.porosity = s.layers[0].porosity;
  s.separator.use_bruggeman = false;
  s.separator.tortuosity = s.layers[0].tortuosity;
  s.separator.nodes = nodes_per_region;
  s.numerics.relative_tolerance = 1e-9;
  s.numerics.max_steps_per_protocol_step = 100000;
  s.numerics.max_step_s = 0.001;  // keeps the backward-Euler error well below the spatial one
  std::vector<ResolvedVariant> vars = {{"slab", s, ""}};
  Batch b = build_batch(vars, Layout::Blocked);
  const DfnShape& S = b.shape;
  Strided<double> v = b.view(0);
  EXPECT_EQ(initialize_state(S, b.tables, v), VariantStatus::Ok);
  const double L = 100e-6, c0 = 1000.0, A = 100.0;
  for (int i = 0; i < S.nx; ++i) {
    const double x = (i + 0.5) * L / S.nx;
    v[S.o_x + S.s_ce() + i] = c0 + A * std::cos(M_PI * x / L);
  }
  ProtocolStep rest = parse_protocol_step("Rest for 1 second");
  rest.duration_s = t_end;
  std::vector<double> out(step_out_size(S));
  EXPECT_TRUE(run_protocol_step(S, b.tables, v, rest, out.data()));
  const double D_over_tau = s.electrolyte.diffusivity_m2_s.value / s.layers[0].tortuosity;
  double e = 0.0;
  for (int i = 0; i < S.nx; ++i) {
    const double x = (i + 0.5) * L / S.nx;
    const double exact = c0 + A * std::cos(M_PI * x / L) * std::exp(-M_PI * M_PI * D_over_tau * t_end / (L * L));
    e = std::fmax(e, std::fabs(v[S.o_x + S.s_ce() + i] - exact));
  }
  return e;
}

}  // namespace

TEST(VerificationElectrolyte, SlabCosineModeDecaysAtSecondOrder) {
  const double t_end = 5.0;  // about half the mode's time constant
  std::vector<double> err;
  for (int n : {5, 10, 20}) err.push_back(slab_error(n, t_end));
  for (size_t k = 0; k + 1 < err.size(); ++k) {
    const double order = std::log2(err[k] / err[k + 1]);
    EXPECT_GT(order, 1.8) << "errors " << err[k] << " -> " << err[k + 1];
  }
  EXPECT_LT(err.back(), 0.1);  // mol/m3, on an amplitude of 100
}
