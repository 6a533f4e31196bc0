// The protocol kernels with at most 64 registers per thread (__launch_bounds__(256, 4)).
#include "kernels/cuda/protocol_kernels.cuh"

namespace strata {
STRATA_DEFINE_PROTOCOL_LAUNCHERS(4)
}  // namespace strata
