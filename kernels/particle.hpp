#pragma once
// Spherical particle diffusion, finite volumes in r: nr shells (ShellGrid: equal
// thickness, refined toward the surface, or equal volume), concentrations at shell centres, fluxes
// at shell faces,
//   w_k (c_k - c_k_old)/dt + A_{k+1/2} N_{k+1/2} - A_{k-1/2} N_{k-1/2} = 0,
//   N = -D(c_face) (c_k+1 - c_k)/(r_k+1 - r_k) (centres; c_face the mean), N(0) = 0,
//   N at the surface = j/F (j > 0: sodium leaves the particle).
// (w_k and A are the shell volume and face area divided by 4 pi, dfn_physics.hpp.)
// Assembly and solve are one pass (particle_condense), so that a GPU thread keeps one
// scratch array of nr values, not four, in local memory.
#include "kernels/config.hpp"
#include "kernels/dfn_physics.hpp"
#include "kernels/dual.hpp"
#include "kernels/materials.hpp"

namespace strata {

// Linearises the shell equations about c for the surface current density j and
// solves them, row by row as each row is assembled (Thomas, one reciprocal per row
// shared by both right-hand sides), for the Newton updates
//   y = J^-1 (-R),   z = J^-1 e_{nr-1} A_{nr-1}/F   (A_{nr-1} = R^2, the outer face),
// so that dc = y - z dj. Only the elimination factors cp stay in scratch; the shell
// geometry is walked face by face. False on a zero pivot (y, z then incomplete).
template <class VC, class VO, class VY, class VZ>
STRATA_HD bool particle_condense(const double* data, const MaterialFns& mat, double d_ref, double cmax, int nr,
                                 const ShellGrid& g, double dt_s, const VC& c, const VO& c_old, double j_A_m2,
                                 VY& y, VZ& z) {
  double cp[kMaxShells];
  // Divisions are costly on a GPU (a reciprocal and its refinement, each a chain of
  // dependent FP64 operations): the column takes four, and each shell one (its
  // pivot). The centres of shells k and k + 1 lie (r_k+2 - r_k)/2 apart, and on a
  // geometric grid r_k+2 - r_k = scale q^k (1 - q^2): its reciprocal is walked by
  // multiplication with 1/q (only the equal-volume grid, q = 0, divides per shell).
  const double scale = g.face_scale(), inv_dt = 1.0 / dt_s, half_inv_cmax = 0.5 / cmax;
  double two_inv_gap = 0.0, inv_q = 1.0;
  if (g.q == 1.0) {
    two_inv_gap = 1.0 / scale;
  } else if (g.q != 0.0) {
    two_inv_gap = 2.0 / (scale * (1.0 - g.q * g.q));
    inv_q = 1.0 / g.q;
  }
  // rr: radii of faces k, k + 1, k + 2 (the last only while k + 1 < nr).
  double qi = g.q * g.q;
  double rr[3] = {g.face_radius(0, 1.0, scale), g.face_radius(1, g.q, scale), 0.0};
  // Face k - 1's contributions to row k: A N, A dN/dc_{k-1}, A dN/dc_k.
  double in_flux = 0.0, in_d0 = 0.0, in_d1 = 0.0;
  double y_prev = 0.0, z_prev = 0.0;
  // c[k] and c[k + 1], each read from the record once.
  double c_k = c[0], c_next = 0.0;
  for (int k = 0; k < nr; ++k) {
    const double w = ShellGrid::volume(rr, 0) * inv_dt;
    double yk = -(w * (c_k - c_old[k]));
    double ak = 0.0, bk = w, ck = 0.0;
    if (k > 0) {
      yk += in_flux;
      bk -= in_d1;
      ak -= in_d0;
    }
    if (k + 1 < nr) {
      rr[2] = g.face_radius(k + 2, qi, scale);
      qi *= g.q;
      c_next = c[k + 1];
      // N = -D(x_face) (c_k+1 - c_k) / (r_k+1 - r_k), x_face = (c_k + c_k+1) / (2 cmax);
      // the centres are half a face apart on either side: r_k+1 - r_k = (rr2 - rr0) / 2.
      double D, dD_dx;
      solid_diffusivity_eval(data, mat, d_ref, (c_k + c_next) * half_inv_cmax, D, dD_dx);
      const double A_inv_dr =
          ShellGrid::outer_area(rr, 0) * (g.q == 0.0 ? 2.0 / (rr[2] - rr[0]) : two_inv_gap);
      two_inv_gap *= inv_q;
      const double dc = c_next - c_k, dD_dc = dD_dx * half_inv_cmax;
      in_flux = -A_inv_dr * D * dc;              // A N
      in_d0 = A_inv_dr * (D - dD_dc * dc);       // A dN/dc_k
      in_d1 = -A_inv_dr * (D + dD_dc * dc);      // A dN/dc_k+1
      yk -= in_flux;
      bk += in_d0;
      ck += in_d1;
    } else {
      yk -= g.R * g.R * j_A_m2 * kInverseFaraday_mol_C;
    }
    double zk = (k == nr - 1) ? g.R * g.R * kInverseFaraday_mol_C : 0.0;
    // Forward elimination of row k.
    const double piv = (k == 0) ? bk : bk - ak * cp[k - 1];
    if (piv == 0.0) return false;
    const double inv = 1.0 / piv;
    cp[k] = (k < nr - 1) ? ck * inv : 0.0;
    if (k == 0) {
      yk *= inv;
      zk *= inv;
    } else {
      yk = (yk - ak * y_prev) * inv;
      zk = (zk - ak * z_prev) * inv;
    }
    y[k] = y_prev = yk;
    z[k] = z_prev = zk;
    rr[0] = rr[1];
    rr[1] = rr[2];
    c_k = c_next;
  }
  // Back substitution; y_prev, z_prev carry row k + 1's solution.
  for (int k = nr - 2; k >= 0; --k) {
    y_prev = y[k] - cp[k] * y_prev;
    z_prev = z[k] - cp[k] * z_prev;
    y[k] = y_prev;
    z[k] = z_prev;
  }
  return true;
}

}  // namespace strata
