#pragma once
// Local physics of the DFN model (docs/physics.md): electrolyte face fluxes,
// Butler-Volmer kinetics, particle face fluxes and the surface concentration, the
// counter electrode and the measured potential. Templated on the scalar so that
// the Newton assembly gets exact local derivatives from Dual numbers.
#include <cmath>

#include "kernels/config.hpp"
#include "kernels/dfn_layout.hpp"
#include "kernels/dual.hpp"
#include "kernels/materials.hpp"
#include "kernels/strided.hpp"

namespace strata {

// Electrolyte current density i_e (A/m2) and F times the cation flux F*N+ (A/m2)
// through the face between cells L and R (x increasing from L to R).
// Transport coefficients are combined as series resistances of the two half cells
// (the harmonic mean), so property jumps at sub-layer interfaces are honoured:
//   i_e = [(phiL - phiR) + (2RT/F)(1 - t+) TDF (ln cR - ln cL)] / r_kappa
//   F N+ = F (cL - cR) / r_D + t+ i_e
template <class T>
STRATA_HD void electrolyte_face_flux(const double* data, const ElectrolyteFns& el, double temperature_K,
                                     double dxL_m, double transL, double dxR_m, double transR,
                                     const T& ceL, const T& phiL, const T& ceR, const T& phiR,
                                     T& ie_A_m2, T& FN_A_m2) {
  const T kL = eval_property(data, el.conductivity_S_m, ceL) * transL;
  const T kR = eval_property(data, el.conductivity_S_m, ceR) * transR;
  const T DL = eval_property(data, el.diffusivity_m2_s, ceL) * transL;
  const T DR = eval_property(data, el.diffusivity_m2_s, ceR) * transR;
  // The face conductances 1/r = 2 kL kR / (dxL kR + dxR kL): one division each.
  const T g_kappa = 2.0 * kL * kR / (dxL_m * kR + dxR_m * kL);
  const T g_D = 2.0 * DL * DR / (dxL_m * DR + dxR_m * DL);
  const T cf = 0.5 * (ceL + ceR);
  const T tp = eval_property(data, el.transference_number, cf);
  const T tdf = eval_property(data, el.thermodynamic_factor, cf);
  const double two_rt_f = 2.0 * kGasOverFaraday_V_K * temperature_K;
  // ln cR - ln cL as one logarithm of the ratio (fewer costly calls, and no
  // cancellation between two nearly equal logarithms).
  ie_A_m2 = ((phiL - phiR) + two_rt_f * (1.0 - tp) * tdf * log(ceR / ceL)) * g_kappa;
  FN_A_m2 = kFaraday_C_mol * (ceL - ceR) * g_D + tp * ie_A_m2;
}

// Weight of a cell's ionic row in its salt row as assembled: the cation balance
// (rows of F N+, accumulation, a j) less t+ times the charge balance (rows of i_e and
// a j), taken at the cell's c_e, so that a face adds F N+ - t+ i_e = F (cL - cR)/r_D
// + (t+_face - t+) i_e and the reaction (1 - t+) a j: the salt balance in its
// textbook form. A row operation within each block row: the Newton update is the same.
// Where the salt runs out (c_e -> 0), the diffusion-potential terms of i_e,
// (2RT/F)(1 - t+) TDF kappa / c_e, dominate both uncombined rows, which become
// nearly parallel (salt = t+ ionic); the block PCR of the warp mapping then lost
// most of an update's phi_e (docs/physics.md 4).
STRATA_HD inline double salt_row_weight(const double* data, const ElectrolyteFns& el, double ce_mol_m3) {
  return eval_property(data, el.transference_number, ce_mol_m3);
}

// Electrolyte potential at the counter-electrode surface, grounded metal:
// I = 2 i0 sinh(F phi_L / 2RT) (symmetric Butler-Volmer, plating on charge).
template <class T>
STRATA_HD T counter_phi_e_V(const T& current_A_m2, double counter_i0_A_m2, double temperature_K) {
  if (counter_i0_A_m2 <= 0.0) return T(0.0);  // ideal counter electrode
  const double two_rt_f = 2.0 * kGasOverFaraday_V_K * temperature_K;
  return two_rt_f * asinh(current_A_m2 / (2.0 * counter_i0_A_m2));
}

// Reaction current per unit volume (A/m3, > 0 anodic) of a porous counter electrode:
// a grounded solid (phi_s = 0) of constant equilibrium potential (taken as 0: a
// constant shifts every potential alike and cancels in the measured one) with
// symmetric Butler-Volmer kinetics, i0 proportional to (c_e/c_e0)^(1/2):
//   j = 2 (a i0) (c_e/c_e0)^(1/2) sinh(-F phi_e / 2RT).
// No solid diffusion or state of charge: the counter holds far more than the cathode.
template <class T>
STRATA_HD T porous_counter_reaction_A_m3(double a_i0_A_m3, double ce0_mol_m3, double temperature_K, const T& ce,
                                         const T& phie) {
  const double f = kFaraday_C_mol / (2.0 * kGas_J_molK * temperature_K);
  T c = ce;
  if (value_of(c) < 1e-12) c = T(1e-12);
  return 2.0 * a_i0_A_m3 * sqrt(c / ce0_mol_m3) * sinh(-f * phie);
}

// c_L / c_N at the counter electrode's face: the cation flux there is I/F (sodium
// plates or strips), which fixes the boundary concentration
//   c_L = c_N - (1 - t+) I (dx/2) / (F D_eff)
// from the last cell's centre c_N (dx: that cell's width).
template <class T>
STRATA_HD T counter_face_ratio(const double* data, const ElectrolyteFns& el, double dx_m, double trans, const T& ce,
                               const T& current_A_m2) {
  const T D = eval_property(data, el.diffusivity_m2_s, ce) * trans;
  const T tp = eval_property(data, el.transference_number, ce);
  return 1.0 - (1.0 - tp) * current_A_m2 * (0.5 * dx_m) / (kFaraday_C_mol * D * ce);
}

// ln(x), continued below x0 by its tangent there, ln(x0) + (x - x0) / x0: finite and
// still falling with a non-zero derivative where x -> 0 or below.
template <class T>
STRATA_HD T log_tangent_below(const T& x, double x0) {
  return value_of(x) >= x0 ? log(x) : T(log(x0)) + (x - x0) / x0;
}

// Where c_L / c_N falls below this, the counter face's concentration term continues
// linearly (log_tangent_below). Until 2026-12-07 the ratio was held at it, which
// made the term constant there (no derivative for Newton) and capped it at
// (2RT/F)(1 - t+) ln(1e-6), about 0.4 V: a charge whose cut-off lay beyond that went
// on at a potential with the counter face dry. The continuation keeps the potential
// rising as the face runs dry, so a cut-off the measured potential sees (a reference
// at the counter) is met where transport limits (the continued ratio then ends a
// little below 0 where the logarithm's would be a little above: the same moment).
// With the reference in the separator the measured potential never shows it, and the
// term would run away: a state needing more than kMaxCounterFaceTerm_V of it is no
// solution (NewtonIterate::Depleted; a variant failing on it is ElectrolyteDepleted,
// the cell cannot carry the current).
constexpr double kCounterFaceLogFloor = 1e-6;
constexpr double kMaxCounterFaceTerm_V = 5.0;

// Ionic current from the last cell centre to the counter electrode, with the boundary
// concentration of counter_face_ratio; the potential at the surface comes from the
// counter kinetics. *concentration_term_V (when given) receives the value of the
// concentration term (2RT/F)(1 - t+) TDF ln(c_L / c_N).
template <class T>
STRATA_HD T counter_face_current(const double* data, const ElectrolyteFns& el, double temperature_K,
                                 double dx_m, double trans, double counter_i0_A_m2,
                                 const T& ce, const T& phie, const T& current_A_m2,
                                 double* concentration_term_V = nullptr) {
  const T k = eval_property(data, el.conductivity_S_m, ce) * trans;
  const T tp = eval_property(data, el.transference_number, ce);
  const T tdf = eval_property(data, el.thermodynamic_factor, ce);
  const double two_rt_f = 2.0 * kGasOverFaraday_V_K * temperature_K;
  const T ratio = counter_face_ratio(data, el, dx_m, trans, ce, current_A_m2);
  const T term = two_rt_f * (1.0 - tp) * tdf * log_tangent_below(ratio, kCounterFaceLogFloor);
  if (concentration_term_V) *concentration_term_V = value_of(term);
  const T phiL = counter_phi_e_V(current_A_m2, counter_i0_A_m2, temperature_K);
  return ((phie - phiL) + term) * k / (0.5 * dx_m);
}

// x^p, with the common symmetric case p = 1/2 as a square root (pow is a hot spot).
template <class T>
STRATA_HD T power(const T& x, double p) {
  return p == 0.5 ? sqrt(x) : pow(x, p);
}

// Smooth positive floor of a site fraction y (x or 1 - x) in the i0 prefactor:
// (y + sqrt(y^2 + d^2)) / 2 is y to a relative 1e-13 for y >= 1e-6 and falls like
// d^2 / (4 |y|) once y < 0, never reaching 0 and never losing its derivative. So when
// the surface fills (x -> 1) or empties (x -> 0), i0 -> 0 and the overpotential can
// grow until the potential reaches the cut-off. (A hard clamp at 1e-10 bounded the
// overpotential, about 0.6 V at i0_ref = 1 A/m2: a cut-off further than that from the
// OCP at the end of the window was unreachable and the step failed.)
// For y < 0 the same value is written d^2 / (2 (sqrt(y^2 + d^2) - y)): y + sqrt(...)
// would cancel to 0 in floating point.
constexpr double kSiteFractionFloor = 1e-12;
template <class T>
STRATA_HD T site_fraction_floor(const T& y) {
  constexpr double d2 = kSiteFractionFloor * kSiteFractionFloor;
  const T s = sqrt(y * y + d2);
  return value_of(y) >= 0.0 ? 0.5 * (y + s) : 0.5 * d2 / (s - y);
}

// Butler-Volmer reaction current density at the particle surface (A/m2 of particle
// surface; > 0 is oxidation, sodium leaving the particle):
//   j = i0 [exp(aa F eta / RT) - exp(-ac F eta / RT)],  eta = phi_s - phi_e - U(x_s)
//   i0 = i0_ref (ce/ce_ref)^aa x^ac (1 - x)^aa / 0.5^(aa + ac)
template <class T>
STRATA_HD T butler_volmer_A_m2(const double* data, const OcpFn& ocp, double temperature_K,
                               double i0_ref, double ce_ref, double aa, double ac, double cmax,
                               const T& phis, const T& phie, const T& ce, const T& cs) {
  const double inv_cmax = 1.0 / cmax;
  const T x = cs * inv_cmax;
  // kinetics prefactor: x and 1 - x floored smoothly (site_fraction_floor); the OCP
  // guards itself. 1 - x is formed from the concentrations to keep its digits near x = 1.
  const T xk = site_fraction_floor(x);
  const T vk = site_fraction_floor((cmax - cs) * inv_cmax);
  T cek = ce;
  if (value_of(cek) < 1e-6) cek = T(1e-6);
  const T eta = phis - phie - eval_ocp_V(data, ocp, x, temperature_K);
  const double f = 1.0 / (kGasOverFaraday_V_K * temperature_K);
  // The symmetric case aa = ac = 1/2, the common one, with one square root and one
  // exponential (exp(-a) = 1/exp(a)) instead of three and two: these are long
  // instruction chains on a GPU.
  if (aa == 0.5 && ac == 0.5) {
    const T i0 = (2.0 * i0_ref) * sqrt(cek * (1.0 / ce_ref) * xk * vk);
    T ea = 0.5 * f * eta;
    if (value_of(ea) > 200.0) ea = T(200.0);
    if (value_of(ea) < -200.0) ea = T(-200.0);
    const T e = exp(ea);
    return i0 * (e - 1.0 / e);
  }
  const T i0 = i0_ref * power(cek / ce_ref, aa) * power(xk, ac) * power(vk, aa) * ::exp2(aa + ac);  // / 0.5^(aa + ac)
  T ea = aa * f * eta, ec = -ac * f * eta;
  if (value_of(ea) > 200.0) ea = T(200.0);
  if (value_of(ec) > 200.0) ec = T(200.0);
  return i0 * (exp(ea) - exp(ec));
}

// Solid diffusivity at stoichiometry x.
template <class T>
STRATA_HD T solid_diffusivity_m2_s(const double* data, const MaterialFns& m, double d_ref, const T& x) {
  if (m.diffusivity_factor.n > 0) return d_ref * pchip(data, m.diffusivity_factor, x);
  return T(d_ref);
}
// The same with its derivative in x, for hand-written Jacobians.
STRATA_HD inline void solid_diffusivity_eval(const double* data, const MaterialFns& m, double d_ref, double x,
                                             double& D_m2_s, double& dD_dx_m2_s) {
  if (m.diffusivity_factor.n > 0) {
    pchip_eval(data, m.diffusivity_factor, x, D_m2_s, dD_dx_m2_s);
    D_m2_s *= d_ref;
    dD_dx_m2_s *= d_ref;
  } else {
    D_m2_s = d_ref;
    dD_dx_m2_s = 0.0;
  }
}

// Surface concentration from the outermost shell centre and the surface flux j/F,
// by linear extrapolation over the gap g between that centre and the surface:
// c_s = c_N - (j/F) g / D(c_N).
template <class T>
STRATA_HD T surface_concentration(const double* data, const MaterialFns& m, double d_ref, double cmax,
                                  double gap_m, const T& c_outer, const T& j_A_m2) {
  const T D = solid_diffusivity_m2_s(data, m, d_ref, c_outer / cmax);
  return c_outer - j_A_m2 * (kInverseFaraday_mol_C * gap_m) / D;
}

// Shells of a particle of radius R: nr shells whose thicknesses shrink outward by the
// ratio q (q = 1: equal thickness), refining the surface where the gradients are, with
// face i (0..nr) at r_i = R (1 - q^i)/(1 - q^nr); or, for q = 0, shells of equal volume,
// r_i = R (i/nr)^(1/3) (one cbrt per face). Centres at the shell midpoints; volumes
// and areas divided by 4 pi. Hot loops walk the faces with q^i by multiplication.
struct ShellGrid {
  double R = 0.0;
  int nr = 1;
  double q = 1.0;
  STRATA_HD double q_to_nr() const {
    double qn = 1.0;
    for (int i = 0; i < nr; ++i) qn *= q;
    return qn;
  }
  // The grid's face scale: R / (1 - q^nr), or R / nr for q = 1 (one division per
  // grid, so that the faces need none).
  STRATA_HD double face_scale() const {
    return q == 1.0 ? R / nr : R / (1.0 - q_to_nr());
  }
  // Radius of face i, given qi = q^i (by repeated multiplication) and face_scale().
  STRATA_HD double face_radius(int i, double qi, double scale) const {
    if (i == nr) return R;
    if (q == 0.0) return R * cbrt((double)i / nr);
    return q == 1.0 ? scale * i : scale * (1.0 - qi);
  }
  // Fills rf[0..nr] with the face radii.
  STRATA_HD void faces(double* rf) const {
    const double scale = face_scale();
    double qi = 1.0;
    for (int i = 0; i <= nr; ++i, qi *= q) rf[i] = face_radius(i, qi, scale);
  }
  STRATA_HD static double volume(const double* rf, int k) {
    constexpr double third = 1.0 / 3.0;
    return (rf[k + 1] * rf[k + 1] * rf[k + 1] - rf[k] * rf[k] * rf[k]) * third;
  }
  STRATA_HD static double outer_area(const double* rf, int k) { return rf[k + 1] * rf[k + 1]; }
  STRATA_HD static double centre(const double* rf, int k) { return 0.5 * (rf[k] + rf[k + 1]); }
  // Distance from the outermost shell centre to the surface.
  STRATA_HD double surface_gap() const {
    if (q == 1.0) return 0.5 * R / nr;
    if (q == 0.0) return 0.5 * (R - R * cbrt((double)(nr - 1) / nr));
    double qn = 1.0;
    for (int i = 0; i < nr; ++i) qn *= q;
    const double inner = R * (1.0 - qn / q) / (1.0 - qn);  // face nr - 1
    return 0.5 * (R - inner);
  }
};

// Where the reference electrode sits: the measured potential uses
// phi_e(x_ref) = (1 - theta) phi_e[p] + theta phi_e[p+1], with p + 1 == nx meaning the
// counter-electrode surface; p == kAgainstCounterMetal: no reference electrode, the
// potential is taken against the grounded counter metal (two electrodes).
constexpr int kAgainstCounterMetal = -1;
struct ReferencePoint {
  int p = 0;
  double theta = 0.0;
  STRATA_HD bool against_counter_metal() const { return p == kAgainstCounterMetal; }
};

template <class V>
STRATA_HD ReferencePoint locate_reference(const DfnShape& S, const V& v) {
  if (v[S.o_scalar + kMeasuredAgainstCounter] != 0.0) return ReferencePoint{kAgainstCounterMetal, 0.0};
  double Lw = 0.0, Lsep = 0.0;
  for (int i = 0; i < S.ne; ++i) Lw += v[S.o_dx + i];
  for (int i = S.ne; i < S.ne + S.n_sep; ++i) Lsep += v[S.o_dx + i];
  const double xref = Lw + v[S.o_scalar + kReferenceFraction] * Lsep;
  double xc = 0.0, edge = 0.0;
  ReferencePoint r;
  r.p = S.nx - 1;
  r.theta = 0.0;
  double prev_centre = -1.0;
  for (int i = 0; i < S.nx; ++i) {
    const double dx = v[S.o_dx + i];
    xc = edge + 0.5 * dx;
    if (xc >= xref && i > 0) {
      r.p = i - 1;
      r.theta = (xref - prev_centre) / (xc - prev_centre);
      return r;
    }
    prev_centre = xc;
    edge += dx;
  }
  // Between the last centre and the counter-electrode surface.
  r.p = S.nx - 1;
  r.theta = (xref - prev_centre) / (edge - prev_centre);
  return r;
}

}  // namespace strata
