// The CUDA runner's failure paths, which run without a GPU: a run with no device (or
// no CUDA build) throws a message naming the CUDA call, the source line and the batch
// (or "not built"); a blocked batch is refused; the environment overrides are checked.
#include <gtest/gtest.h>

#include <cstdlib>

#include "host/cuda_runner.hpp"
#include "host/gpu_plan.hpp"
#include "test_support.hpp"

namespace strata {
namespace {

Batch small_batch(Layout layout) {
  const Scenario s = test::bilayer_scenario({"Charge at 1C until 3.6 V"});
  return build_batch({{"first", s, ""}, {"second", s, ""}}, layout);
}

TEST(CudaRunnerErrors, RunWithoutADeviceNamesTheCallAndTheBatch) {
  if (cuda_backend_built() && cuda_device_info().count > 0) GTEST_SKIP() << "a CUDA device is visible: the run would succeed";
  Batch b = small_batch(Layout::Interleaved);
  try {
    run_batch_cuda(b, CudaRunOptions{});
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    if (cuda_backend_built()) {
      EXPECT_NE(m.find("CUDA error in cudaMalloc("), std::string::npos) << m;
      EXPECT_NE(m.find("cuda_backend.cu:"), std::string::npos) << m;
      EXPECT_NE(m.find("batch 'first, ...' (2 variants)"), std::string::npos) << m;
    } else {
      EXPECT_NE(m.find("not built"), std::string::npos) << m;
    }
  }
}

TEST(CudaRunnerErrors, BlockedLayoutIsRefused) {
  Batch b = small_batch(Layout::Blocked);
  EXPECT_THROW(run_batch_cuda(b, CudaRunOptions{}), std::invalid_argument);
}

struct EnvGuard {
  explicit EnvGuard(const char* n) : name(n) {}
  ~EnvGuard() { unsetenv(name); }
  const char* name;
};

TEST(CudaRunnerErrors, EnvironmentOverridesAreChecked) {
  EnvGuard a("STRATA_CUDA_MAX_CHUNK"), b("STRATA_CUDA_BLOCK_SIZE"), c("STRATA_CUDA_MAPPING");
  EXPECT_EQ(cuda_options_from_env().max_chunk, 0);
  EXPECT_EQ(cuda_options_from_env().block_size, 32);
  EXPECT_EQ(cuda_options_from_env().mapping, "auto");
  setenv("STRATA_CUDA_MAPPING", "warp", 1);
  EXPECT_EQ(cuda_options_from_env().mapping, "warp");
  setenv("STRATA_CUDA_MAPPING", "block", 1);
  EXPECT_THROW(cuda_options_from_env(), std::invalid_argument);
  unsetenv("STRATA_CUDA_MAPPING");
  setenv("STRATA_CUDA_MAX_CHUNK", "96", 1);
  setenv("STRATA_CUDA_BLOCK_SIZE", "256", 1);
  EXPECT_EQ(cuda_options_from_env().max_chunk, 96);
  EXPECT_EQ(cuda_options_from_env().block_size, 256);
  setenv("STRATA_CUDA_MAX_CHUNK", "lots", 1);
  EXPECT_THROW(cuda_options_from_env(), std::invalid_argument);
  setenv("STRATA_CUDA_MAX_CHUNK", "96", 1);
  setenv("STRATA_CUDA_BLOCK_SIZE", "100", 1);  // not a multiple of 32
  EXPECT_THROW(cuda_options_from_env(), std::invalid_argument);
  setenv("STRATA_CUDA_BLOCK_SIZE", "512", 1);  // more than 255-register threads fit a block
  EXPECT_THROW(cuda_options_from_env(), std::invalid_argument);
}

TEST(CudaRunnerErrors, RegisterCapIsOneOfTheCompiledOnes) {
  EnvGuard r("STRATA_CUDA_MAX_REGISTERS");
  EXPECT_EQ(cuda_options_from_env().max_registers, 0);  // the rule (choose_register_cap)
  setenv("STRATA_CUDA_MAX_REGISTERS", "auto", 1);
  EXPECT_EQ(cuda_options_from_env().max_registers, 0);
  setenv("STRATA_CUDA_MAX_REGISTERS", "64", 1);
  EXPECT_EQ(cuda_options_from_env().max_registers, 64);
  setenv("STRATA_CUDA_MAX_REGISTERS", "96", 1);  // no kernel is compiled for it
  try {
    cuda_options_from_env();
    ADD_FAILURE() << "96 registers accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("auto, 255, 128 or 64"), std::string::npos) << e.what();
  }
}

TEST(CudaRunnerErrors, PassUnitIsAutoAttemptOrIteration) {
  EnvGuard p("STRATA_CUDA_PASS");
  EXPECT_EQ(cuda_options_from_env().pass, "auto");
  setenv("STRATA_CUDA_PASS", "attempt", 1);
  EXPECT_EQ(cuda_options_from_env().pass, "attempt");
  setenv("STRATA_CUDA_PASS", "newton", 1);
  try {
    cuda_options_from_env();
    ADD_FAILURE() << "'newton' accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("STRATA_CUDA_PASS=newton: expected auto, attempt or iteration"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {

TEST(CudaRunnerRouting, MinBatchFollowsTheRuleOrTheEnvironment) {
  EXPECT_EQ(gpu_min_batch(-1, 16), kCpuVariantsPerThreadBeforeGpu * 16);
  EXPECT_EQ(gpu_min_batch(-1, 0), kCpuVariantsPerThreadBeforeGpu);
  EXPECT_EQ(gpu_min_batch(-1, 256), kMaxCpuBatch);  // a sweep's batch still goes to the device
  EXPECT_EQ(gpu_min_batch(0, 16), 0);
  EXPECT_EQ(gpu_min_batch(5000, 16), 5000);
  EnvGuard m("STRATA_CUDA_MIN_BATCH");
  unsetenv("STRATA_CUDA_MIN_BATCH");
  EXPECT_EQ(cuda_options_from_env().min_batch, -1);
  setenv("STRATA_CUDA_MIN_BATCH", "auto", 1);
  EXPECT_EQ(cuda_options_from_env().min_batch, -1);
  setenv("STRATA_CUDA_MIN_BATCH", "0", 1);
  EXPECT_EQ(cuda_options_from_env().min_batch, 0);
  setenv("STRATA_CUDA_MIN_BATCH", "few", 1);
  EXPECT_THROW(cuda_options_from_env(), std::invalid_argument);
}

// A batch below the runner's minimum runs on the CPU backend, with or without a GPU
// (the results of a CPU runner, bit for bit), and says so; a batch at the minimum goes
// to the device, which here (no device, or no CUDA build) throws.
TEST(CudaRunnerRouting, SmallBatchesRunOnTheCpu) {
  const Scenario s = test::bilayer_scenario({"Charge at 1C until 3.6 V"});
  RunRequest small;
  for (int k = 0; k < 3; ++k) {
    VariantSpec spec;
    spec.label = "v" + std::to_string(k);
    spec.overrides["layers[0].thickness_m"] = (40 + 5 * k) * 1e-6;
    small.specs.push_back(spec);
    small.ids.push_back(k);
  }
  CudaRunOptions o;
  o.min_batch = 4;
  CudaVariantRunner gpu(s, 1, o);
  LocalVariantRunner cpu(s, 1, Layout::Blocked);
  const RunOutcome a = gpu.run(small), b = cpu.run(small);
  ASSERT_EQ(a.results.size(), 3u);
  for (size_t v = 0; v < 3; ++v) {
    EXPECT_EQ(a.results[v].status, 0) << v;
    EXPECT_EQ(a.results[v].steps.at(0).capacity_mAh_g, b.results[v].steps.at(0).capacity_mAh_g) << v;
  }
  EXPECT_NE(gpu.summary().find("1 batch(es) of fewer than 4 variants or recording trajectories (3 variants) on the CPU"),
            std::string::npos)
      << gpu.summary();
  EXPECT_NE(gpu.device_description().find("batches of fewer than 4 variants"), std::string::npos);
  EXPECT_NE(gpu.batch_note(3).find("note: batches of 3 variants are fewer than the 4"), std::string::npos);
  EXPECT_EQ(gpu.batch_note(4), "");
  if (cuda_backend_built() && cuda_device_info().count > 0) return;  // the device would run the next one
  RunRequest four = small;
  four.specs.push_back(small.specs[0]);
  four.ids.push_back(3);
  EXPECT_THROW(gpu.run(four), std::runtime_error);
}

// The threshold applies to each batch of one shape, each a launch of its own: a
// request of 6 variants in two shapes of 3 (an optimiser batch over two electrodes
// that mesh differently) is two small batches, both on the CPU, though 6 >= 4.
TEST(CudaRunnerRouting, EachShapeOfARequestIsRoutedOnItsOwn) {
  Scenario s = test::bilayer_scenario({"Charge at 1C until 3.6 V"});
  s.numerics.cell_size_m = 5e-6;  // cells in proportion to thickness: 38-40 um in 8, 58-60 um in 12
  for (Layer& l : s.layers) l.nodes = 0;
  RunRequest req;
  for (int k = 0; k < 6; ++k) {
    VariantSpec spec;
    spec.label = "v" + std::to_string(k);
    spec.overrides["layers[0].thickness_m"] = ((k % 2 == 0 ? 40 : 60) - k / 2) * 1e-6;
    req.specs.push_back(spec);
    req.ids.push_back(k);
  }
  std::vector<ResolvedVariant> vars;
  for (const VariantSpec& spec : req.specs) vars.push_back(resolve_variant(s, spec));
  ASSERT_EQ(group_by_shape(vars).size(), 2u);
  CudaRunOptions o;
  o.min_batch = 4;
  CudaVariantRunner gpu(s, 1, o);
  LocalVariantRunner cpu(s, 1, Layout::Blocked);
  const RunOutcome a = gpu.run(req), b = cpu.run(req);
  for (size_t v = 0; v < 6; ++v) {
    EXPECT_EQ(a.results[v].status, 0) << v;
    EXPECT_EQ(a.results[v].steps.at(0).capacity_mAh_g, b.results[v].steps.at(0).capacity_mAh_g) << v;
  }
  EXPECT_NE(gpu.summary().find("2 batch(es) of fewer than 4 variants or recording trajectories (6 variants) on the CPU"),
            std::string::npos)
      << gpu.summary();
}

}  // namespace
}  // namespace strata
