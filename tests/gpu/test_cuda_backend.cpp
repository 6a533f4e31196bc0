// The CUDA backend against the CPU backend (label gpu). Every test skips, saying
// why, when the CUDA backend is not built or no device is visible; scripts/gpu_check.sh
// runs them on a GPU machine. What they assert:
//  - CPU and GPU give the same statuses and step counts, and step capacities and end
//    potentials within 1e-10 relative, on 1,000 mixed designs (bilayers both ways
//    round, blends, and failing variants), with one thread (one Newton iteration or
//    one attempt per pass of the integrator) and with one warp per variant
//    (host/gpu_plan.hpp);
//  - the two pass units give the same bits;
//  - chunked and unchunked runs agree bit for bit, in both mappings;
//  - the kernels compiled with register caps of 128 and 64 (spilling more, for more
//    resident threads), and blocks of 128 threads instead of 32, give the same bits as
//    the defaults, in both mappings;
//  - a failing variant does not change any other variant's results;
//  - the device-side failure count (CUB) and population ranking (Thrust) agree with
//    the host's;
//  - the warp-per-system PCR solve agrees with the thread-per-system block Thomas;
//  - where the salt runs out (the NVPF 3C discharge) both mappings end at the wall of
//    the cut-off with the CPU's capacity.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include "host/cuda_runner.hpp"
#include "unit/test_support.hpp"

