#pragma once
// Every CUDA runtime call of the backend goes through STRATA_CUDA_CHECK: a failure
// throws CudaError naming the call, file:line, the error and what was being done
// (the batch and chunk). Errors are never ignored.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace strata {

struct CudaError : std::runtime_error {
  cudaError_t code;
  CudaError(cudaError_t c, const std::string& what) : std::runtime_error(what), code(c) {}
};

inline void cuda_check(cudaError_t e, const char* call, const char* file, int line, const std::string& context) {
  if (e == cudaSuccess) return;
  throw CudaError(e, std::string("CUDA error in ") + call + " at " + file + ":" + std::to_string(line) + ": " +
                         cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")" +
                         (context.empty() ? std::string() : "; " + context));
}

}  // namespace strata

#define STRATA_CUDA_CHECK(call, context) ::strata::cuda_check((call), #call, __FILE__, __LINE__, (context))
// For an error kept in a variable: the call that returned it is named by hand.
#define STRATA_CUDA_CHECK_RESULT(error, call_name, context) \
  ::strata::cuda_check((error), (call_name), __FILE__, __LINE__, (context))
