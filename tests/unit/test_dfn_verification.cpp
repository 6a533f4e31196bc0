// Whole-model checks of the DFN engine: conservation, convergence, invariances,
// the low-rate limit, batch independence and the two memory layouts.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "host/scenario_loader.hpp"
#include "host/simulate.hpp"
#include "host/table_builder.hpp"
#include "tests/unit/test_support.hpp"

using namespace strata;

namespace {

// Stoichiometry at which the material's OCP equals u_V (OCP decreasing in x).
double ocp_root(const ActiveMaterial& m, double u_V) {
  TableBuilder tb;
  MaterialFns f = tb.add_material(m);
  const std::vector<double> data = tb.data();
  double lo = 1e-9, hi = 1.0 - 1e-9;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (eval_ocp_V(data.empty() ? nullptr : data.data(), f.ocp, mid, 298.15) > u_V) lo = mid; else hi = mid;
  }
  return 0.5 * (lo + hi);
}

double total_sodium_mol_m2(Batch& b, int v) {
  const DfnShape& S = b.shape;
  Strided<double> view = b.view(v);
  double n = electrolyte_sodium_mol_m2(S, view, S.o_x);
  for (int s = 0; s < S.n_slots; ++s) n += slot_sodium_mol_m2(S, view, S.o_x, s);
  return n;
}

// Sodium before the run, from the parameters (uniform initial state).
double initial_sodium_mol_m2(const Scenario& s) {
  double n = 0.0;
  for (const Layer& l : s.layers) {
    n += l.thickness_m * l.porosity * s.electrolyte.initial_concentration_mol_m3;
    for (const LayerMaterial& lm : l.materials) {
      const ActiveMaterial& m = s.materials.at(lm.material);
      n += l.thickness_m * (1 - l.porosity) * lm.solid_volume_fraction * m.stoichiometry_discharged *
           m.max_concentration_mol_m3;
    }
  }
  n += s.separator.thickness_m * s.separator.porosity * s.electrolyte.initial_concentration_mol_m3;
  return n;
}

}  // namespace

// With either time scheme, over constant-current and constant-voltage steps: the
// step integrals use the scheme's own quadrature (kernels/time_scheme.hpp), so the
// balance holds to round-off also while the current decays.
TEST(DfnConservation, SodiumBalanceOverChargeAndDischarge) {
  Scenario s = test::bilayer_scenario({"Charge at 3C until 3.6 V", "Hold at 3.6 V until 10% of initial current",
                                       "Rest for 30 seconds", "Discharge at 0.1C until 2.3 V"});
  const int n = (int)s.protocol.steps.size();
  for (int order : {1, 2}) {
    s.numerics.time_order = order;
    Batch b = test::run_scenarios({s});
    ASSERT_EQ(test::status(b, 0), 0) << "order " << order;
    double charge = 0.0, passed = 0.0;
    for (int k = 0; k < n; ++k) {
      charge += test::out(b, 0, k, kOutCharge_C_m2);
      passed += test::out(b, 0, k, kOutCapacity_C_m2);
    }
    EXPECT_GT(test::out(b, 0, 1, kOutCharge_C_m2), 0.02 * test::out(b, 0, 0, kOutCharge_C_m2)) << "order " << order;
    const double lost = (initial_sodium_mol_m2(s) - total_sodium_mol_m2(b, 0)) * kFaraday_C_mol;
    // Sodium leaving solids + electrolyte equals the net charge passed.
    EXPECT_LT(std::fabs(lost - charge) / passed, 1e-9)
        << "order " << order << ": lost " << lost << " C/m2, charge " << charge;
    // Per-slot charge adds up to the step's charge.
    for (int k = 0; k < n; ++k) {
      double slots = 0.0;
      for (int q = 0; q < b.shape.n_slots; ++q) slots += test::out(b, 0, k, kStepOutFields + q);
      EXPECT_NEAR(slots, test::out(b, 0, k, kOutCharge_C_m2), 1e-9 * passed) << "order " << order << ", step " << k;
    }
  }
}

