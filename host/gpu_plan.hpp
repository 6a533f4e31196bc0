#pragma once
// Pure decisions of the CUDA backend, testable without a GPU: how many variants go
// to the device at once (chunking), which thread mapping and register cap a batch gets,
// and which device a run uses (--device auto|cpu|cuda). host/cuda/ applies them. (How
// the variants of a warp keep in step: host/warp_model.hpp.)
#include <cstddef>
#include <string>
#include <vector>

#include "kernels/pass_unit.hpp"

namespace strata {

// Device memory a batch chunk needs: per variant (record, outputs, status) and once
// per chunk (shared tables, protocol steps).
struct ChunkPlan {
  long chunk_variants = 0;  // variants per chunk (the last chunk may be smaller)
  long n_chunks = 0;
};

// Chunk size for n_variants from the free device memory: at most usable_fraction of
// free_bytes, minus fixed_bytes, divided by bytes_per_variant; rounded down to a
// multiple of 32 (a warp) when above 32; at most max_chunk when max_chunk > 0 (the
// override, STRATA_CUDA_MAX_CHUNK). Throws std::runtime_error, naming the sizes,
// when not even one variant fits.
ChunkPlan plan_chunks(long n_variants, size_t bytes_per_variant, size_t fixed_bytes, size_t free_bytes,
                      long max_chunk = 0, double usable_fraction = 0.8);

// Halves a chunk after cudaErrorMemoryAllocation (the OOM fallback); 0 when it was 1.
long halve_chunk(long chunk_variants);

// How the threads of a launch map to variants.
enum class GpuMapping {
  ThreadPerVariant,  // one thread runs one variant (coalesced interleaved layout)
  WarpPerVariant,    // a warp shares one variant; the block-tridiagonal solve by PCR
};

// The rule: one thread per variant needs at least one warp per SM scheduler
// (4 per SM on sm_80/sm_90) to keep the device busy, i.e. 128 variants per SM.
// Smaller batches leave schedulers idle, and a warp per variant (32x the threads)
// is chosen: warp-per-variant when n_variants < kWarpMappingVariantsPerSm * sm_count.
// Measured on an H200 (132 SMs; docs/performance.md): warp 13,200 against thread 6,700
// variant-charges/s at 4,224 variants, 15,600 against 10,600 at 10,000; even at 100,000.
constexpr long kWarpMappingVariantsPerSm = 4 * 32;
GpuMapping choose_mapping(long n_variants, int sm_count);
const char* mapping_name(GpuMapping m);
// The mapping a request asks for: "auto" (choose_mapping), "thread" or "warp"; throws
// std::invalid_argument naming the allowed values otherwise.
GpuMapping parse_mapping_request(const std::string& request, long n_variants, int sm_count);

// The protocol kernels' register cap for a launch of n_variants (kernels/cuda/
// protocol_kernels.cuh compiles 255, 128 and 64). At 255 registers an SM holds
// kThreadsPerSmAt255Registers threads, at 64 four times as many, each slower (spills).
// Measured on an H200 (docs/performance.md): with one thread per variant, 64 registers
// win once the batch needs more than two waves at 255 (21,800 against 15,200
// variant-charges/s at 135,168 variants; 19,200 against 16,700 at 100,000) and lose
// within one wave (14,600 against 16,200 at 33,792); 128 never won; the warp mapping
// is fastest at 255. So: 64 for the thread mapping above
// kRegisterCapWaves * kThreadsPerSmAt255Registers * sm_count variants, else 255.
constexpr long kThreadsPerSmAt255Registers = 256;
constexpr long kRegisterCapWaves = 2;
int choose_register_cap(long n_variants, int sm_count, GpuMapping mapping);

// The integrator's pass unit (kernels/pass_unit.hpp) for a mapping. One thread per
// variant: one Newton iteration per pass, so the threads of a warp (32 different
// variants) wait only for the one with the most iterations in all; on the benchmark's
// batch host/warp_model.hpp predicts 0.93 of lane time busy against 0.76 with a whole
// attempt per pass, before the bookkeeping that every pass then branches into (not
// yet measured on a GPU; docs/performance.md). One warp per variant: whole attempts
// (one variant, nothing to keep in step), the only unit its kernels are compiled for.
PassUnit choose_pass_unit(GpuMapping mapping);
// The pass unit a launch of `mapping` runs for a request (CudaRunOptions::pass,
// STRATA_CUDA_PASS): "auto" (choose_pass_unit), "attempt" or "iteration", which apply to
// the thread mapping; the warp mapping runs attempts whatever the request. Throws
// std::invalid_argument naming the allowed values for any other request.
PassUnit parse_pass_request(const std::string& request, GpuMapping mapping);
const char* pass_unit_name(PassUnit unit);  // "attempt" or "iteration"

// Batches of fewer variants than gpu_min_batch run on the CPU backend of a CUDA run. A
// GPU takes about the time of its slowest variant on one warp for any batch it holds at
// once: 0.109 s wall for 1,056 variants of the benchmark's 3C charge on an H200 (warp
// mapping, 9,685 variant-charges/s; 0.065 s of it in kernels), and a batch of a few
// designs waits for a slowest nearer the mean, about 0.07 s. One CPU core of the same
// machine takes about 4.6 ms per variant (16 Xeon cores: 3,471/s). So the CPU's
// n * 4.6 ms / threads is the shorter below n of about 16 * threads; both scale with the
// protocol's length. Design campaigns send optimiser batches of a few designs. The rule
// models the GPU's fixed time per batch only, not its throughput, so it stops at
// kMaxCpuBatch: larger batches (a sweep's, 1024 by default) go to the device as asked,
// where the GPU's rate decides (by the same figures a node of 64 or more CPU threads
// would match it; not measured). Derived from those measurements, not yet timed as such
// on a GPU: scripts/gpu_check.sh's campaign stage.
constexpr long kCpuVariantsPerThreadBeforeGpu = 16;
constexpr long kMaxCpuBatch = 1024;
// The threshold for a request (CudaRunOptions::min_batch, STRATA_CUDA_MIN_BATCH):
// requested >= 0 as given (0: none), < 0 the rule for cpu_threads.
long gpu_min_batch(long requested, int cpu_threads);

// --device: auto picks CUDA when the backend is built and a device is visible.
enum class DeviceRequest { Auto, Cpu, Cuda };
struct DeviceDecision {
  bool use_cuda = false;
  std::string error;  // non-empty: refuse (exit 2) with this message
  std::string note;   // what was chosen and why, for the run header
};
// cuda_built: the CUDA backend is compiled in; device_count: visible devices (0 when
// none or the runtime failed, with probe_error saying why).
DeviceDecision decide_device(DeviceRequest request, bool cuda_built, int device_count,
                             const std::string& probe_error);
// "auto", "cpu", "cuda"; throws std::invalid_argument otherwise.
DeviceRequest parse_device_request(const std::string& text);

// An MPI rank's device, decided on its own node after MPI starts: as decide_device, and
// when CUDA, the GPU local_rank % device_count (one GPU per rank with as many ranks per
// node as GPUs; more ranks share them). `rank` feeds the note; the error does not name
// the rank (the caller does).
struct RankDeviceDecision {
  DeviceDecision decision;
  int device_index = -1;  // the GPU to select (cuda_use_device) when decision.use_cuda
};
RankDeviceDecision decide_rank_device(DeviceRequest request, bool cuda_built, int device_count,
                                      const std::string& probe_error, int rank, int local_rank);

}  // namespace strata
