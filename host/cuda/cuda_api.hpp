#pragma once
// The thin host interface of the CUDA backend: plain C++ (no CUDA headers), so
// g++-compiled code calls it. With the CUDA build (STRATA_HAVE_CUDA) it is
// implemented in host/cuda/*.cu; without, host/cuda/cuda_stub.cpp says "not built".
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "kernels/dfn_layout.hpp"
#include "kernels/materials.hpp"
#include "kernels/protocol_step.hpp"

namespace strata {

// True when this binary contains the CUDA backend.
bool cuda_backend_built();

struct CudaDeviceInfo {
  int count = 0;               // visible devices (0: none, see error)
  std::string error;           // why there is none ("" when count > 0)
  int device = 0;              // the one described below: this thread's current device
  std::string name;
  int sm_count = 0;
  int cc_major = 0, cc_minor = 0;
  size_t total_bytes = 0, free_bytes = 0;
  double peak_bandwidth_B_s = 0.0;  // from memory clock and bus width
  double peak_fp64_flop_s = 0.0;    // vector FP64 (FMA = 2 flops), from SMs, clock and a per-arch table
};
// Probes the runtime; never throws (no device: count 0 with the reason). The memory
// sizes need a context on the current device: without with_memory they stay 0 and no
// context is made (an MPI rank probes so before it selects its GPU).
CudaDeviceInfo cuda_device_info(bool with_memory = true);
// Makes device `index` (0 .. count - 1) the calling thread's current device (an MPI
// rank's GPU: every CUDA call of strata is on the main thread). "" on success, else why.
std::string cuda_use_device(int index);

// One batch in the interleaved layout (element e of variant v at base[e*n_variants+v]).
struct CudaBatchInput {
  DfnShape shape;
  SharedTables tables;           // tables.data is a host pointer; the backend rebinds it
  const double* table_data = nullptr;
  size_t table_doubles = 0;
  double* records = nullptr;     // n_variants * shape.record_size, in/out
  double* outputs = nullptr;     // n_variants * out_record_size, out
  long out_record_size = 0;
  const ProtocolStep* steps = nullptr;
  int n_steps = 0;
  int n_variants = 0;
  std::string label;             // names the batch in error messages
};

// The protocol kernels use up to 255 registers per thread (docs/performance.md), so a
// block holds at most 256 threads (65,536 registers per SM); they are compiled with
// __launch_bounds__(kMaxCudaBlockSize, MinBlocks) for three register caps.
constexpr int kMaxCudaBlockSize = 256;
// The register caps the protocol kernels are compiled for (kernels/cuda/protocol_kernels.cuh):
// 255 (one resident block of 256 threads per SM), 128 (two) and 64 (four).
constexpr int kCudaRegisterCaps[] = {255, 128, 64};

struct CudaRunOptions {
  long max_chunk = 0;            // > 0: at most this many variants per chunk (forces chunking)
  // Threads per block, at most kMaxCudaBlockSize. One warp per block spreads a batch over
  // every SM (blocks of 128 left 99 of 132 SMs idle at 4,224 variants) and costs no
  // residency: 32 blocks per SM is more than the registers allow (docs/performance.md).
  int block_size = 32;
  // The protocol kernels' register cap: one of kCudaRegisterCaps, or 0 for the rule
  // (choose_register_cap in host/gpu_plan.hpp, per chunk).
  int max_registers = 0;
  // "auto": host/gpu_plan.hpp's rule (choose_mapping) on the batch size and SM count;
  // "thread": one thread per variant; "warp": one warp per variant.
  std::string mapping = "auto";
  // The integrator's pass unit with one thread per variant: "auto" (host/gpu_plan.hpp's
  // choose_pass_unit), "attempt" or "iteration". Batches on the warp mapping run whole
  // attempts whatever it says (parse_pass_request).
  std::string pass = "auto";
  // Batches of fewer variants run on the CPU backend (CudaVariantRunner): -1 the rule
  // (gpu_min_batch in host/gpu_plan.hpp), 0 none.
  long min_batch = -1;
};

struct CudaRunReport {
  long chunks = 0;
  long chunk_variants = 0;       // after any OOM halving
  int oom_retries = 0;
  long variants_run = 0;         // leading variants that ran (fewer after cancellation)
  long failed = 0;               // variants with a non-zero status, counted on the device (CUB)
  double wall_s = 0.0;           // allocation, transfers and kernels
  double kernel_s = 0.0;         // kernels only (events); with the warp mapping, its layout transposes too
  std::string mapping;           // the mapping used: "thread per variant" or "warp per variant"
  int max_registers = 0;         // the register cap of the last chunk's kernel
  std::string pass;              // the pass unit used: "attempt" or "iteration"
};

// Runs run_protocol on every variant, chunk by chunk, with one thread or one warp per
// variant (options.mapping): allocate, copy records + tables + steps, launch (the warp
// mapping transposes to and from the blocked layout on the device), copy records and
// outputs back.
// progress(finished) is called while the kernel runs (a device counter in mapped
// pinned host memory). Once cancelled() is true, no further chunk starts. Throws
// CudaError (std::runtime_error) naming the call, file:line and the batch/chunk.
CudaRunReport run_protocol_cuda(const CudaBatchInput& batch, const CudaRunOptions& options,
                                const std::function<void(int)>& progress = {},
                                const std::function<bool()>& cancelled = {});

// Indices that sort keys ascending (stable), by thrust::stable_sort_by_key on the device.
std::vector<int> cuda_sort_indices_by_key(const std::vector<double>& keys);

// Counts non-zero values (statuses) of a device-side copy of values, by cub::DeviceReduce.
long cuda_count_nonzero(const std::vector<double>& values);

// The linear-solve benchmark (strata_bench): n_systems random block-diagonally dominant
// 3x3 block-tridiagonal systems of n_cells block rows with 2 right-hand sides, solved
// `repeats` times with each mapping. Returns the kernel seconds per solve of the whole
// set for each mapping and the largest normwise difference between their solutions.
struct SolveBenchResult {
  double thread_s = 0.0;   // one thread per system, block Thomas, interleaved layout
  double warp_s = 0.0;     // one warp per system, PCR, blocked layout
  double max_rel_diff = 0.0;
};
SolveBenchResult cuda_bench_block_solve(int n_systems, int n_cells, int repeats);

}  // namespace strata