TEST(DfnConvergence, BilayerThreeCChargeConvergedAtDefaultResolution) {
  Scenario base = test::bilayer_scenario({"Charge at 3C until 3.6 V"});
  for (Layer& l : base.layers) l.nodes = 0;  // use the numerics defaults
  base.separator.nodes = 0;
  base.numerics = Numerics{};
  Scenario fine = base;
  fine.numerics.nodes_per_layer *= 2;
  fine.numerics.separator_nodes *= 2;
  fine.numerics.particle_shells *= 2;
  fine.numerics.relative_tolerance /= 10.0;
  Batch b0 = test::run_scenarios({base});
  Batch b1 = test::run_scenarios({fine});
  ASSERT_EQ(test::status(b0, 0), 0);
  ASSERT_EQ(test::status(b1, 0), 0);
  const double q0 = test::capacity_mAh_g(b0, 0, 0), q1 = test::capacity_mAh_g(b1, 0, 0);
  EXPECT_LT(std::fabs(q0 - q1) / q1, 0.005) << q0 << " vs " << q1 << " mAh/g";
  EXPECT_GT(q1, 20.0);  // the 3C charge delivers a real capacity
}

// The same criterion on the reference bilayer (scenarios/default.toml, both orders),
// which is the case that sets the default resolution.
TEST(DfnConvergence, ReferenceBilayerThreeCChargeConvergedAtDefaultResolution) {
  Scenario base = load_scenario(std::string(STRATA_SOURCE_DIR) + "/scenarios/default.toml");
  base.protocol.steps = {parse_protocol_step("Charge at 3C until 3.6 V")};
  base.protocol.step_texts = {"Charge at 3C until 3.6 V"};
  ASSERT_EQ(base.numerics.nodes_per_layer, Numerics{}.nodes_per_layer) << "default.toml must use the defaults";
  Scenario fine = base;
  fine.numerics.nodes_per_layer *= 2;
  fine.numerics.separator_nodes *= 2;
  fine.numerics.particle_shells *= 2;
  fine.numerics.relative_tolerance /= 10.0;
  Batch b0 = build_batch(resolve_variants(base), Layout::Blocked);
  Batch b1 = build_batch(resolve_variants(fine), Layout::Blocked);
  run_batch_cpu(b0, 0);
  run_batch_cpu(b1, 0);
  ASSERT_EQ(b0.n_variants, 2);
  for (int v = 0; v < 2; ++v) {
    ASSERT_EQ(test::status(b0, v), 0);
    ASSERT_EQ(test::status(b1, v), 0);
    const double q0 = test::capacity_mAh_g(b0, v, 0), q1 = test::capacity_mAh_g(b1, v, 0);
    EXPECT_LT(std::fabs(q0 - q1) / q1, 0.005) << b0.labels[v] << ": " << q0 << " vs " << q1 << " mAh/g";
  }
}

TEST(DfnInvariance, SplitLayerEqualsPlainLayer) {
  Scenario plain = test::bilayer_scenario({"Charge at 2C until 3.6 V", "Discharge at 1C until 2.5 V"});
  plain.layers = {test::layer("sloping", 80e-6, 16)};
  Scenario split = plain;
  split.layers = {test::layer("sloping", 40e-6, 8), test::layer("sloping", 40e-6, 8)};
  Batch b0 = test::run_scenarios({plain});  // two shapes: two batches
  Batch b1 = test::run_scenarios({split});
  ASSERT_EQ(test::status(b0, 0), 0);
  ASSERT_EQ(test::status(b1, 0), 0);
  for (int k = 0; k < 2; ++k) {
    const double q0 = test::capacity_mAh_g(b0, 0, k), q1 = test::capacity_mAh_g(b1, 0, k);
    EXPECT_LT(std::fabs(q0 - q1) / q0, 0.002) << "step " << k << ": " << q0 << " vs " << q1;
  }
}

