// The cooperative (warp-per-variant) code path of the numerics against one thread per
// variant, on the CPU: a warp is emulated by threads that really run concurrently
// (tests/unit/thread_team.hpp), the records carry the PCR scratch as on the GPU
// (with_team_scratch), and the block system is solved by PCR across the lanes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <utility>

#include "kernels/dfn_protocol.hpp"
#include "tests/unit/test_support.hpp"
#include "tests/unit/thread_team.hpp"

using namespace strata;

namespace {

// Bilayers both ways round, a blended layer, a thin and a thick design, and a broken
// one (NaN particle radius: it fails in the run); a charge, a rest, a discharge and a
// potential hold (the fixed-voltage current row).
Batch mixed_batch() {
  const Scenario base = test::bilayer_scenario({"Charge at 3C until 3.6 V", "Rest for 30 seconds",
                                                "Discharge at 1C until 2.5 V",
                                                "Hold at 2.5 V until 50% of initial current"});
  std::vector<ResolvedVariant> vars;
  for (int k = 0; k < 6; ++k) {
    Scenario s = base;
    if (k % 2) std::swap(s.layers[0], s.layers[1]);
    if (k == 2) {
      LayerMaterial second = s.layers[0].materials[0];
      second.material = "plateau";
      s.layers[0].materials[0].solid_volume_fraction = 0.5;
      second.solid_volume_fraction = 0.3;
      s.layers[0].materials.push_back(second);
    }
    if (k == 3) s.layers[0].thickness_m = 20e-6;
    if (k == 4) { s.layers[1].thickness_m = 90e-6; s.layers[1].porosity = 0.3; }
    vars.push_back({"d" + std::to_string(k), s, ""});
  }
  Batch b = build_batch(vars, Layout::Blocked);
  b.view(5)[b.shape.o_slot + kSlotRadius_m] = std::numeric_limits<double>::quiet_NaN();
  return b;
}

// Runs every variant of b with a team of `lanes` threads, in records extended by the
// team scratch (copied in and out, as the CUDA backend does).
void run_with_team(Batch& b, int lanes) {
  b.rebind_tables();
  const DfnShape S = with_team_scratch(b.shape);
  const int n_steps = static_cast<int>(b.steps.size());
  const TrajectorySpec off{};
  for (int v = 0; v < b.n_variants; ++v) {
    std::vector<double> rec(S.record_size, 0.0);
    const Strided<double> src = b.view(v);
    for (long k = 0; k < b.shape.record_size; ++k) rec[k] = src[k];
    const Strided<double> rv{rec.data(), 1};
    const Strided<double> out = b.out_view(v);
    test::run_thread_team(lanes, [&](const test::ThreadTeam& t) {
      run_protocol(S, b.tables, rv, b.steps.data(), n_steps, out, off, out, t);
    });
    for (long k = 0; k < b.shape.record_size; ++k) src[k] = rec[k];
  }
}

double rel(double a, double b) { return std::fabs(a - b) / std::max(std::fabs(b), 1e-300); }

// Same statuses and step counts, capacities, end potentials and c_e ranges within tol
// relative.
void expect_same_results(Batch& team, Batch& serial, double tol, int lanes) {
  for (int v = 0; v < serial.n_variants; ++v) {
    ASSERT_EQ(test::status(team, v), test::status(serial, v)) << "design " << v << ", " << lanes << " lanes";
    for (int k = 0; k < static_cast<int>(serial.steps.size()); ++k) {
      const std::string where = "design " + std::to_string(v) + " step " + std::to_string(k) + ", " +
                                std::to_string(lanes) + " lanes";
      EXPECT_EQ(test::out(team, v, k, kOutEndReason), test::out(serial, v, k, kOutEndReason)) << where;
      EXPECT_EQ(test::out(team, v, k, kOutTimeSteps), test::out(serial, v, k, kOutTimeSteps)) << where;
      EXPECT_LE(rel(test::out(team, v, k, kOutCapacity_C_m2), test::out(serial, v, k, kOutCapacity_C_m2)), tol) << where;
      EXPECT_LE(rel(test::out(team, v, k, kOutEndPotential_V), test::out(serial, v, k, kOutEndPotential_V)), tol) << where;
      for (int f : {kOutMinCe_mol_m3, kOutMaxCe_mol_m3})  // the c_e range, a team reduction
        EXPECT_LE(rel(test::out(team, v, k, f), test::out(serial, v, k, f)), tol) << where << ", field " << f;
    }
  }
}

Batch& serial_reference() {
  static Batch b = [] {
    Batch s = mixed_batch();
    run_batch_cpu(s, 1);
    return s;
  }();
  return b;
}

}  // namespace

TEST(TeamMapping, TheReferenceBatchRunsAndOneDesignFails) {
  Batch& s = serial_reference();
  for (int v = 0; v < 5; ++v) {
    EXPECT_EQ(test::status(s, v), 0) << v;
    EXPECT_GT(test::out(s, v, 0, kOutCapacity_C_m2), 0.0) << v;
    EXPECT_GT(test::out(s, v, 3, kOutCapacity_C_m2), 0.0) << v;  // the hold passes charge
  }
  EXPECT_NE(test::status(s, 5), 0);
}

