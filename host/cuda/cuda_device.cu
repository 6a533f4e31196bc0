// Device probe: count, name, memory, and the peaks strata_bench compares against.
#include <cuda_runtime.h>

#include "host/cuda/cuda_api.hpp"

namespace strata {

bool cuda_backend_built() { return true; }

namespace {
// FP64 FMA units per SM: the HPC parts (sm_60, sm_70, sm_80: 32; sm_90, sm_100: 64);
// other parts run FP64 at 1/64 of FP32 (2 units).
int fp64_units_per_sm(int major, int minor) {
  if (minor != 0) return 2;
  if (major == 6 || major == 7 || major == 8) return 32;
  if (major == 9 || major == 10) return 64;
  return 2;
}
}  // namespace

CudaDeviceInfo cuda_device_info(bool with_memory) {
  CudaDeviceInfo info;
  cudaError_t e = cudaGetDeviceCount(&info.count);
  if (e != cudaSuccess) {
    info.count = 0;
    info.error = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
    cudaGetLastError();
    return info;
  }
  if (info.count == 0) {
    info.error = "cudaGetDeviceCount returned 0";
    return info;
  }
  if (cudaGetDevice(&info.device) != cudaSuccess) info.device = 0;
  cudaDeviceProp p{};
  e = cudaGetDeviceProperties(&p, info.device);
  if (e != cudaSuccess) {  // a device that cannot be queried counts as none, with the reason
    info.count = 0;
    info.error = std::string("cudaGetDeviceProperties: ") + cudaGetErrorName(e) + ": " + cudaGetErrorString(e);
    cudaGetLastError();
    return info;
  }
  info.name = p.name;
  info.sm_count = p.multiProcessorCount;
  info.cc_major = p.major;
  info.cc_minor = p.minor;
  // The sizes and clocks below only feed reports (free memory is queried again before
  // a run); a failed query leaves 0, which the reports print as such.
  if (!with_memory || cudaMemGetInfo(&info.free_bytes, &info.total_bytes) != cudaSuccess)
    info.free_bytes = info.total_bytes = 0;
  int mem_khz = 0, bus_bits = 0, sm_khz = 0;
  if (cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, info.device) != cudaSuccess) mem_khz = 0;
  if (cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, info.device) != cudaSuccess) bus_bits = 0;
  if (cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, info.device) != cudaSuccess) sm_khz = 0;
  info.peak_bandwidth_B_s = 2.0 * mem_khz * 1e3 * bus_bits / 8.0;  // double data rate
  info.peak_fp64_flop_s = 2.0 * fp64_units_per_sm(p.major, p.minor) * info.sm_count * sm_khz * 1e3;
  cudaGetLastError();
  return info;
}

std::string cuda_use_device(int index) {
  const cudaError_t e = cudaSetDevice(index);
  if (e == cudaSuccess) return "";
  cudaGetLastError();
  return std::string("cudaSetDevice(") + std::to_string(index) + "): " + cudaGetErrorName(e) + ": " +
         cudaGetErrorString(e);
}

}  // namespace strata