TEST(DfnInvariance, ZeroFractionBlendComponentChangesNothing) {
  Scenario plain = test::bilayer_scenario({"Charge at 2C until 3.6 V", "Discharge at 1C until 2.5 V"});
  plain.layers = {test::layer("sloping", 80e-6, 16)};
  Scenario blend = plain;
  LayerMaterial extra = blend.layers[0].materials[0];
  extra.material = "plateau";
  extra.solid_volume_fraction = 0.0;
  blend.layers[0].materials.push_back(extra);
  Batch b = test::run_scenarios({plain, blend});
  ASSERT_EQ(test::status(b, 0), 0);
  ASSERT_EQ(test::status(b, 1), 0);
  for (int k = 0; k < 2; ++k) {
    const double q0 = test::capacity_mAh_g(b, 0, k), q1 = test::capacity_mAh_g(b, 1, k);
    EXPECT_LT(std::fabs(q0 - q1) / q0, 0.002) << "step " << k << ": " << q0 << " vs " << q1;
  }
}

TEST(DfnLowRate, CapacityEqualsUsableWindowsAtCOver50) {
  Scenario s = test::bilayer_scenario({"Charge at C/50 until 3.6 V"});
  // The usable window of each material ends where its OCP reaches the cut-off.
  for (auto& [name, m] : s.materials) m.stoichiometry_charged = ocp_root(m, 3.6);
  Batch b = test::run_scenarios({s});
  ASSERT_EQ(test::status(b, 0), 0);
  double window_C_m2 = 0.0;
  for (const Layer& l : s.layers)
    for (const LayerMaterial& lm : l.materials) {
      const ActiveMaterial& m = s.materials.at(lm.material);
      window_C_m2 += l.thickness_m * (1 - l.porosity) * lm.solid_volume_fraction * m.max_concentration_mol_m3 *
                     (m.stoichiometry_discharged - m.stoichiometry_charged) * kFaraday_C_mol;
    }
  const double q = test::out(b, 0, 0, kOutCapacity_C_m2);
  EXPECT_LT(std::fabs(q - window_C_m2) / window_C_m2, 0.01) << q << " vs " << window_C_m2 << " C/m2";
}

// An accessible fraction f scales what the material stores (and its surface area), not the
// mass that C-rates and mAh/g refer to: at C/50 the capacity scales by f, the current not.
TEST(DfnLowRate, AccessibleFractionScalesCapacityNotMass) {
  Scenario full = test::bilayer_scenario({"Charge at C/50 until 3.6 V"});
  for (auto& [name, m] : full.materials) m.stoichiometry_charged = ocp_root(m, 3.6);
  Scenario part = full;
  for (auto& [name, m] : part.materials) m.accessible_fraction = 0.4;
  Batch b = test::run_scenarios({full, part});
  ASSERT_EQ(test::status(b, 0), 0);
  ASSERT_EQ(test::status(b, 1), 0);
  const double q_full = test::capacity_mAh_g(b, 0, 0), q_part = test::capacity_mAh_g(b, 1, 0);
  EXPECT_LT(std::fabs(q_part / q_full - 0.4), 0.004) << q_part << " vs " << q_full << " mAh/g";
  const long sc = b.shape.o_scalar;
  EXPECT_EQ(b.view(0)[sc + kOneC_A_m2], b.view(1)[sc + kOneC_A_m2]);
  EXPECT_EQ(b.view(0)[sc + kActiveMass_kg_m2], b.view(1)[sc + kActiveMass_kg_m2]);
}

namespace {
std::vector<Scenario> mixed_batch() {
  std::vector<Scenario> scs;
  Scenario base = test::bilayer_scenario({"Charge at 3C until 3.6 V", "Rest for 30 seconds",
                                          "Discharge at 0.5C until 2.5 V",
                                          "Hold at 2.5 V until 50% of initial current"});
  for (int k = 0; k < 6; ++k) {
    Scenario s = base;
    s.layers[0].thickness_m = (30 + 10 * k) * 1e-6;
    s.layers[1].porosity = 0.3 + 0.03 * k;
    if (k % 2) std::swap(s.layers[0], s.layers[1]);
    scs.push_back(s);
  }
  return scs;
}
}  // namespace

