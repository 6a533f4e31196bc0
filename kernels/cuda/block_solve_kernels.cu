// Benchmark kernels for the two mappings of the Newton linear solve (the 3x3
// block-tridiagonal system with 2 right-hand sides): one thread per system (block
// Thomas, kernels/tridiag.hpp) and one warp per system (PCR, kernels/block_pcr.hpp).
// strata_bench times them on the same systems (host/cuda/cuda_solve_bench.cu).
#include "kernels/cuda/block_pcr_warp.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/strided.hpp"
#include "kernels/tridiag.hpp"

namespace strata {

__global__ void block_thomas_threads(double* systems, int n_systems, int n_cells, int* failed) {
  const int s = blockIdx.x * blockDim.x + threadIdx.x;
  if (s >= n_systems) return;
  const Strided<double> v{systems + s, n_systems};
  Strided<double> lower = v.at(0), diag = v.at(9L * n_cells), upper = v.at(18L * n_cells), rhs = v.at(27L * n_cells);
  if (!block_thomas_solve<3, 2>(n_cells, lower, diag, upper, rhs)) atomicAdd(failed, 1);
}

__global__ void block_pcr_warps(double* systems, double* scratch, double* x, int n_systems, int n_cells, int* failed) {
  const int s = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
  if (s >= n_systems) return;  // whole warps leave together (blockDim is a multiple of 32)
  const long size = 33L * n_cells;
  double* a = systems + s * size;
  double* b = scratch + s * size;
  const BlockSystem<double*> A{a, a + 9L * n_cells, a + 18L * n_cells, a + 27L * n_cells};
  const BlockSystem<double*> Bs{b, b + 9L * n_cells, b + 18L * n_cells, b + 27L * n_cells};
  const bool ok = block_pcr_warp_solve<3, 2>(n_cells, A, Bs, x + s * 6L * n_cells);
  if (!ok && (threadIdx.x & 31) == 0) atomicAdd(failed, 1);
}

void launch_block_thomas_threads(double* systems, int n_systems, int n_cells, int* failed, cudaStream_t stream) {
  const int bs = 128;
  block_thomas_threads<<<(n_systems + bs - 1) / bs, bs, 0, stream>>>(systems, n_systems, n_cells, failed);
}

void launch_block_pcr_warps(double* systems, double* scratch, double* x, int n_systems, int n_cells, int* failed,
                            cudaStream_t stream) {
  const int bs = 128;  // 4 systems per block
  const long threads = 32L * n_systems;
  block_pcr_warps<<<(int)((threads + bs - 1) / bs), bs, 0, stream>>>(systems, scratch, x, n_systems, n_cells, failed);
}

}  // namespace strata
