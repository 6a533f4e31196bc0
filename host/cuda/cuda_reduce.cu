// Batch-wide work with CUB and Thrust: counting failed variants (cub::DeviceReduce
// over the status field) and ranking a population by an objective
// (thrust::stable_sort_by_key).
#include <cub/device/device_reduce.cuh>
#include <thrust/device_vector.h>
#include <thrust/execution_policy.h>
#include <thrust/iterator/transform_iterator.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>

#include "host/cuda/cuda_api.hpp"
#include "host/cuda/cuda_check.cuh"
#include "host/cuda/cuda_reduce.cuh"

namespace strata {

namespace {
struct NonZero {
  __host__ __device__ long long operator()(double x) const { return x != 0.0 ? 1 : 0; }
};
}  // namespace

long cuda_count_nonzero_device(const double* d_values, long n, cudaStream_t stream, const std::string& context) {
  if (n <= 0) return 0;
  auto it = thrust::make_transform_iterator(d_values, NonZero{});
  long long* d_sum = nullptr;
  void* d_temp = nullptr;
  size_t temp_bytes = 0;
  STRATA_CUDA_CHECK(cub::DeviceReduce::Sum(d_temp, temp_bytes, it, d_sum, n, stream), context + ", status count");
  // One allocation: the scratch, then the sum (8-byte aligned).
  const size_t sum_offset = ((temp_bytes + 7) / 8) * 8;
  STRATA_CUDA_CHECK(cudaMalloc(&d_temp, sum_offset + sizeof(long long)), context + ", status count");
  d_sum = reinterpret_cast<long long*>(static_cast<char*>(d_temp) + sum_offset);
  long long h_sum = 0;
  cudaError_t e = cub::DeviceReduce::Sum(d_temp, temp_bytes, it, d_sum, n, stream);
  if (e == cudaSuccess) e = cudaMemcpyAsync(&h_sum, d_sum, sizeof(long long), cudaMemcpyDeviceToHost, stream);
  if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
  cudaFree(d_temp);
  STRATA_CUDA_CHECK_RESULT(e, "cub::DeviceReduce::Sum, cudaMemcpyAsync or cudaStreamSynchronize", context + ", status count");
  return static_cast<long>(h_sum);
}

long cuda_count_nonzero(const std::vector<double>& values) {
  thrust::device_vector<double> d(values.begin(), values.end());
  return cuda_count_nonzero_device(thrust::raw_pointer_cast(d.data()), (long)values.size(), 0, "cuda_count_nonzero");
}

std::vector<int> cuda_sort_indices_by_key(const std::vector<double>& keys) {
  thrust::device_vector<double> k(keys.begin(), keys.end());
  thrust::device_vector<int> idx(keys.size());
  thrust::sequence(idx.begin(), idx.end());
  thrust::stable_sort_by_key(k.begin(), k.end(), idx.begin());
  std::vector<int> out(keys.size());
  thrust::copy(idx.begin(), idx.end(), out.begin());
  return out;
}

}  // namespace strata
