// The porous counter electrode (cell.counter_electrode = "porous"; docs/physics.md):
// a reaction sink spread over the counter's thickness instead of a planar face.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "kernels/dfn_protocol.hpp"
#include "tests/unit/test_support.hpp"

using namespace strata;

namespace {

// The test bilayer with a porous counter of thickness t and particle radius R
// (the reaction's specific area 3 (1 - eps) / R), and the test electrolyte.
Scenario with_porous_counter(Scenario s, double thickness_m, double radius_m) {
  s.cell.counter_porous = true;
  s.counter.material = "sloping";  // only its exchange current density is used
  s.counter.thickness_m = thickness_m;
  s.counter.porosity = 0.45;
  s.counter.particle_radius_m = radius_m;
  s.counter.nodes = 6;
  return s;
}

// A 3C charge of the test bilayer with a planar ideal counter, and of `other` (a
// different shape, so a batch of its own); both must complete.
std::pair<Batch, Batch> planar_and(const Scenario& planar, const Scenario& other) {
  std::pair<Batch, Batch> r{test::run_scenarios({planar}), test::run_scenarios({other})};
  EXPECT_EQ(test::status(r.first, 0), 0);
  EXPECT_EQ(test::status(r.second, 0), 0);
  return r;
}

Scenario planar_3c_charge() {
  Scenario s = test::bilayer_scenario({"Charge at 3C until 3.6 V"});
  s.cell.counter_ideal = true;
  return s;
}

}  // namespace

// The cathode releases what the counter takes: the salt in the pores (electrode,
// separator and counter) is conserved over a charge and a discharge.
TEST(PorousCounter, ConservesTheSalt) {
  Scenario s = with_porous_counter(test::bilayer_scenario({"Charge at 3C until 3.6 V", "Rest for 30 seconds",
                                                           "Discharge at 1C until 2.5 V"}),
                                   75e-6, 3.5e-6);
  Batch b = test::run_scenarios({s});
  ASSERT_EQ(test::status(b, 0), 0);
  EXPECT_EQ(b.shape.n_ctr, 6);
  double initial = 0.0;
  for (int i = 0; i < b.shape.nx; ++i) initial += b.view(0)[b.shape.o_dx + i] * b.view(0)[b.shape.o_eps + i];
  initial *= s.electrolyte.initial_concentration_mol_m3;
  const double now = electrolyte_sodium_mol_m2(b.shape, b.view(0), b.shape.o_x);
  EXPECT_NEAR(now / initial, 1.0, 1e-9);
  EXPECT_GT(test::out(b, 0, 0, kOutCapacity_C_m2), 0.0);
}

// A thin counter with fast kinetics is a planar ideal counter: same 3C charge.
TEST(PorousCounter, ThinAndFastIsThePlanarIdealCounter) {
  const Scenario planar = planar_3c_charge();
  auto [a, b] = planar_and(planar, with_porous_counter(planar, 0.5e-6, 1e-9));
  const double q_planar = test::out(a, 0, 0, kOutCapacity_C_m2), q_thin = test::out(b, 0, 0, kOutCapacity_C_m2);
  std::printf("3C charge: planar ideal counter %.6g C/m2, thin porous %.6g C/m2\n", q_planar, q_thin);
  EXPECT_NEAR(q_thin / q_planar, 1.0, 2e-3);
}

// Signs: on charge the cathode releases sodium and the counter takes it up, so at the
// end of a 3C charge the salt is richest at the current collector and poorest at the
// counter's closed far face (with a planar counter: at the counter face, i.e. in the
// last separator cell). The porous counter's own pores hold salt the planar one has not.
TEST(PorousCounter, SaltIsTakenUpInsideTheCounter) {
  const Scenario planar = planar_3c_charge();
  auto [a, b] = planar_and(planar, with_porous_counter(planar, 75e-6, 3.5e-6));
  for (Batch* x : {&a, &b}) {
    const DfnShape& S = x->shape;
    const Strided<double> v = x->view(0);
    int lo = 0, hi = 0;
    for (int i = 1; i < S.nx; ++i) {
      if (v[S.o_x + S.s_ce() + i] < v[S.o_x + S.s_ce() + lo]) lo = i;
      if (v[S.o_x + S.s_ce() + i] > v[S.o_x + S.s_ce() + hi]) hi = i;
    }
    EXPECT_EQ(hi, 0) << "n_ctr " << S.n_ctr;
    EXPECT_EQ(lo, S.nx - 1) << "n_ctr " << S.n_ctr;
    std::printf("n_ctr %d: c_e from %.4g (collector) to %.4g mol/m3 (far end)\n", S.n_ctr,
                v[S.o_x + S.s_ce()], v[S.o_x + S.s_ce() + S.nx - 1]);
  }
  EXPECT_EQ(b.shape.nx, a.shape.nx + 6);
}

// A porous counter changes the cell count: such variants form a batch of their own.
TEST(PorousCounter, VariantsWithAndWithoutItAreGroupedApart) {
  const Scenario planar = planar_3c_charge();
  const std::vector<ResolvedVariant> vars = {
      {"planar", planar, ""}, {"porous", with_porous_counter(planar, 75e-6, 3.5e-6), ""}, {"planar 2", planar, ""}};
  const std::vector<std::vector<int>> groups = group_by_shape(vars);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0], (std::vector<int>{0, 2}));
  EXPECT_EQ(groups[1], (std::vector<int>{1}));
}

// The counter's exchange current is its material's i0 at that material's reference
// concentration, scaled by (c_e/c_e,ref)^(1/2): at a given c_e and phi_e its reaction
// does not depend on the initial concentration of the electrolyte.
TEST(PorousCounter, ReactionAtAGivenConcentrationIgnoresTheInitialOne) {
  Scenario s = with_porous_counter(planar_3c_charge(), 75e-6, 3.5e-6);
  s.cell.counter_ideal = false;
  s.materials.at(s.counter.material).reference_concentration_mol_m3 = 1000.0;
  std::vector<ResolvedVariant> vars;
  for (double c0 : {1000.0, 1500.0, 600.0}) {
    s.electrolyte.initial_concentration_mol_m3 = c0;
    vars.push_back({"c0", s, ""});
  }
  Batch b = build_batch(vars, Layout::Blocked);
  const double T = s.cell.temperature_K, ce = 1200.0, phie = -0.01;
  auto j = [&](int v) {
    const auto rec = b.view(v);
    return porous_counter_reaction_A_m3(rec[b.shape.o_scalar + kCounterVolumetricI0_A_m3],
                                        rec[b.shape.o_scalar + kCeInit_mol_m3], T, ce, phie);
  };
  // At c_e = c_e,ref the reaction is 2 a i0_ref sinh(-F phi_e / 2RT).
  const double area_m_1 = 3.0 * (1.0 - s.counter.porosity) * s.counter.solid_volume_fraction / s.counter.particle_radius_m;
  const double at_ref = porous_counter_reaction_A_m3(
      area_m_1 * s.materials.at(s.counter.material).exchange_current_density_A_m2, 1000.0, T, 1000.0, phie);
  EXPECT_NEAR(j(0), at_ref * std::sqrt(1.2), 1e-12 * std::fabs(at_ref));
  EXPECT_NEAR(j(1), j(0), 1e-12 * std::fabs(j(0)));
  EXPECT_NEAR(j(2), j(0), 1e-12 * std::fabs(j(0)));
}
