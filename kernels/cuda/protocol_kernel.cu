// The CUDA launch of the protocol runner: one thread per variant over the
// interleaved layout. The numerics are the same __host__ __device__ code the CPU
// backend runs (kernels/dfn_protocol.hpp): the whole protocol (steps, Newton,
// adaptive dt, events) runs in one launch; a finished variant's thread just returns.
// Compiled with --fmad=false (CMakeLists.txt) so the arithmetic matches the CPU's.
#include "kernels/cuda/launch.cuh"
#include "kernels/dfn_protocol.hpp"

namespace strata {

__global__ void run_protocol_interleaved(DfnShape S, SharedTables tables, double* records, double* outputs,
                                         int n_variants, const ProtocolStep* steps, int n_steps,
                                         unsigned int* finished) {
  const int v = blockIdx.x * blockDim.x + threadIdx.x;
  if (v >= n_variants) return;
  const Strided<double> rec{records + v, n_variants};
  const Strided<double> out{outputs + v, n_variants};
  run_protocol(S, tables, rec, steps, n_steps, out);
  if (finished) {
    atomicAdd(finished, 1u);
    __threadfence_system();  // the host polls the counter in mapped memory
  }
}

void launch_run_protocol(const DfnShape& S, const SharedTables& tables, double* records, double* outputs, int m,
                         const ProtocolStep* steps, int n_steps, unsigned int* finished, int block_size,
                         cudaStream_t stream) {
  const int grid = (m + block_size - 1) / block_size;
  run_protocol_interleaved<<<grid, block_size, 0, stream>>>(S, tables, records, outputs, m, steps, n_steps, finished);
}

}  // namespace strata
