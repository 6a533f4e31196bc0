// The CUDA backend's pure decisions, tested without a GPU: chunk sizes from free
// device memory, the OOM halving, the thread-mapping rule, and --device resolution.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include "host/cuda/cuda_api.hpp"
#include "host/gpu_plan.hpp"

namespace strata {
namespace {

TEST(ChunkPlan, WholeBatchWhenItFits) {
  const ChunkPlan p = plan_chunks(1000, 20000, 1 << 20, size_t(80) << 30);
  EXPECT_EQ(p.chunk_variants, 1000);
  EXPECT_EQ(p.n_chunks, 1);
}

TEST(ChunkPlan, SplitsByFreeMemoryInWholeWarps) {
  // 80% of 10 MB minus 1 MB shared = 7,000,000 bytes; 20,000 bytes per variant -> 350,
  // rounded down to 320 (10 warps).
  const ChunkPlan p = plan_chunks(1000, 20000, 1000000, 10000000, 0, 0.8);
  EXPECT_EQ(p.chunk_variants, 320);
  EXPECT_EQ(p.n_chunks, 4);
  EXPECT_LE(size_t(p.chunk_variants) * 20000 + 1000000, size_t(0.8 * 10000000));
}

TEST(ChunkPlan, OverrideForcesSmallerChunks) {
  const ChunkPlan p = plan_chunks(1000, 20000, 0, size_t(80) << 30, 64);
  EXPECT_EQ(p.chunk_variants, 64);
  EXPECT_EQ(p.n_chunks, 16);  // 15 of 64 and one of 40
  const ChunkPlan q = plan_chunks(10, 20000, 0, size_t(80) << 30, 64);
  EXPECT_EQ(q.chunk_variants, 10);
  EXPECT_EQ(q.n_chunks, 1);
}

TEST(ChunkPlan, SmallChunksAreNotRoundedToAWarp) {
  const ChunkPlan p = plan_chunks(1000, 1000, 0, 25000, 0, 1.0);
  EXPECT_EQ(p.chunk_variants, 25);
  EXPECT_EQ(p.n_chunks, 40);
}

TEST(ChunkPlan, RefusesWhenNotOneVariantFits) {
  EXPECT_THROW(plan_chunks(10, 20000, 0, 10000), std::runtime_error);
  EXPECT_THROW(plan_chunks(10, 100, 1 << 20, 1 << 20), std::runtime_error);  // shared tables eat it all
  EXPECT_EQ(plan_chunks(0, 100, 0, 1000).n_chunks, 0);
}

TEST(ChunkPlan, OutOfMemoryHalvingEndsAtZero) {
  long c = 1000;
  int retries = 0;
  while (c > 0) { c = halve_chunk(c); ++retries; }
  EXPECT_EQ(retries, 10);  // 1000 500 250 125 62 31 15 7 3 1 -> 0
}

TEST(GpuMappingRule, WarpPerVariantBelowOneWarpPerScheduler) {
  // H100 SXM: 132 SMs, threshold 132 * 128 = 16,896 variants.
  EXPECT_EQ(choose_mapping(1, 132), GpuMapping::WarpPerVariant);
  EXPECT_EQ(choose_mapping(16895, 132), GpuMapping::WarpPerVariant);
  EXPECT_EQ(choose_mapping(16896, 132), GpuMapping::ThreadPerVariant);
  EXPECT_EQ(choose_mapping(100000, 132), GpuMapping::ThreadPerVariant);
  EXPECT_EQ(choose_mapping(13823, 108), GpuMapping::WarpPerVariant);  // A100
  EXPECT_EQ(choose_mapping(13824, 108), GpuMapping::ThreadPerVariant);
  EXPECT_EQ(choose_mapping(127, 0), GpuMapping::WarpPerVariant);  // unknown SM count counts as 1
  EXPECT_EQ(choose_mapping(128, 0), GpuMapping::ThreadPerVariant);
}

TEST(GpuRegisterCapRule, SixtyFourRegistersBeyondTwoWavesOfOneThreadPerVariant) {
  // 132 SMs: 256 threads per SM at 255 registers, two waves = 67,584 variants.
  const GpuMapping thread = GpuMapping::ThreadPerVariant, warp = GpuMapping::WarpPerVariant;
  EXPECT_EQ(choose_register_cap(33792, 132, thread), 255);
  EXPECT_EQ(choose_register_cap(67584, 132, thread), 255);
  EXPECT_EQ(choose_register_cap(67585, 132, thread), 64);
  EXPECT_EQ(choose_register_cap(135168, 132, thread), 64);
  EXPECT_EQ(choose_register_cap(135168, 132, warp), 255);  // the warp mapping is fastest uncapped
  EXPECT_EQ(choose_register_cap(513, 0, thread), 64);      // unknown SM count counts as 1
  for (int cap : {255, 64}) EXPECT_NE(std::find(std::begin(kCudaRegisterCaps), std::end(kCudaRegisterCaps), cap),
                                      std::end(kCudaRegisterCaps));  // the rule picks compiled caps
}

TEST(GpuMappingRule, RequestsOverrideTheRule) {
  EXPECT_EQ(parse_mapping_request("auto", 1000, 132), GpuMapping::WarpPerVariant);
  EXPECT_EQ(parse_mapping_request("auto", 100000, 132), GpuMapping::ThreadPerVariant);
  EXPECT_EQ(parse_mapping_request("thread", 1000, 132), GpuMapping::ThreadPerVariant);
  EXPECT_EQ(parse_mapping_request("warp", 100000, 132), GpuMapping::WarpPerVariant);
  try {
    parse_mapping_request("block", 1, 1);
    ADD_FAILURE() << "accepted 'block'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("expected auto, thread or warp"), std::string::npos) << e.what();
  }
}

TEST(GpuPassUnitRule, IterationPerPassOnlyForThreadsOnDifferentVariants) {
  EXPECT_EQ(choose_pass_unit(GpuMapping::ThreadPerVariant), PassUnit::NewtonIteration);
  EXPECT_EQ(choose_pass_unit(GpuMapping::WarpPerVariant), PassUnit::Attempt);
  EXPECT_EQ(parse_pass_request("auto", GpuMapping::ThreadPerVariant), PassUnit::NewtonIteration);
  EXPECT_EQ(parse_pass_request("attempt", GpuMapping::ThreadPerVariant), PassUnit::Attempt);
  EXPECT_EQ(parse_pass_request("iteration", GpuMapping::ThreadPerVariant), PassUnit::NewtonIteration);
  // The warp-per-variant kernels run whole attempts, whatever the request.
  EXPECT_EQ(parse_pass_request("auto", GpuMapping::WarpPerVariant), PassUnit::Attempt);
  EXPECT_EQ(parse_pass_request("iteration", GpuMapping::WarpPerVariant), PassUnit::Attempt);
  EXPECT_STREQ(pass_unit_name(PassUnit::NewtonIteration), "iteration");
  EXPECT_STREQ(pass_unit_name(PassUnit::Attempt), "attempt");
  for (GpuMapping m : {GpuMapping::ThreadPerVariant, GpuMapping::WarpPerVariant}) {
    try {
      parse_pass_request("step", m);
      ADD_FAILURE() << "accepted 'step'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("expected auto, attempt or iteration"), std::string::npos) << e.what();
    }
  }
}

TEST(DeviceDecision, CpuIsAlwaysCpu) {
  const DeviceDecision d = decide_device(DeviceRequest::Cpu, true, 4, "");
  EXPECT_FALSE(d.use_cuda);
  EXPECT_TRUE(d.error.empty());
  EXPECT_NE(d.note.find("CPU"), std::string::npos);
}

TEST(DeviceDecision, CudaRefusedWithoutBuildOrDevice) {
  const DeviceDecision nb = decide_device(DeviceRequest::Cuda, false, 0, "");
  EXPECT_NE(nb.error.find("built without the CUDA backend"), std::string::npos) << nb.error;
  const DeviceDecision nd = decide_device(DeviceRequest::Cuda, true, 0, "cudaErrorNoDevice: no CUDA-capable device");
  EXPECT_NE(nd.error.find("no CUDA device is visible"), std::string::npos) << nd.error;
  EXPECT_NE(nd.error.find("cudaErrorNoDevice"), std::string::npos) << nd.error;
  const DeviceDecision ok = decide_device(DeviceRequest::Cuda, true, 1, "");
  EXPECT_TRUE(ok.use_cuda);
  EXPECT_TRUE(ok.error.empty());
}

// MPI mode: each rank on its own node; a CUDA rank takes GPU local_rank % count.
TEST(DeviceDecision, MpiRanksTakeTheGpuOfTheirLocalRank) {
  const RankDeviceDecision r5 = decide_rank_device(DeviceRequest::Auto, true, 4, "", 5, 5);
  EXPECT_TRUE(r5.decision.use_cuda);
  EXPECT_EQ(r5.device_index, 1);  // 5 ranks on 4 GPUs: ranks 1 and 5 share GPU 1
  EXPECT_NE(r5.decision.note.find("rank 5 (local rank 5): GPU 1 of 4"), std::string::npos) << r5.decision.note;
  EXPECT_EQ(decide_rank_device(DeviceRequest::Cuda, true, 2, "", 3, 2).device_index, 0);
  const RankDeviceDecision cpu = decide_rank_device(DeviceRequest::Auto, true, 0, "cudaErrorNoDevice", 1, 1);
  EXPECT_FALSE(cpu.decision.use_cuda);
  EXPECT_EQ(cpu.device_index, -1);
  EXPECT_NE(cpu.decision.note.find("device: CPU (--device auto: no CUDA device is visible"), std::string::npos);
  const RankDeviceDecision refused = decide_rank_device(DeviceRequest::Cuda, false, 0, "", 2, 0);
  EXPECT_NE(refused.decision.error.find("--device cuda: this strata was built without the CUDA backend"),
            std::string::npos)
      << refused.decision.error;
  EXPECT_FALSE(decide_rank_device(DeviceRequest::Cpu, true, 4, "", 0, 0).decision.use_cuda);
}

TEST(DeviceDecision, AutoFallsBackToCpuAndSaysWhy) {
  const DeviceDecision d = decide_device(DeviceRequest::Auto, true, 0, "cudaErrorNoDevice");
  EXPECT_FALSE(d.use_cuda);
  EXPECT_TRUE(d.error.empty());
  EXPECT_NE(d.note.find("device: CPU (--device auto: no CUDA device is visible"), std::string::npos) << d.note;
  EXPECT_TRUE(decide_device(DeviceRequest::Auto, true, 2, "").use_cuda);
  EXPECT_FALSE(decide_device(DeviceRequest::Auto, false, 2, "").use_cuda);
}

TEST(DeviceDecision, ParsesTheThreeWords) {
  EXPECT_EQ(parse_device_request("auto"), DeviceRequest::Auto);
  EXPECT_EQ(parse_device_request("cpu"), DeviceRequest::Cpu);
  EXPECT_EQ(parse_device_request("cuda"), DeviceRequest::Cuda);
  EXPECT_THROW(parse_device_request("gpu"), std::invalid_argument);
}

}  // namespace
}  // namespace strata
