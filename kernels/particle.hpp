#pragma once
// Spherical particle diffusion, finite volumes in r: nr shells (ShellGrid: equal
// thickness, or refined toward the surface), concentrations at shell centres, fluxes
// at shell faces,
//   w_k (c_k - c_k_old)/dt + A_{k+1/2} N_{k+1/2} - A_{k-1/2} N_{k-1/2} = 0,
//   N = -D(c_face) (c_k+1 - c_k)/(r_k+1 - r_k) (centres; c_face the mean), N(0) = 0,
//   N at the surface = j/F (j > 0: sodium leaves the particle).
// (w_k and A are the shell volume and face area divided by 4 pi, dfn_physics.hpp.)
#include "kernels/config.hpp"
#include "kernels/dfn_physics.hpp"
#include "kernels/dual.hpp"
#include "kernels/materials.hpp"

namespace strata {

// Linearises the shell equations about c for the surface current density j:
// writes minus the residual into y and the tridiagonal Jacobian into (a, b, c_up).
template <class VC, class VO, class VY>
STRATA_HD void particle_linear_system(const double* data, const MaterialFns& mat, double d_ref, double cmax, int nr,
                                      const ShellGrid& g, double dt_s, const VC& c, const VO& c_old, double j_A_m2,
                                      double* a, double* b, double* c_up, VY& y) {
  double rf[kMaxShells + 1];
  g.faces(rf);
  for (int k = 0; k < nr; ++k) {
    const double w = ShellGrid::volume(rf, k) / dt_s;
    y[k] = -(w * (c[k] - c_old[k]));
    a[k] = 0.0;
    b[k] = w;
    c_up[k] = 0.0;
  }
  for (int k = 0; k + 1 < nr; ++k) {
    using D2 = Dual<2>;
    const D2 c0 = D2::var(c[k], 0), c1 = D2::var(c[k + 1], 1);
    const D2 flux =
        -solid_diffusivity_m2_s(data, mat, d_ref, 0.5 * (c0 + c1) / cmax) * (c1 - c0) / (ShellGrid::centre(rf, k + 1) - ShellGrid::centre(rf, k));
    const double A = ShellGrid::outer_area(rf, k);
    y[k] -= A * flux.v;
    y[k + 1] += A * flux.v;
    b[k] += A * flux.d[0];
    c_up[k] += A * flux.d[1];
    a[k + 1] -= A * flux.d[0];
    b[k + 1] -= A * flux.d[1];
  }
  y[nr - 1] -= g.R * g.R * j_A_m2 / kFaraday_C_mol;  // outer area of the last shell
}

}  // namespace strata
