#include "host/gpu_plan.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace strata {

ChunkPlan plan_chunks(long n_variants, size_t bytes_per_variant, size_t fixed_bytes, size_t free_bytes,
                      long max_chunk, double usable_fraction) {
  ChunkPlan plan;
  if (n_variants <= 0) return plan;
  if (bytes_per_variant == 0) throw std::invalid_argument("plan_chunks: zero bytes per variant");
  const double usable = usable_fraction * static_cast<double>(free_bytes) - static_cast<double>(fixed_bytes);
  long fit = usable > 0.0 ? static_cast<long>(usable / static_cast<double>(bytes_per_variant)) : 0;
  if (fit < 1)
    throw std::runtime_error(fmt::format(
        "device memory too small for one variant: {} bytes free ({:.0f}% usable), {} bytes shared, {} bytes per variant",
        free_bytes, 100.0 * usable_fraction, fixed_bytes, bytes_per_variant));
  if (fit > 32) fit -= fit % 32;
  long chunk = std::min(fit, n_variants);
  if (max_chunk > 0) chunk = std::min(chunk, max_chunk);
  plan.chunk_variants = chunk;
  plan.n_chunks = (n_variants + chunk - 1) / chunk;
  return plan;
}

long halve_chunk(long chunk_variants) { return chunk_variants / 2; }

long gpu_min_batch(long requested, int cpu_threads) {
  return requested >= 0 ? requested
                        : std::min(kMaxCpuBatch, kCpuVariantsPerThreadBeforeGpu * std::max(1, cpu_threads));
}

GpuMapping choose_mapping(long n_variants, int sm_count) {
  return n_variants < kWarpMappingVariantsPerSm * std::max(1, sm_count) ? GpuMapping::WarpPerVariant
                                                                        : GpuMapping::ThreadPerVariant;
}

const char* mapping_name(GpuMapping m) {
  return m == GpuMapping::WarpPerVariant ? "warp per variant" : "thread per variant";
}

GpuMapping parse_mapping_request(const std::string& request, long n_variants, int sm_count) {
  if (request == "auto") return choose_mapping(n_variants, sm_count);
  if (request == "thread") return GpuMapping::ThreadPerVariant;
  if (request == "warp") return GpuMapping::WarpPerVariant;
  throw std::invalid_argument("CUDA mapping '" + request + "': expected auto, thread or warp");
}

int choose_register_cap(long n_variants, int sm_count, GpuMapping mapping) {
  if (mapping == GpuMapping::WarpPerVariant) return 255;
  return n_variants > kRegisterCapWaves * kThreadsPerSmAt255Registers * std::max(1, sm_count) ? 64 : 255;
}

PassUnit choose_pass_unit(GpuMapping mapping) {
  return mapping == GpuMapping::ThreadPerVariant ? PassUnit::NewtonIteration : PassUnit::Attempt;
}

PassUnit parse_pass_request(const std::string& request, GpuMapping mapping) {
  PassUnit thread_unit;
  if (request == "auto") thread_unit = choose_pass_unit(GpuMapping::ThreadPerVariant);
  else if (request == "attempt") thread_unit = PassUnit::Attempt;
  else if (request == "iteration") thread_unit = PassUnit::NewtonIteration;
  else throw std::invalid_argument("pass unit '" + request + "': expected auto, attempt or iteration");
  return mapping == GpuMapping::WarpPerVariant ? PassUnit::Attempt : thread_unit;
}

const char* pass_unit_name(PassUnit unit) { return unit == PassUnit::NewtonIteration ? "iteration" : "attempt"; }

DeviceRequest parse_device_request(const std::string& text) {
  if (text == "auto") return DeviceRequest::Auto;
  if (text == "cpu") return DeviceRequest::Cpu;
  if (text == "cuda") return DeviceRequest::Cuda;
  throw std::invalid_argument("--device " + text + ": expected auto, cpu or cuda");
}

DeviceDecision decide_device(DeviceRequest request, bool cuda_built, int device_count,
                             const std::string& probe_error) {
  DeviceDecision d;
  const std::string why = !cuda_built ? "this strata was built without the CUDA backend (no nvcc at configure time)"
                                      : "no CUDA device is visible" + (probe_error.empty() ? "" : " (" + probe_error + ")");
  switch (request) {
    case DeviceRequest::Cpu:
      d.note = "device: CPU (--device cpu)";
      break;
    case DeviceRequest::Cuda:
      if (!cuda_built || device_count <= 0)
        d.error = "--device cuda: " + why + "; use --device cpu or auto";
      else {
        d.use_cuda = true;
        d.note = "device: CUDA (--device cuda)";
      }
      break;
    case DeviceRequest::Auto:
      if (cuda_built && device_count > 0) {
        d.use_cuda = true;
        d.note = "device: CUDA (--device auto: a CUDA device is visible)";
      } else {
        d.note = "device: CPU (--device auto: " + why + ")";
      }
      break;
  }
  return d;
}

RankDeviceDecision decide_rank_device(DeviceRequest request, bool cuda_built, int device_count,
                                      const std::string& probe_error, int rank, int local_rank) {
  RankDeviceDecision r;
  r.decision = decide_device(request, cuda_built, device_count, probe_error);
  if (!r.decision.use_cuda) {
    if (r.decision.error.empty()) r.decision.note += "; every MPI rank decides on its own node";
    return r;
  }
  r.device_index = local_rank % device_count;
  r.decision.note = "device: CUDA on every MPI rank that sees one, the GPU local_rank % count (rank " +
                    std::to_string(rank) + " (local rank " + std::to_string(local_rank) + "): GPU " +
                    std::to_string(r.device_index) + " of " + std::to_string(device_count) + ")";
  return r;
}

}  // namespace strata
