// The protocol kernels with at most 255 registers per thread (__launch_bounds__(256, 1)).
#include "kernels/cuda/protocol_kernels.cuh"

namespace strata {
STRATA_DEFINE_PROTOCOL_LAUNCHERS(1)
}  // namespace strata
