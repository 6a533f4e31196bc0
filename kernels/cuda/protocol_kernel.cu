// The CUDA launch of the protocol runner: one thread per variant over the
// interleaved layout. The numerics are the same __host__ __device__ code the CPU
// backend runs (kernels/dfn_protocol.hpp); the full CUDA backend (chunking,
// progress, --device) is issue 7. Built whenever nvcc is found, so CI compiles it.
#include "kernels/dfn_protocol.hpp"

namespace strata {

__global__ void run_protocol_interleaved(DfnShape S, SharedTables tables, double* records, double* outputs,
                                         int n_variants, const ProtocolStep* steps, int n_steps) {
  const int v = blockIdx.x * blockDim.x + threadIdx.x;
  if (v >= n_variants) return;
  const Strided<double> rec{records + v, n_variants};
  const Strided<double> out{outputs + v, n_variants};
  run_protocol(S, tables, rec, steps, n_steps, out);
}

}  // namespace strata
