// The linear-solve benchmark: the same random block-diagonally dominant 3x3
// block-tridiagonal systems solved with one thread per system (block Thomas,
// interleaved layout) and one warp per system (PCR, blocked layout).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "host/cuda/cuda_api.hpp"
#include "host/cuda/cuda_check.cuh"
#include "kernels/cuda/launch.cuh"

namespace strata {

SolveBenchResult cuda_bench_block_solve(int n_systems, int n_cells, int repeats) {
  const long size = 33L * n_cells;
  const std::string ctx = "solve benchmark, " + std::to_string(n_systems) + " systems of " + std::to_string(n_cells) + " cells";
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> blocked((size_t)n_systems * size);
  for (long s = 0; s < n_systems; ++s) {
    double* a = &blocked[s * size];
    for (long k = 0; k < 27L * n_cells; ++k) a[k] = u(rng);
    for (long k = 27L * n_cells; k < size; ++k) a[k] = u(rng);
    for (int i = 0; i < n_cells; ++i)
      for (int r = 0; r < 3; ++r) a[9L * n_cells + 9L * i + 4 * r] += 8.0;  // dominant diagonal
  }
  std::vector<double> inter(blocked.size());
  for (long s = 0; s < n_systems; ++s)
    for (long k = 0; k < size; ++k) inter[k * n_systems + s] = blocked[s * size + k];

  double *d_inter = nullptr, *d_work = nullptr, *d_blocked = nullptr, *d_scratch = nullptr, *d_x = nullptr;
  int* d_failed = nullptr;
  const size_t bytes = blocked.size() * sizeof(double);
  STRATA_CUDA_CHECK(cudaMalloc(&d_inter, bytes), ctx);
  STRATA_CUDA_CHECK(cudaMalloc(&d_work, bytes), ctx);
  STRATA_CUDA_CHECK(cudaMalloc(&d_blocked, bytes), ctx);
  STRATA_CUDA_CHECK(cudaMalloc(&d_scratch, bytes), ctx);
  STRATA_CUDA_CHECK(cudaMalloc(&d_x, (size_t)n_systems * 6 * n_cells * sizeof(double)), ctx);
  STRATA_CUDA_CHECK(cudaMalloc(&d_failed, sizeof(int)), ctx);
  STRATA_CUDA_CHECK(cudaMemcpy(d_inter, inter.data(), bytes, cudaMemcpyHostToDevice), ctx);
  STRATA_CUDA_CHECK(cudaMemset(d_failed, 0, sizeof(int)), ctx);
  cudaEvent_t e0, e1;
  STRATA_CUDA_CHECK(cudaEventCreate(&e0), ctx);
  STRATA_CUDA_CHECK(cudaEventCreate(&e1), ctx);
  SolveBenchResult res;
  float ms = 0.0f;
  // Each repeat copies the pristine systems first (the solve overwrites them); the
  // copy is timed separately and subtracted.
  float copy_ms = 0.0f;
  STRATA_CUDA_CHECK(cudaEventRecord(e0), ctx);
  for (int r = 0; r < repeats; ++r) STRATA_CUDA_CHECK(cudaMemcpy(d_work, d_inter, bytes, cudaMemcpyDeviceToDevice), ctx);
  STRATA_CUDA_CHECK(cudaEventRecord(e1), ctx);
  STRATA_CUDA_CHECK(cudaEventSynchronize(e1), ctx);
  STRATA_CUDA_CHECK(cudaEventElapsedTime(&copy_ms, e0, e1), ctx);

  STRATA_CUDA_CHECK(cudaEventRecord(e0), ctx);
  for (int r = 0; r < repeats; ++r) {
    STRATA_CUDA_CHECK(cudaMemcpy(d_work, d_inter, bytes, cudaMemcpyDeviceToDevice), ctx);
    launch_block_thomas_threads(d_work, n_systems, n_cells, d_failed, 0);
    STRATA_CUDA_CHECK(cudaGetLastError(), ctx + ", launch of block_thomas_threads");
  }
  STRATA_CUDA_CHECK(cudaEventRecord(e1), ctx);
  STRATA_CUDA_CHECK(cudaEventSynchronize(e1), ctx + ", block_thomas_threads");
  STRATA_CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1), ctx);
  res.thread_s = std::max(0.0, (ms - copy_ms) * 1e-3 / repeats);
  std::vector<double> x_inter(inter.size());
  STRATA_CUDA_CHECK(cudaMemcpy(x_inter.data(), d_work, bytes, cudaMemcpyDeviceToHost), ctx);

  STRATA_CUDA_CHECK(cudaMemcpy(d_work, blocked.data(), bytes, cudaMemcpyHostToDevice), ctx);
  STRATA_CUDA_CHECK(cudaEventRecord(e0), ctx);
  for (int r = 0; r < repeats; ++r) {
    STRATA_CUDA_CHECK(cudaMemcpy(d_blocked, d_work, bytes, cudaMemcpyDeviceToDevice), ctx);
    launch_block_pcr_warps(d_blocked, d_scratch, d_x, n_systems, n_cells, d_failed, 0);
    STRATA_CUDA_CHECK(cudaGetLastError(), ctx + ", launch of block_pcr_warps");
  }
  STRATA_CUDA_CHECK(cudaEventRecord(e1), ctx);
  STRATA_CUDA_CHECK(cudaEventSynchronize(e1), ctx + ", block_pcr_warps");
  STRATA_CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1), ctx);
  res.warp_s = std::max(0.0, (ms - copy_ms) * 1e-3 / repeats);
  std::vector<double> x((size_t)n_systems * 6 * n_cells);
  STRATA_CUDA_CHECK(cudaMemcpy(x.data(), d_x, x.size() * sizeof(double), cudaMemcpyDeviceToHost), ctx);
  int failed = 0;
  STRATA_CUDA_CHECK(cudaMemcpy(&failed, d_failed, sizeof(int), cudaMemcpyDeviceToHost), ctx);

  // Normwise per system: largest difference over the largest solution component.
  for (long s = 0; s < n_systems; ++s) {
    double diff = 0.0, norm = 0.0;
    for (long k = 0; k < 6L * n_cells; ++k) {
      const double a = x_inter[(27L * n_cells + k) * n_systems + s], b = x[s * 6L * n_cells + k];
      diff = std::max(diff, std::fabs(a - b));
      norm = std::max(norm, std::fabs(a));
    }
    res.max_rel_diff = std::max(res.max_rel_diff, diff / std::max(norm, 1e-300));
  }
  if (failed) res.max_rel_diff = INFINITY;
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  for (void* p : {(void*)d_inter, (void*)d_work, (void*)d_blocked, (void*)d_scratch, (void*)d_x, (void*)d_failed}) cudaFree(p);
  return res;
}

}  // namespace strata
