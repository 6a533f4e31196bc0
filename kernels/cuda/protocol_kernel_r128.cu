// The protocol kernels with at most 128 registers per thread (__launch_bounds__(256, 2)).
#include "kernels/cuda/protocol_kernels.cuh"

namespace strata {
STRATA_DEFINE_PROTOCOL_LAUNCHERS(2)
}  // namespace strata
