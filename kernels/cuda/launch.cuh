#pragma once
// Host-side launchers of the kernels in kernels/cuda/*.cu (called by host/cuda/).
#include <cuda_runtime.h>

#include "kernels/dfn_layout.hpp"
#include "kernels/materials.hpp"
#include "kernels/pass_unit.hpp"
#include "kernels/protocol_step.hpp"

namespace strata {

// run_protocol over m variants in the interleaved layout (stride m), one thread per
// variant; *finished (device pointer, may be null) counts variants that returned.
// max_registers picks the compiled register cap (255, 128 or 64; CudaRunOptions), unit
// the integrator's pass unit.
void launch_run_protocol(const DfnShape& S, const SharedTables& tables, double* records, double* outputs, int m,
                         const ProtocolStep* steps, int n_steps, unsigned int* finished, int block_size,
                         int max_registers, PassUnit unit, cudaStream_t stream);

// run_protocol over m variants, one warp per variant, in the blocked layout with the
// team scratch (S_team = with_team_scratch(S): record v at records + v*S_team.record_size,
// outputs at outputs + v*out_size); block_size threads per block (a multiple of 32).
void launch_run_protocol_warps(const DfnShape& S_team, const SharedTables& tables, double* records, double* outputs,
                               long out_size, int m, const ProtocolStep* steps, int n_steps, unsigned int* finished,
                               int block_size, int max_registers, cudaStream_t stream);

// Between the interleaved layout (field k of variant v at k*m + v) and the blocked one
// (at v*blocked_stride + k), for the first n_fields fields of m variants.
void launch_transpose(const double* from, double* to, int m, long n_fields, long blocked_stride, bool to_blocked,
                      cudaStream_t stream);

// The linear-solve benchmark kernels (3x3 blocks, 2 right-hand sides).
// Thread per system: block Thomas over the interleaved layout (n_systems systems of
// 33*n_cells doubles: lower, diag, upper, rhs).
void launch_block_thomas_threads(double* systems, int n_systems, int n_cells, int* failed, cudaStream_t stream);
// Warp per system: PCR over the blocked layout (system s at systems + s*33*n_cells),
// scratch of the same size, solution into x (6*n_cells per system).
void launch_block_pcr_warps(double* systems, double* scratch, double* x, int n_systems, int n_cells, int* failed,
                            cudaStream_t stream);

}  // namespace strata