namespace strata {
namespace {

#define SKIP_WITHOUT_GPU()                                                                          \
  do {                                                                                              \
    if (!cuda_backend_built()) GTEST_SKIP() << "CUDA backend not built (no nvcc at configure time)"; \
    const CudaDeviceInfo info_ = cuda_device_info();                                                \
    if (info_.count <= 0) GTEST_SKIP() << "no CUDA device visible: " << info_.error;                \
  } while (0)

constexpr int kDesigns = 1000;
constexpr int kSteps = 3;

// 1,000 designs: NMO-like/NVP-like bilayers in both orders over a thickness and
// porosity sweep, every fifth with a blended first layer, and every 97th broken
// (NaN particle radius, set after the batch is built: it fails in the run).
std::vector<ResolvedVariant> mixed_designs() {
  return test::mixed_bilayer_designs(
      test::bilayer_scenario({"Charge at 3C until 3.6 V", "Rest for 30 seconds", "Discharge at 1C until 2.5 V"}),
      kDesigns);
}

Batch build(bool with_failures) {
  Batch b = build_batch(mixed_designs(), Layout::Interleaved);
  if (with_failures)
    for (int v = 13; v < b.n_variants; v += 97) b.view(v)[b.shape.o_slot + kSlotRadius_m] = std::numeric_limits<double>::quiet_NaN();
  return b;
}

// The CPU reference, computed once.
Batch& cpu_reference() {
  static Batch b = [] {
    Batch c = build(true);
    run_batch_cpu(c, 0);
    return c;
  }();
  return b;
}

Batch run_gpu(bool with_failures, long max_chunk, CudaRunReport* rep = nullptr, const std::string& mapping = "auto",
              int max_registers = CudaRunOptions{}.max_registers, int block_size = CudaRunOptions{}.block_size,
              const std::string& pass = CudaRunOptions{}.pass) {
  Batch b = build(with_failures);
  CudaRunOptions o;
  o.max_chunk = max_chunk;
  o.mapping = mapping;
  o.max_registers = max_registers;
  o.block_size = block_size;
  o.pass = pass;
  const RunStats st = run_batch_cuda(b, o, {}, {}, rep);
  EXPECT_EQ(std::count(st.ran.begin(), st.ran.end(), 1), b.n_variants);
  return b;
}

// These variants (interleaved) run on the GPU under the given mapping.
Batch run_on_gpu(const std::vector<ResolvedVariant>& variants, const std::string& mapping) {
  Batch b = build_batch(variants, Layout::Interleaved);
  CudaRunOptions o;
  o.mapping = mapping;
  run_batch_cuda(b, o, {}, {}, nullptr);
  return b;
}

// A file of the source tree this was built in or, for a bundle built elsewhere
// (scripts/gpu_bundle.sh), of the working directory (gpu_check.sh runs in the
// repository root).
std::string source_file(const std::string& relative_path) {
  const std::string built = std::string(STRATA_SOURCE_DIR) + "/" + relative_path;
  return std::ifstream(built).good() ? built : relative_path;
}

double rel(double a, double b) { return std::fabs(a - b) / std::max(std::fabs(b), 1e-300); }

// Bit for bit (the broken designs' records hold NaN, which == never matches): "" when
// identical, else where the first difference is.
std::string first_bit_difference(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return "sizes " + std::to_string(a.size()) + " and " + std::to_string(b.size());
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0)
      return "element " + std::to_string(i) + ": " + std::to_string(a[i]) + " vs " + std::to_string(b[i]);
  return "";
}

// Runs without a GPU: the CPU reference is the batch the GPU tests mean (blends
// present, exactly the broken designs fail, the rest complete every step).
TEST(CudaBackendReference, MixedDesignsOnTheCpu) {
  Batch& cpu = cpu_reference();
  ASSERT_EQ(cpu.n_variants, kDesigns);
  EXPECT_EQ(cpu.shape.n_slots, 3);  // a blended layer: two slots, padded where single
  int failed = 0;
  for (int v = 0; v < kDesigns; ++v) {
    const bool bad = v >= 13 && (v - 13) % 97 == 0;
    EXPECT_EQ(test::status(cpu, v) != 0, bad) << "design " << v;
    failed += test::status(cpu, v) != 0;
    if (!bad) {  // the charge and the discharge pass charge (step 1 is a rest)
      EXPECT_GT(test::out(cpu, v, 0, kOutCapacity_C_m2), 0.0) << v;
      EXPECT_GT(test::out(cpu, v, 2, kOutCapacity_C_m2), 0.0) << v;
    }
  }
  EXPECT_EQ(failed, 11);
}

void expect_gpu_matches_cpu(const std::string& mapping, const std::string& pass = "auto") {
  Batch& cpu = cpu_reference();
  CudaRunReport rep;
  Batch gpu = run_gpu(true, 0, &rep, mapping, CudaRunOptions{}.max_registers, CudaRunOptions{}.block_size, pass);
  EXPECT_EQ(rep.mapping, mapping == "warp" ? "warp per variant" : "thread per variant");
  // The rule's pass units (host/gpu_plan.hpp): a Newton iteration per pass with a thread per variant.
  EXPECT_EQ(rep.pass, pass != "auto" ? pass : (mapping == "warp" ? "attempt" : "iteration"));
  // Aggregates with the worst case named, rather than thousands of lines if it fails.
  int failed = 0, compared = 0, status_mismatch = 0, step_count_mismatch = 0;
  double worst_capacity = 0.0, worst_potential = 0.0;
  std::string where_capacity, where_potential, first_status, first_steps;
  for (int v = 0; v < kDesigns; ++v) {
    if (test::status(gpu, v) != test::status(cpu, v)) {
      if (!status_mismatch++) first_status = "design " + std::to_string(v);
      continue;
    }
    if (test::status(cpu, v) != 0) { ++failed; continue; }
    for (int k = 0; k < kSteps; ++k) {
      const std::string at = "design " + std::to_string(v) + " step " + std::to_string(k);
      if (test::out(gpu, v, k, kOutTimeSteps) != test::out(cpu, v, k, kOutTimeSteps))
        if (!step_count_mismatch++) first_steps = at;
      const double dc = rel(test::out(gpu, v, k, kOutCapacity_C_m2), test::out(cpu, v, k, kOutCapacity_C_m2));
      const double dp = std::max({rel(test::out(gpu, v, k, kOutEndPotential_V), test::out(cpu, v, k, kOutEndPotential_V)),
                                  rel(test::out(gpu, v, k, kOutMinCe_mol_m3), test::out(cpu, v, k, kOutMinCe_mol_m3)),
                                  rel(test::out(gpu, v, k, kOutMaxCe_mol_m3), test::out(cpu, v, k, kOutMaxCe_mol_m3))});
      if (dc > worst_capacity) { worst_capacity = dc; where_capacity = at; }
      if (dp > worst_potential) { worst_potential = dp; where_potential = at; }
      ++compared;
    }
  }
  EXPECT_EQ(status_mismatch, 0) << "first at " << first_status;
  EXPECT_EQ(step_count_mismatch, 0) << "time-step counts differ; first at " << first_steps;
  EXPECT_LE(worst_capacity, 1e-10) << "step capacity, worst at " << where_capacity;
  EXPECT_LE(worst_potential, 1e-10) << "end potential or c_e range, worst at " << where_potential;
  EXPECT_EQ(failed, 11);  // the broken designs failed on both
  EXPECT_GT(compared, 2900);
  EXPECT_EQ(rep.failed, failed);  // CUB's count of non-zero statuses
  std::printf("CPU vs GPU (%s, one %s per pass) on %d designs: worst relative difference %.3g (capacity), %.3g (end "
              "potential, c_e range)\n",
              rep.mapping.c_str(), rep.pass.c_str(), kDesigns, worst_capacity, worst_potential);
}

TEST(CudaBackend, SameResultsAsTheCpuOnMixedDesigns) {
  SKIP_WITHOUT_GPU();
  expect_gpu_matches_cpu("thread");
  expect_gpu_matches_cpu("thread", "attempt");
}

TEST(CudaBackend, WarpPerVariantGivesTheCpuResultsOnMixedDesigns) {
  SKIP_WITHOUT_GPU();
  expect_gpu_matches_cpu("warp");
}

TEST(CudaBackend, ChunkedAndUnchunkedRunsAgreeExactly) {
  SKIP_WITHOUT_GPU();
  for (const char* mapping : {"thread", "warp"}) {
    CudaRunReport one, many;
    Batch whole = run_gpu(true, 0, &one, mapping);
    Batch chunked = run_gpu(true, 77, &many, mapping);  // 12 chunks of 77 and one of 76
    EXPECT_EQ(one.chunks, 1) << mapping;
    EXPECT_EQ(many.chunks, 13) << mapping;
    EXPECT_EQ(first_bit_difference(whole.outputs, chunked.outputs), "") << mapping << ", outputs";
    EXPECT_EQ(first_bit_difference(whole.records, chunked.records), "") << mapping << ", records";
  }
}

// The pass unit changes how a warp's threads keep in step, not a bit of any result.
TEST(CudaBackend, PassUnitsChangeNoBits) {
  SKIP_WITHOUT_GPU();
  const Batch by_iteration = run_gpu(true, 0, nullptr, "thread", 255, 32, "iteration");
  const Batch by_attempt = run_gpu(true, 0, nullptr, "thread", 255, 32, "attempt");
  EXPECT_EQ(first_bit_difference(by_attempt.outputs, by_iteration.outputs), "");
  EXPECT_EQ(first_bit_difference(by_attempt.records, by_iteration.records), "");
}

TEST(CudaBackend, RegisterCapsAndBlockSizeChangeNoBits) {
  SKIP_WITHOUT_GPU();
  for (const char* mapping : {"thread", "warp"}) {
    const Batch uncapped = run_gpu(true, 0, nullptr, mapping, 255);
    const Batch wide = run_gpu(true, 0, nullptr, mapping, 255, 128);
    EXPECT_EQ(first_bit_difference(wide.outputs, uncapped.outputs), "") << mapping << ", blocks of 128";
    EXPECT_EQ(first_bit_difference(wide.records, uncapped.records), "") << mapping << ", blocks of 128";
    for (int cap : {128, 64}) {
      const Batch capped = run_gpu(true, 0, nullptr, mapping, cap);
      EXPECT_EQ(first_bit_difference(capped.outputs, uncapped.outputs), "") << mapping << ", " << cap << " registers";
      EXPECT_EQ(first_bit_difference(capped.records, uncapped.records), "") << mapping << ", " << cap << " registers";
    }
  }
}

TEST(CudaBackend, AFailingVariantDoesNotDisturbOthers) {
  SKIP_WITHOUT_GPU();
  Batch clean = run_gpu(false, 0);
  Batch broken = run_gpu(true, 0);
  const long n_out = clean.out_record_size();
  for (int v = 0; v < kDesigns; ++v) {
    const bool bad = v >= 13 && (v - 13) % 97 == 0;
    if (bad) {
      EXPECT_NE(test::status(broken, v), 0) << v;
      continue;
    }
    ASSERT_EQ(test::status(broken, v), test::status(clean, v)) << v;
    for (long k = 0; k < n_out; ++k) ASSERT_EQ(broken.out_view(v)[k], clean.out_view(v)[k]) << "design " << v << " field " << k;
  }
}

TEST(CudaBackend, RunnerGivesTheCpuRunnersPopulation) {
  SKIP_WITHOUT_GPU();
  Scenario base = test::bilayer_scenario({"Charge at 3C until 3.6 V"});
  base.name = "runner";
  RunRequest req;
  for (int k = 0; k < 40; ++k) {
    VariantSpec spec;
    spec.label = "t" + std::to_string(k);
    spec.overrides["layers[0].thickness_m"] = (30 + k) * 1e-6;
    req.specs.push_back(spec);
    req.ids.push_back(k);
  }
  LocalVariantRunner cpu(base, 0, Layout::Interleaved);
  CudaRunOptions every_batch = cuda_options_from_env();
  every_batch.min_batch = 0;  // 40 variants: the rule would send them to the CPU
  CudaVariantRunner gpu(base, 0, every_batch);
  const RunOutcome a = cpu.run(req), b = gpu.run(req);
  ASSERT_EQ(a.results.size(), b.results.size());
  for (size_t v = 0; v < a.results.size(); ++v) {
    EXPECT_EQ(a.results[v].status, b.results[v].status) << v;
    EXPECT_LE(rel(b.results[v].steps[0].capacity_mAh_g, a.results[v].steps[0].capacity_mAh_g), 1e-10) << v;
  }
  EXPECT_NE(gpu.device_description().find("CUDA: "), std::string::npos);
  EXPECT_NE(gpu.device_description().find("registers per thread"), std::string::npos);
  EXPECT_NE(gpu.summary().find("chunk"), std::string::npos);
  EXPECT_EQ(gpu.summary().find("on the CPU"), std::string::npos) << gpu.summary();
  // With the rule (16 variants per CPU thread), the same 40 run on the CPU.
  CudaRunOptions rule = every_batch;
  rule.min_batch = -1;
  CudaVariantRunner routed(base, 3, rule);
  const RunOutcome c = routed.run(req);
  for (size_t v = 0; v < a.results.size(); ++v)
    EXPECT_EQ(c.results[v].steps[0].capacity_mAh_g, a.results[v].steps[0].capacity_mAh_g) << v;
  EXPECT_NE(routed.summary().find("1 batch(es) of fewer than 48 variants"), std::string::npos) << routed.summary();
}

TEST(CudaBackend, ThrustRankingAndCubCountMatchTheHost) {
  SKIP_WITHOUT_GPU();
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> u(0, 50);  // many ties: the ranking must be stable
  std::vector<double> keys(100000);
  for (double& k : keys) k = u(rng);
  std::vector<int> ref(keys.size());
  std::iota(ref.begin(), ref.end(), 0);
  std::stable_sort(ref.begin(), ref.end(), [&](int a, int b) { return keys[a] < keys[b]; });
  EXPECT_EQ(cuda_sort_indices_by_key(keys), ref);
  EXPECT_EQ(cuda_count_nonzero(keys), std::count_if(keys.begin(), keys.end(), [](double x) { return x != 0.0; }));
}

TEST(CudaBackend, WarpPcrSolveMatchesThreadThomas) {
  SKIP_WITHOUT_GPU();
  for (int cells : {21, 33, 60}) {
    const SolveBenchResult r = cuda_bench_block_solve(2000, cells, 1);
    EXPECT_LT(r.max_rel_diff, 1e-11) << cells << " cells";
  }
}

// The NVPF cell of the PyBaMM comparison discharged at 3C (rtol 1e-5), where the salt
// runs out near the current collector: both mappings end at the wall of the cut-off
// as the CPU does, with the same capacity (the warp mapping's PCR, on uncombined salt
// rows, crawled into ElectrolyteDepleted; CPU test
// TeamMapping.NvpfThreeCDischargeEndsAtItsWallUnderATeam, docs/physics.md 3.3).
TEST(CudaBackend, BothMappingsEndTheNvpfThreeCDischargeAtItsWall) {
  SKIP_WITHOUT_GPU();
  const Scenario s = test::nvpf_three_c_discharge(source_file("tests/data/nvpf_1C_discharge/scenario.toml"), 1e-5);
  const std::vector<ResolvedVariant> copies(4, resolve_variants(s)[0]);
  Batch cpu = build_batch(copies, Layout::Interleaved);
  run_batch_cpu(cpu, 0);
  test::expect_ended_at_the_nvpf_wall(cpu, 0, "cpu");
  ASSERT_FALSE(HasFatalFailure());
  for (const char* mapping : {"thread", "warp"}) {
    Batch gpu = run_on_gpu(copies, mapping);
    for (int v = 0; v < gpu.n_variants; ++v) {
      test::expect_ended_at_the_nvpf_wall(gpu, v, mapping);
      ASSERT_FALSE(HasFatalFailure()) << mapping;
      EXPECT_LT(test::out(gpu, v, 0, kOutTimeSteps), 2000.0) << mapping;  // no crawl (939 steps on the CPU)
      EXPECT_LE(rel(test::out(gpu, v, 0, kOutCapacity_C_m2), test::out(cpu, 0, 0, kOutCapacity_C_m2)), 1e-6) << mapping;
    }
  }
}

// The same cell discharged to its cut-off at 1C and 3C and then rested: the rest's
// first step needs more than 20 Newton iterations (the potentials jump by volts from
// a state at the end of the particles' window, or with the salt run out), which
// kMaxFarGuessNewtonIterations allows (CPU test
// DfnFullParticle.NvpfRestAfterADischargeToItsCutOffRuns, docs/physics.md 5). Both
// mappings run the rest to its end with the CPU's end potential.
TEST(CudaBackend, BothMappingsRestAfterTheNvpfDischargeToItsCutOff) {
  SKIP_WITHOUT_GPU();
  for (const char* rate : {"11.81102362", "35.4"}) {
    const Scenario s = test::nvpf_discharge_then_rest(source_file("tests/data/nvpf_1C_discharge/scenario.toml"), rate);
    const std::vector<ResolvedVariant> copies(4, resolve_variants(s)[0]);
    Batch cpu = build_batch(copies, Layout::Interleaved);
    run_batch_cpu(cpu, 0);
    ASSERT_EQ(test::status(cpu, 0), 0) << rate;
    for (const char* mapping : {"thread", "warp"}) {
      Batch gpu = run_on_gpu(copies, mapping);
      for (int v = 0; v < gpu.n_variants; ++v) {
        ASSERT_EQ(test::status(gpu, v), 0) << mapping << " " << rate << " A/m2: "
                                           << status_reason((VariantStatus)test::status(gpu, v));
        EXPECT_EQ((int)test::out(gpu, v, 1, kOutEndReason), (int)StepEnd::Duration) << mapping;
        EXPECT_NEAR(test::out(gpu, v, 1, kOutEndPotential_V), test::out(cpu, 0, 1, kOutEndPotential_V), 1e-4)
            << mapping << " " << rate << " A/m2";
      }
    }
  }
}

}  // namespace
}  // namespace strata