TEST(DfnBatch, InterleavedLayoutAndThreadCountGiveIdenticalResults) {
  const std::vector<Scenario> scs = mixed_batch();
  Batch blocked = test::run_scenarios(scs, Layout::Blocked, 2);
  Batch inter = test::run_scenarios(scs, Layout::Interleaved, 2);
  Batch serial = test::run_scenarios(scs, Layout::Blocked, 1);
  const int n_out = step_out_size(blocked.shape) * 4;
  for (int v = 0; v < (int)scs.size(); ++v) {
    ASSERT_EQ(test::status(blocked, v), 0) << v;
    for (int k = 0; k < n_out; ++k) {
      EXPECT_EQ(blocked.out_view(v)[k], inter.out_view(v)[k]) << "variant " << v << " field " << k;
      EXPECT_EQ(blocked.out_view(v)[k], serial.out_view(v)[k]) << "variant " << v << " field " << k;
    }
  }
}

TEST(DfnBatch, FailingVariantIsFlaggedAndOthersUnchanged) {
  std::vector<Scenario> scs = mixed_batch();
  Batch reference = test::run_scenarios(scs, Layout::Interleaved);
  // Impossible parameters: a particle radius that is NaN (as a corrupted input would be).
  std::vector<ResolvedVariant> vars;
  for (size_t k = 0; k < scs.size(); ++k) vars.push_back({"v" + std::to_string(k), scs[k], ""});
  Batch b = build_batch(vars, Layout::Interleaved);
  const int bad = 2;
  b.view(bad)[b.shape.o_slot + kSlotRadius_m] = std::numeric_limits<double>::quiet_NaN();
  run_batch_cpu(b, 0);
  EXPECT_NE(test::status(b, bad), 0);
  const int n_out = step_out_size(b.shape) * 4;
  for (int v = 0; v < (int)scs.size(); ++v) {
    if (v == bad) continue;
    ASSERT_EQ(test::status(b, v), 0);
    for (int k = 0; k < n_out; ++k) EXPECT_EQ(b.out_view(v)[k], reference.out_view(v)[k]);
  }
}

TEST(DfnProtocol, HoldEndsAtHalfTheInitialCurrent) {
  Scenario s = test::bilayer_scenario({"Charge at 1C until 3.6 V", "Hold at 3.6 V until 50% of initial current"});
  Batch b = test::run_scenarios({s});
  ASSERT_EQ(test::status(b, 0), 0);
  const double i_end = test::out(b, 0, 1, kOutEndCurrent_A_m2);
  const double one_c = b.view(0)[b.shape.o_scalar + kOneC_A_m2];
  // The hold starts near the 1C current (it follows a 1C charge) and ends at half of its initial value.
  EXPECT_GT(i_end, 0.3 * one_c);
  EXPECT_LT(i_end, 0.6 * one_c);
  EXPECT_NEAR(test::out(b, 0, 1, kOutEndPotential_V), 3.6, 1e-9);
  EXPECT_EQ(test::out(b, 0, 1, kOutEndReason), (double)StepEnd::Limit);
}

// A limit that holds (almost) at once is located, never overshot: a second charge to
// the same cut-off right after the first ends within the voltage tolerance.
TEST(DfnProtocol, LimitReachedAtOnceIsNotOvershot) {
  Scenario s = test::bilayer_scenario({"Charge at 2C until 3.6 V", "Charge at 2C until 3.6 V",
                                       "Charge at 2C until 3.5 V"});
  Batch b = test::run_scenarios({s});
  ASSERT_EQ(test::status(b, 0), 0);
  const double tol = s.numerics.voltage_event_tolerance_V;
  EXPECT_LT(std::fabs(test::out(b, 0, 1, kOutEndPotential_V) - 3.6), tol + 1e-12);
  EXPECT_LT(test::out(b, 0, 1, kOutCapacity_C_m2), 1e-3 * test::out(b, 0, 0, kOutCapacity_C_m2));
  // Already above 3.5 V at the start: the step ends at its start, flagged as such.
  EXPECT_EQ(test::out(b, 0, 2, kOutEndReason), (double)StepEnd::AtStart);
  EXPECT_LT(test::out(b, 0, 2, kOutDuration_s), 2e-4);
}

