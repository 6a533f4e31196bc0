// The protocol launchers' dispatch on the register cap (the kernels themselves are in
// protocol_kernels.cuh, one translation unit per cap) and the layout transposes of
// the warp mapping.
#include <stdexcept>
#include <string>
#include <type_traits>

#include "kernels/cuda/protocol_kernels.cuh"

namespace strata {

STRATA_DECLARE_PROTOCOL_LAUNCHERS(1)
STRATA_DECLARE_PROTOCOL_LAUNCHERS(2)
STRATA_DECLARE_PROTOCOL_LAUNCHERS(4)

namespace {
// Calls launch(std::integral_constant<int, MinBlocks>) with the resident blocks of
// kMaxCudaBlockSize threads per SM that cap the registers at max_registers.
template <class Launch>
void with_register_cap(int max_registers, const Launch& launch) {
  switch (max_registers) {
    case 255: return launch(std::integral_constant<int, 1>{});
    case 128: return launch(std::integral_constant<int, 2>{});
    case 64: return launch(std::integral_constant<int, 4>{});
  }
  throw std::invalid_argument("protocol kernel register cap " + std::to_string(max_registers) +
                              ": compiled caps are 255, 128 and 64");
}
}  // namespace

// Field k of variant v (k < n_fields) between the interleaved layout (k * m + v) and the
// blocked one (v * blocked_stride + k), either way; reads or writes coalesced on the
// interleaved side.
__global__ void transpose_records(const double* from, double* to, int m, long n_fields, long blocked_stride,
                                  bool to_blocked) {
  const long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n_fields * m) return;
  const long blocked = (i % m) * blocked_stride + i / m;
  if (to_blocked) to[blocked] = from[i];
  else to[i] = from[blocked];
}

void launch_transpose(const double* from, double* to, int m, long n_fields, long blocked_stride, bool to_blocked,
                      cudaStream_t stream) {
  const long n = n_fields * m;
  if (n <= 0) return;
  const int block = 256;
  const long grid = (n + block - 1) / block;
  transpose_records<<<grid, block, 0, stream>>>(from, to, m, n_fields, blocked_stride, to_blocked);
}

void launch_run_protocol(const DfnShape& S, const SharedTables& tables, double* records, double* outputs, int m,
                         const ProtocolStep* steps, int n_steps, unsigned int* finished, int block_size,
                         int max_registers, PassUnit unit, cudaStream_t stream) {
  with_register_cap(max_registers, [&](auto min_blocks) {
    if (unit == PassUnit::NewtonIteration)
      launch_run_protocol_capped<min_blocks(), PassUnit::NewtonIteration>(S, tables, records, outputs, m, steps,
                                                                          n_steps, finished, block_size, stream);
    else
      launch_run_protocol_capped<min_blocks(), PassUnit::Attempt>(S, tables, records, outputs, m, steps, n_steps,
                                                                  finished, block_size, stream);
  });
}

void launch_run_protocol_warps(const DfnShape& S_team, const SharedTables& tables, double* records, double* outputs,
                               long out_size, int m, const ProtocolStep* steps, int n_steps, unsigned int* finished,
                               int block_size, int max_registers, cudaStream_t stream) {
  with_register_cap(max_registers, [&](auto min_blocks) {
    launch_run_protocol_warps_capped<min_blocks()>(S_team, tables, records, outputs, out_size, m, steps, n_steps,
                                                   finished, block_size, stream);
  });
}

}  // namespace strata
