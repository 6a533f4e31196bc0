#pragma once
// The CUDA launches of the protocol runner. The numerics are the same
// __host__ __device__ code the CPU backend runs (kernels/dfn_protocol.hpp): the whole
// protocol (steps, Newton, adaptive dt, events) runs in one launch; a finished
// variant's thread (or warp) just returns. Two mappings (host/gpu_plan.hpp):
//  - one thread per variant over the interleaved layout (coalesced across variants);
//  - one warp per variant over the blocked layout (the lanes share the variant's
//    cells, coalesced across cells; PCR for the block solve; kernels/team.hpp), with
//    transposes between the host's interleaved records and the blocked ones.
// The thread-per-variant kernel is also a template over the integrator's pass unit
// (kernels/pass_unit.hpp; host/gpu_plan.hpp's choose_pass_unit picks it).
// Both kernels are templates over MinBlocks, __launch_bounds__'s second argument: with
// blocks of up to kMaxCudaBlockSize threads, MinBlocks resident blocks per SM cap the
// registers at 65,536 / (256 * MinBlocks) (255, 128, 64: CudaRunOptions::max_registers),
// trading spills for occupancy. Each cap is compiled in a translation unit of its own
// (protocol_kernel_r*.cu, in parallel) with --fmad=false (CMakeLists.txt), so the
// arithmetic matches the CPU's.
// The shape and tables are __grid_constant__: the numerics take them by reference,
// which would otherwise copy them (about 7 KB) into every thread's stack frame.
#include "host/cuda/cuda_api.hpp"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/warp_team.cuh"
#include "kernels/dfn_protocol.hpp"

namespace strata {

template <int MinBlocks, PassUnit Unit>
__global__ void __launch_bounds__(kMaxCudaBlockSize, MinBlocks)
    run_protocol_interleaved(const __grid_constant__ DfnShape S, const __grid_constant__ SharedTables tables,
                             double* records, double* outputs, int n_variants, const ProtocolStep* steps, int n_steps,
                             unsigned int* finished) {
  const int v = blockIdx.x * blockDim.x + threadIdx.x;
  if (v >= n_variants) return;
  const Strided<double> rec{records + v, n_variants};
  const Strided<double> out{outputs + v, n_variants};
  run_protocol<Unit>(S, tables, rec, steps, n_steps, out);
  if (finished) {
    atomicAdd(finished, 1u);
    __threadfence_system();  // the host polls the counter in mapped memory
  }
}

template <int MinBlocks>
__global__ void __launch_bounds__(kMaxCudaBlockSize, MinBlocks)
    run_protocol_warps(const __grid_constant__ DfnShape S, const __grid_constant__ SharedTables tables,
                       double* records, double* outputs, long out_size, int n_variants, const ProtocolStep* steps,
                       int n_steps, unsigned int* finished) {
  const long v = ((long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
  if (v >= n_variants) return;  // a whole warp: blocks are whole warps
  const WarpTeam team{(int)(threadIdx.x & 31)};
  const Strided<double> rec{records + v * S.record_size, 1};
  const Strided<double> out{outputs + v * out_size, 1};
  const TrajectorySpec off{};
  run_protocol(S, tables, rec, steps, n_steps, out, off, out, team);
  if (finished && team.leader()) {
    atomicAdd(finished, 1u);
    __threadfence_system();
  }
}

// The launchers of one register cap (explicitly instantiated by protocol_kernel_r*.cu).
template <int MinBlocks, PassUnit Unit>
void launch_run_protocol_capped(const DfnShape& S, const SharedTables& tables, double* records, double* outputs,
                                int m, const ProtocolStep* steps, int n_steps, unsigned int* finished, int block_size,
                                cudaStream_t stream) {
  const int grid = (m + block_size - 1) / block_size;
  run_protocol_interleaved<MinBlocks, Unit>
      <<<grid, block_size, 0, stream>>>(S, tables, records, outputs, m, steps, n_steps, finished);
}

template <int MinBlocks>
void launch_run_protocol_warps_capped(const DfnShape& S_team, const SharedTables& tables, double* records,
                                      double* outputs, long out_size, int m, const ProtocolStep* steps, int n_steps,
                                      unsigned int* finished, int block_size, cudaStream_t stream) {
  const int warps_per_block = block_size / 32 > 0 ? block_size / 32 : 1;
  const int grid = (m + warps_per_block - 1) / warps_per_block;
  run_protocol_warps<MinBlocks><<<grid, warps_per_block * 32, 0, stream>>>(S_team, tables, records, outputs, out_size,
                                                                           m, steps, n_steps, finished);
}

// Defined in protocol_kernel_r255.cu, _r128.cu and _r64.cu: per register cap, the
// thread-per-variant launcher for both pass units and the warp-per-variant one (whole
// attempts per pass: host/gpu_plan.hpp, choose_pass_unit).
#define STRATA_PROTOCOL_LAUNCHERS(PREFIX, MIN_BLOCKS)                                                                  \
  PREFIX template void launch_run_protocol_capped<MIN_BLOCKS, PassUnit::Attempt>(                                     \
      const DfnShape&, const SharedTables&, double*, double*, int, const ProtocolStep*, int, unsigned int*, int,      \
      cudaStream_t);                                                                                                  \
  PREFIX template void launch_run_protocol_capped<MIN_BLOCKS, PassUnit::NewtonIteration>(                             \
      const DfnShape&, const SharedTables&, double*, double*, int, const ProtocolStep*, int, unsigned int*, int,      \
      cudaStream_t);                                                                                                  \
  PREFIX template void launch_run_protocol_warps_capped<MIN_BLOCKS>(const DfnShape&, const SharedTables&, double*,    \
                                                                    double*, long, int, const ProtocolStep*, int,     \
                                                                    unsigned int*, int, cudaStream_t);
#define STRATA_DECLARE_PROTOCOL_LAUNCHERS(MIN_BLOCKS) STRATA_PROTOCOL_LAUNCHERS(extern, MIN_BLOCKS)
#define STRATA_DEFINE_PROTOCOL_LAUNCHERS(MIN_BLOCKS) STRATA_PROTOCOL_LAUNCHERS(, MIN_BLOCKS)

}  // namespace strata
