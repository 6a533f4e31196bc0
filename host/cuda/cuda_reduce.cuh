#pragma once
// Batch-wide reductions on device data (CUB), used by the backend.
#include <cuda_runtime.h>

#include <string>

namespace strata {

// Number of non-zero values among n doubles at d_values (device), e.g. the status
// field of a chunk (contiguous across variants in the interleaved layout).
long cuda_count_nonzero_device(const double* d_values, long n, cudaStream_t stream, const std::string& context);

}  // namespace strata