// A fast charge straight after a discharge to the cut-off starts from particle
// surfaces at the end of their windows (nearly blocked kinetics): Newton must
// still converge (potential steps are capped), not fail the variant.
TEST(DfnProtocol, FastChargeRightAfterDeepDischargeConverges) {
  Scenario s = test::bilayer_scenario({"Charge at 1C until 3.6 V", "Discharge at 1C until 2.3 V",
                                       "Charge at 4C until 3.6 V"});
  for (Layer& l : s.layers) l.nodes = 6;
  s.separator.nodes = 4;
  s.numerics.particle_shells = 8;
  s.numerics.relative_tolerance = 1e-4;
  Batch b = test::run_scenarios({s});
  ASSERT_EQ(test::status(b, 0), 0) << status_reason((VariantStatus)test::status(b, 0));
  EXPECT_GT(test::capacity_mAh_g(b, 0, 2), 10.0);
  EXPECT_NEAR(test::out(b, 0, 2, kOutEndPotential_V), 3.6, 1e-4);
}

// The two optional grids of the brief: sub-layer cells in proportion to thickness
// (numerics.cell_size_m, with a floor) and particle shells of equal volume. Each gives
// a batch of the expected shape and converges to the 3C charge capacity of the fine
// default grid: proportional cells within the 0.5 % criterion above; equal-volume
// shells, whose centre shell spans half the radius at 8 shells, need twice the
// default shells for it (their error falls as shells are added).
TEST(DfnConvergence, ProportionalCellsAndEqualVolumeShellsConverge) {
  Scenario base = test::bilayer_scenario({"Charge at 3C until 3.6 V"});
  base.layers[0].thickness_m = 20e-6;
  base.layers[1].thickness_m = 80e-6;
  for (Layer& l : base.layers) l.nodes = 0;
  base.separator.nodes = 0;
  base.numerics = Numerics{};
  Scenario reference = base;  // twice the default cells and shells, 10x tighter in time
  reference.numerics.nodes_per_layer *= 2;
  reference.numerics.separator_nodes *= 2;
  reference.numerics.particle_shells *= 2;
  reference.numerics.relative_tolerance /= 10.0;
  Scenario proportional = base;
  proportional.numerics.cell_size_m = 8e-6;  // 20 um -> floor of 4, 80 um -> 10 cells
  proportional.numerics.min_nodes_per_layer = 4;
  Scenario equal_volume = base;
  equal_volume.numerics.particle_equal_volume = true;
  Scenario equal_volume_16 = equal_volume;
  equal_volume_16.numerics.particle_shells *= 2;
  Batch r = test::run_scenarios({reference});
  Batch p = test::run_scenarios({proportional});
  Batch e = test::run_scenarios({equal_volume});
  Batch e16 = test::run_scenarios({equal_volume_16});
  EXPECT_EQ(p.shape.layer_first_cell[1] - p.shape.layer_first_cell[0], 4);
  EXPECT_EQ(p.shape.layer_first_cell[2] - p.shape.layer_first_cell[1], 10);
  EXPECT_EQ(e.view(0)[e.shape.o_scalar + kShellRatio], 0.0);
  ASSERT_EQ(test::status(r, 0), 0);
  ASSERT_EQ(test::status(p, 0), 0);
  ASSERT_EQ(test::status(e, 0), 0);
  const double q = test::capacity_mAh_g(r, 0, 0);
  EXPECT_GT(q, 20.0);
  EXPECT_LT(std::fabs(test::capacity_mAh_g(p, 0, 0) - q) / q, 0.005) << test::capacity_mAh_g(p, 0, 0) << " vs " << q;
  ASSERT_EQ(test::status(e16, 0), 0);
  const double err8 = std::fabs(test::capacity_mAh_g(e, 0, 0) - q) / q;
  const double err16 = std::fabs(test::capacity_mAh_g(e16, 0, 0) - q) / q;
  EXPECT_LT(err16, 0.005) << test::capacity_mAh_g(e16, 0, 0) << " vs " << q;
  EXPECT_LT(err16, 0.5 * err8) << "8 shells " << err8 << ", 16 shells " << err16;
}
