// The CUDA backend's host interface when strata is built without CUDA: every entry
// point says so (the command line turns that into exit 2 before a run starts).
#ifndef STRATA_HAVE_CUDA
#include <stdexcept>

#include "host/cuda/cuda_api.hpp"

namespace strata {
namespace {
[[noreturn]] void not_built(const char* what) {
  throw std::runtime_error(std::string(what) + ": the CUDA backend is not built into this strata (no nvcc at configure time)");
}
}  // namespace

bool cuda_backend_built() { return false; }
std::string cuda_use_device(int) { return "the CUDA backend is not built into this strata"; }

CudaDeviceInfo cuda_device_info(bool) {
  CudaDeviceInfo info;
  info.error = "CUDA backend not built";
  return info;
}

CudaRunReport run_protocol_cuda(const CudaBatchInput&, const CudaRunOptions&, const std::function<void(int)>&,
                                const std::function<bool()>&) {
  not_built("run_protocol_cuda");
}
std::vector<int> cuda_sort_indices_by_key(const std::vector<double>&) { not_built("cuda_sort_indices_by_key"); }
long cuda_count_nonzero(const std::vector<double>&) { not_built("cuda_count_nonzero"); }
SolveBenchResult cuda_bench_block_solve(int, int, int) { not_built("cuda_bench_block_solve"); }

}  // namespace strata
#endif
