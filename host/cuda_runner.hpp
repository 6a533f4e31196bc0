#pragma once
// The CUDA VariantRunner: batches are built in the interleaved layout and run by
// the CUDA backend (host/cuda/), one thread or one warp per variant, in chunks that fit
// the device. Batches of fewer than gpu_min_batch variants (host/gpu_plan.hpp: a design
// campaign's optimiser batches) and requests that record trajectories (a few chosen
// designs) run on the CPU backend, in the blocked layout: same numerics, the same
// results to round-off for the thread mapping (the warp mapping's PCR can differ at
// the tolerance's level on some designs, docs/physics.md 8). Without the CUDA build every device run throws "not built"
// (strata refuses --device cuda before getting here).
#include <string>

#include "host/cpu_backend.hpp"
#include "host/cuda/cuda_api.hpp"
#include "host/variant_runner.hpp"

namespace strata {

// Runs one interleaved batch on the device; stats.ran marks the variants that ran.
// report (optional) receives the chunking and device-side failure count.
RunStats run_batch_cuda(Batch& batch, const CudaRunOptions& options, const std::function<void(int)>& progress = {},
                        const std::function<bool()>& cancelled = {}, CudaRunReport* report = nullptr);

// Options from the environment: STRATA_CUDA_MAX_CHUNK (variants per chunk, forces
// chunking), STRATA_CUDA_BLOCK_SIZE (threads per block), STRATA_CUDA_MAPPING (auto,
// thread or warp; auto: host/gpu_plan.hpp's rule), STRATA_CUDA_MAX_REGISTERS (the
// protocol kernels' register cap: auto, 255, 128 or 64), STRATA_CUDA_PASS (auto, attempt
// or iteration), STRATA_CUDA_MIN_BATCH (auto or a number of variants: smaller batches run
// on the CPU; 0 none). Throws std::invalid_argument on a malformed value.
CudaRunOptions cuda_options_from_env();

// "CUDA: <name>, <SMs> SMs, <GiB> GiB, compute capability x.y".
std::string cuda_device_description(const CudaDeviceInfo& info);

class CudaVariantRunner : public LocalVariantRunner {
 public:
  CudaVariantRunner(const Scenario& base, int threads, CudaRunOptions options = cuda_options_from_env());
  std::string device_description() const override;
  std::string summary() const override;
  std::string batch_note(long batch_size) const override;

 protected:
  RunStats run_batches(std::vector<Batch>& batches, const std::function<void(int)>& progress,
                       const std::function<bool()>& cancelled) override;
  // Blocked (the CPU's) for a batch of one shape below min_batch_ or recording
  // trajectories; interleaved (the device's) for the rest.
  Layout layout_for(size_t batch_variants, bool record) const override;

 private:
  CudaRunOptions options_;
  CudaDeviceInfo info_;
  long min_batch_ = 0;
  long cpu_batches_ = 0, cpu_variants_ = 0;
  long chunks_ = 0, max_chunk_variants_ = 0, failed_on_device_ = 0;
  long warp_batches_ = 0, thread_batches_ = 0;
  int oom_retries_ = 0;
  double kernel_s_ = 0.0, wall_s_ = 0.0;
};

}  // namespace strata