// One lane takes the serial code path (block Thomas): bit-identical.
TEST(TeamMapping, OneLaneTeamIsBitIdenticalToOneThread) {
  Batch b = mixed_batch();
  run_with_team(b, 1);
  expect_same_results(b, serial_reference(), 0.0, 1);
}

// A warp's 32 lanes, and 5 (rows not a multiple of the lanes): PCR across the lanes,
// same results to 1e-10.
TEST(TeamMapping, WarpOfLanesMatchesOneThreadPerVariant) {
  for (int lanes : {5, 32}) {
    Batch b = mixed_batch();
    run_with_team(b, lanes);
    expect_same_results(b, serial_reference(), 1e-10, lanes);
  }
}

// Lanes run concurrently: a missing barrier would make two runs differ.
TEST(TeamMapping, RepeatedTeamRunsAreBitIdentical) {
  Batch a = mixed_batch(), b = mixed_batch();
  run_with_team(a, 32);
  run_with_team(b, 32);
  expect_same_results(a, b, 0.0, 32);
}

// The porous counter's cells (reaction rows beyond the separator) under a team.
TEST(TeamMapping, PorousCounterUnderATeamMatchesOneThread) {
  Scenario s = test::bilayer_scenario({"Charge at 3C until 3.6 V", "Discharge at 1C until 2.5 V"});
  s.cell.counter_porous = true;
  s.counter.material = "sloping";
  s.counter.thickness_m = 75e-6;
  s.counter.porosity = 0.45;
  s.counter.particle_radius_m = 3.5e-6;
  s.counter.nodes = 5;
  Batch serial = build_batch({{"porous", s, ""}}, Layout::Blocked), team = build_batch({{"porous", s, ""}}, Layout::Blocked);
  run_batch_cpu(serial, 1);
  ASSERT_EQ(test::status(serial, 0), 0);
  run_with_team(team, 7);
  expect_same_results(team, serial, 1e-10, 7);
}

// The NVPF cell of the PyBaMM comparison discharged at 3C (rtol 1e-5), where the salt
// runs out near the current collector before the particle surfaces fill: with the
// salt rows as assembled before 2026-12-07 (not combined with the ionic rows,
// salt_row_weight) those rows became nearly parallel, the team's block PCR lost up to
// 70% of an update's phi_e from about 200 s on, and the variant crawled (20,000
// attempts) into ElectrolyteDepleted 114 mV above the cut-off, while one thread
// (block Thomas) ended at the wall of its cut-off in 939 steps
// (DfnFullParticle.NvpfThreeCDischargeEndsAtTheWallOfItsCutOff). Now the team ends
// there too, with the same capacity.
TEST(TeamMapping, NvpfThreeCDischargeEndsAtItsWallUnderATeam) {
  const Scenario s = test::nvpf_three_c_discharge(
      std::string(STRATA_SOURCE_DIR) + "/tests/data/nvpf_1C_discharge/scenario.toml", 1e-5);
  Batch serial = build_batch(resolve_variants(s), Layout::Blocked), team = build_batch(resolve_variants(s), Layout::Blocked);
  run_batch_cpu(serial, 1);
  run_with_team(team, 5);
  for (Batch* b : {&serial, &team}) {
    const char* who = b == &serial ? "one thread" : "5 lanes";
    test::expect_ended_at_the_nvpf_wall(*b, 0, who);
    ASSERT_FALSE(HasFatalFailure()) << who;
    EXPECT_LT(test::out(*b, 0, 0, kOutTimeSteps), 2000.0) << who;  // no crawl (939 steps on one thread)
  }
  // A wall ends each path on its last converged state, within 1e-7 s of current.
  EXPECT_LE(rel(test::out(team, 0, 0, kOutCapacity_C_m2), test::out(serial, 0, 0, kOutCapacity_C_m2)), 1e-6);
}

// A rest after the NVPF cell's discharge to its cut-off (1C: the surfaces at the end
// of their window; 3C: the salt run out) runs under a team of 5 lanes as on one
// thread: its first step needs more than 20 Newton iterations, which the first-step
// cap allows (DfnFullParticle.NvpfRestAfterADischargeToItsCutOffRuns), and the block
// PCR must solve those iterations from a state with c_e ~ 1e-29 mol/m3.
TEST(TeamMapping, NvpfRestAfterADischargeToItsCutOffRunsUnderATeam) {
  for (const char* rate : {"11.81102362", "35.4"}) {
    const Scenario s =
        test::nvpf_discharge_then_rest(std::string(STRATA_SOURCE_DIR) + "/tests/data/nvpf_1C_discharge/scenario.toml", rate);
    Batch serial = build_batch(resolve_variants(s), Layout::Blocked), team = build_batch(resolve_variants(s), Layout::Blocked);
    run_batch_cpu(serial, 1);
    run_with_team(team, 5);
    for (Batch* b : {&serial, &team}) {
      const std::string who = std::string(b == &serial ? "one thread, " : "5 lanes, ") + rate + " A/m2";
      ASSERT_EQ(test::status(*b, 0), 0) << who << ": " << status_reason((VariantStatus)test::status(*b, 0));
      EXPECT_EQ((int)test::out(*b, 0, 1, kOutEndReason), (int)StepEnd::Duration) << who;
    }
    EXPECT_NEAR(test::out(team, 0, 1, kOutEndPotential_V), test::out(serial, 0, 1, kOutEndPotential_V), 1e-4) << rate;
  }
}
