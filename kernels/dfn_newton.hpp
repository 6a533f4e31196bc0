#pragma once
// One implicit time step of the DFN model for one variant (backward Euler or BDF2 in
// the same form, kernels/time_scheme.hpp), solved by Newton.
//
// Unknowns: per cell (c_e, phi_e, phi_s); per particle column the shell
// concentrations and the reaction current j; the cell current density I.
// Each Newton iteration:
//  1. condenses every particle column to an affine surface response: the
//     linearised shell equations are solved (Thomas) for dc = y - z dj, so that
//     dc_surf = ys + zs dj;
//  2. condenses the Butler-Volmer residual of each column to
//     dj = j0 + jphi (dphi_s - dphi_e) + jc dc_e, using (1);
//  3. assembles the 3x3 block-tridiagonal system in x, bordered by the current
//     unknown I (fixed current, or fixed measured potential), and solves it by
//     block Thomas with two right-hand sides;
//  4. recovers dI, du, dj and the shell updates, damps to keep concentrations
//     positive, and tests the scaled update.
// Equations (rows, per cell, all in A/m2):
//  row 0, salt:  F eps dx (c - c_hist)/h_eff + F N(i+1/2) - F N(i-1/2) - dx sum a j = 0
//  row 1, ionic: i_e(i+1/2) - i_e(i-1/2) - dx sum a j = 0
//  row 2, solid: i_s(i+1/2) - i_s(i-1/2) + dx sum a j = 0   (separator: phi_s = 0)
// Boundaries: x = 0: i_e = N = 0, i_s = I; electrode/separator face: i_s = 0;
// planar counter electrode: F N = I, i_e from the counter kinetics (dfn_physics.hpp);
// porous counter (n_ctr cells after the separator): its cells carry the reaction
// a j_c(c_e, phi_e) in rows 0 and 1 (phi_s = 0 in row 2) and its far face is closed
// (i_e = N = 0).
#include <cmath>

#include "kernels/block_pcr.hpp"
#include "kernels/config.hpp"
#include "kernels/dfn_layout.hpp"
#include "kernels/dfn_physics.hpp"
#include "kernels/dual.hpp"
#include "kernels/materials.hpp"
#include "kernels/particle.hpp"
#include "kernels/strided.hpp"
#include "kernels/team.hpp"
#include "kernels/time_scheme.hpp"
#include "kernels/tridiag.hpp"

namespace strata {

// The contraction limit that turns the test (newton_contracts_too_slowly) off: no
// update fails err >= inf err_prev. numerics.newton_max_contraction = 0 maps to it.
constexpr double kContractionTestOff = HUGE_VAL;

constexpr int kMaxNewtonIterations = 20;
// Attempts whose guess can lie volts from the solution, which Newton approaches by at
// most kMaxPotentialStep_V per iteration (start_attempt in dfn_protocol.hpp): the first
// step of a protocol step, where the current or voltage has just jumped from a state
// at the end of a particle's window (i0 -> 0) or with the salt run out (c_e -> 0) (a
// rest after the NVPF cell's discharge to its cut-off needs more than 20; docs/physics.md
// 5); and the event search's trials on a cliff of the potential (section 6).
constexpr int kMaxFarGuessNewtonIterations = 300;

struct StepControl {
  bool fixed_voltage = false;  // false: the current is fixed
  double current_A_m2 = 0.0;   // used when !fixed_voltage
  double voltage_V = 0.0;      // used when fixed_voltage
  // Contraction test (newton_contracts_too_slowly): the time steps set
  // numerics.newton_max_contraction; the consistent initialisation, which continues
  // from its iterate rather than shortening a step, keeps it off.
  double max_contraction = kContractionTestOff;
  int max_iterations = kMaxNewtonIterations;
};

struct NewtonResult {
  bool converged = false;
  bool not_finite = false;
  bool singular = false;
  bool slow = false;  // stopped by the contraction test: the step is too long for Newton
  int iterations = 0;
};

// Largest potential change per Newton iteration (V): from a state where the kinetics
// are nearly blocked (a particle surface at the end of its window) the linearised
// Butler-Volmer asks for a huge overpotential and the next iterates would walk back
// down the exponential by only 2RT/F each; capping the step approaches from below.
constexpr double kMaxPotentialStep_V = 0.1;
// Tolerance on the scaled Newton update: 1e-2 of the time step's relative error
// tolerance (1e-5 at the default 1e-3), so that the algebraic error stays well below
// the local truncation error the step size control admits (stiff integrators stop at
// about 0.1 of it: CVODE, RADAU5); clamped to [1e-9, 1e-5] (1e-9 was the fixed
// tolerance before 2026-12-05: tight time tolerances such as the analytic
// verification's 1e-9 keep it). 1e-3 until 2026-12-07: against the rtol 1e-7
// reference the benchmark batch's capacity errors stay 0.074 mAh/g at most and 0.043
// on average, with 8 % fewer Newton iterations (docs/performance.md).
constexpr double kNewtonToleranceFactor = 1e-2;
constexpr double kNewtonToleranceMin = 1e-9;
constexpr double kNewtonToleranceMax = 1e-5;
STRATA_HD inline double newton_tolerance(double rel_tol) {
  return fmin(fmax(kNewtonToleranceFactor * rel_tol, kNewtonToleranceMin), kNewtonToleranceMax);
}

// Convergence of a Newton solve after an update of scaled size err: the update is
// below the tolerance, or, after a previous full update err_prev, the remaining error
// that the contraction rate theta = err/err_prev predicts for the iterations still to
// come, theta/(1 - theta) err, is (Hairer and Wanner II, IV.8; RADAU5). Only full
// updates qualify (the caller's test), and err_prev is 0 after a damped one.
STRATA_HD inline bool newton_converged(double err, double err_prev, double tol) {
  if (err < tol) return true;
  if (!(err_prev > 0.0)) return false;
  const double theta = err / err_prev;
  return theta < 1.0 && theta / (1.0 - theta) * err < tol;
}

// Contraction test on two successive full (undamped) updates, after the
// convergence-rate test of stiff integrators (Hairer and Wanner's RADAU5, SUNDIALS):
// from a guess inside its region of quadratic convergence each update is far smaller
// than the last. One that shrank by less than max_contraction says that the
// linearisation does not hold over the step (a particle surface crossing the steep
// end of its OCP within it), and a shorter step converges in fewer iterations than
// staying (the benchmark's charges: 11 iterations at rates of 0.9-1.3 before an
// error-test rejection). It judges only solves whose every update was full (a damped
// solve is still finding its way: the steep wall at the end of a discharge, where
// the step length does not help) and updates larger than kContractionTestFloor
// (below it, slow contraction comes from the kinks of tabulated properties, which a
// shorter step does not remove).
constexpr double kContractionTestFloor = 1e-3;
STRATA_HD inline bool newton_contracts_too_slowly(double err, double err_prev, bool damped, double max_contraction) {
  return !damped && err_prev > kContractionTestFloor && err >= max_contraction * err_prev;
}

// Measured potential of the working electrode against the reference:
// V = phi_s(x=0) + I R_contact - phi_e(x_ref), phi_s(x=0) = phi_s[0] + I dx0/(2 sigma0);
// against the counter metal (two electrodes, grounded): V = phi_s(x=0) + I R_contact.
template <class V>
STRATA_HD double measured_potential_V(const DfnShape& S, const V& v, long ox, const ReferencePoint& ref) {
  const double T_K = v[S.o_scalar + kTemperature_K];
  const double I = v[ox + S.s_I()];
  const double dx0 = v[S.o_dx + 0];
  const double phis_cc = v[ox + S.s_phis()] + I * 0.5 * dx0 / v[S.o_sigma + 0];
  if (ref.against_counter_metal()) return phis_cc + I * v[S.o_scalar + kContactResistance_ohm_m2];
  const double phi_p = v[ox + S.s_phie() + ref.p];
  const double phi_q = (ref.p + 1 < S.nx) ? v[ox + S.s_phie() + ref.p + 1]
                                          : counter_phi_e_V(I, v[S.o_scalar + kCounterI0_A_m2], T_K);
  return phis_cc + I * v[S.o_scalar + kContactResistance_ohm_m2] - ((1.0 - ref.theta) * phi_p + ref.theta * phi_q);
}

// Solves the assembled block system (3x3 blocks, 2 right-hand sides) in place of
// lower/diag/upper/rhs; returns the view that holds the solution (rhs for one lane,
// the PCR solution for a team) and sets ok (the same on every lane).
template <class V, class Team>
STRATA_HD V solve_block_system(const DfnShape& S, const V& v, const BlockSystem<V>& sys, const Team& t, bool& ok) {
  if (t.size() == 1) {
    V diag = sys.diag, upper = sys.upper, rhs = sys.rhs;
    ok = block_thomas_solve<3, 2>(S.nx, sys.lower, diag, upper, rhs);
    return sys.rhs;
  }
  const long o = S.o_pcr, nx = S.nx;
  const BlockSystem<V> scratch{v.at(o), v.at(o + 9 * nx), v.at(o + 18 * nx), v.at(o + 27 * nx)};
  const V x = v.at(S.o_pcr_x);
  const int P = block_pcr_reductions(S.nx);
  bool mine = true;
  for (int p = 0; p <= P; ++p) {
    mine = block_pcr_phase<3, 2>(p, P, t.rank(), t.size(), S.nx, block_pcr_source(p, sys, scratch),
                                 block_pcr_source(p + 1, sys, scratch), x) && mine;
    t.sync();  // phase p + 1 reads what every lane wrote in phase p
  }
  ok = !t.any(!mine);
  return x;
}

// Where a Newton solve stands between its iterations.
struct NewtonProgress {
  int iterations = 0;     // done so far
  double err_prev = 0.0;  // the last full (undamped) update's scaled size; 0 after a damped one
  bool damped = false;    // an update of this solve was damped
};

// Depleted: converged to a state whose metal counter face needs a concentration term
// beyond kMaxCounterFaceTerm_V (dfn_physics.hpp): no solution; the solve has failed.
enum class NewtonIterate : int { Continue, Converged, NotFinite, Singular, Slow, Depleted };

// One Newton iteration of the implicit step ts (kernels/time_scheme.hpp) from the state
// at o_xold (and, for BDF2, o_xprev),
// updating the state at o_x (the first call's o_x is the initial guess). Every lane of
// the team t calls it with the same arguments and gets the same result. Not inlined:
// on the device the integrator calls it from one place, and as a call it gets the
// registers to itself (at 255 registers the thread-per-variant kernel spills nothing;
// inlined into the integrator's loop, 750 bytes); on the CPU a profile then tells the
// Newton work from the integrator's bookkeeping (a call per iteration costs nothing
// measurable).
template <class V, class Team = SerialTeam>
STRATA_HD STRATA_NOINLINE NewtonIterate newton_iteration(const DfnShape& S, const SharedTables& tab, const V& v,
                                                         const ImplicitStep& ts, const StepControl& ctl,
                                                         const ReferencePoint& ref, NewtonProgress& progress,
                                                         const Team& t = Team{}) {
  const double* data = tab.data;
  const ElectrolyteFns& el = tab.electrolyte;
  const double T_K = v[S.o_scalar + kTemperature_K];
  const double counter_i0 = v[S.o_scalar + kCounterI0_A_m2];
  const double ce_scale = v[S.o_scalar + kCeInit_mol_m3];
  const double I_scale = fabs(v[S.o_scalar + kOneC_A_m2]) + 1e-12;
  const long ox = S.o_x, oo = S.o_xold;
  const long oce = ox + S.s_ce(), ope = ox + S.s_phie(), ops = ox + S.s_phis();
  const long ocs = ox + S.s_cs(), oj = ox + S.s_j(), oI = ox + S.s_I();
  const int nx = S.nx, nr = S.nr;
  const long oL = S.o_blk, oD = S.o_blk + 9L * nx, oU = S.o_blk + 18L * nx, oR = S.o_blk + 27L * nx;
  const BlockSystem<V> sys{v.at(oL), v.at(oD), v.at(oU), v.at(oR)};
  const double F = kFaraday_C_mol;
  const int r0 = t.rank(), dr = t.size();
  const auto ce_hist = history_view(v.at(oo + S.s_ce()), v.at(S.o_xprev + S.s_ce()), ts);
  // Reciprocals of the scales divided by in the cell loops (a division is a long
  // dependent chain on a GPU; a product is one instruction).
  const double inv_h_eff = 1.0 / ts.h_eff_s;
  const double inv_ce_scale = 1.0 / ce_scale, inv_thermal_V = 1.0 / (kGasOverFaraday_V_K * T_K);

  ++progress.iterations;
  const double err_prev = progress.err_prev;
  {
    t.sync();  // the previous update is complete everywhere
    // Bordered system: column b = dR/dI (kept in rhs column 1), row r, corner d.
    double Rrow = 0.0, d_corner = 0.0, r_phis0 = 0.0, r_phie_p = 0.0, r_phie_q = 0.0;
    const double I = v[oI];

    // --- cells: particle columns, kinetics, accumulation, separator solid rows ---
    // Every entry of the block system is written in every iteration, so the workspace
    // needs no zeroing: an electrode cell's first column assigns its diagonal block
    // and rhs (0.0 + x and 0.0 - x: the bits of adding into zeros), the other terms
    // add to them; a separator or counter cell sums its few terms in registers and
    // stores them once; the faces assign L and U.
    bool singular = false;
    for (int i = r0; i < nx; i += dr) {
      const double dx = v[S.o_dx + i];
      const long di = oD + 9L * i, ri = oR + 6L * i;
      // accumulation in the salt row: F eps dx (c_e - c_e,hist) / h_eff
      auto accumulation_w = [&] { return F * v[S.o_eps + i] * dx * inv_h_eff; };
      auto dce_step = [&] { return v[oce + i] - ce_hist[i]; };
      const double tp_i = salt_row_weight(data, el, v[oce + i]);
      if (i < S.ne) {
        const int layer = S.cell_layer[i];
        for (int col = S.cell_first_col[i], s = S.layer_first_slot[layer]; col < S.cell_first_col[i + 1]; ++col, ++s) {
          const long sp = S.o_slot + (long)kSlotParams * s;
          const int mid = (int)v[sp + kSlotMaterialId];
          const MaterialFns& mat = tab.materials[mid];
          const double R = v[sp + kSlotRadius_m], cmax = v[sp + kSlotCmax_mol_m3], Dref = v[sp + kSlotDiffusivity_m2_s];
          const double a = 3.0 * v[sp + kSlotVolumeFraction] / R;
          const ShellGrid grid{R, nr, v[S.o_scalar + kShellRatio]};
          const long cc = ocs + (long)col * nr, co = oo + S.s_cs() + (long)col * nr;
          const auto cs_hist = history_view(v.at(co), v.at(S.o_xprev + S.s_cs() + (long)col * nr), ts);
          const long oy = S.o_col + (long)col * (2 * nr + 3), oz = oy + nr, ocoef = oz + nr;
          const double j = v[oj + col];
          auto y = v.at(oy), z = v.at(oz);
          if (!particle_condense(data, mat, Dref, cmax, nr, grid, ts.h_eff_s, v.at(cc), cs_hist, j, y, z)) {
            singular = true;  // the iteration returns Singular: what the rest of this cell
            continue;         // adds to its unassigned D and rhs is never read
          }
          // dc = y - z dj; surface: dcs = psi dc_N + chi dj = ys + zs dj.
          using D2 = Dual<2>;
          const D2 cs = surface_concentration(data, mat, Dref, cmax, grid.surface_gap(), D2::var(v[cc + nr - 1], 0), D2::var(j, 1));
          const double ys = cs.d[0] * y[nr - 1];
          const double zs = cs.d[1] - cs.d[0] * z[nr - 1];
          double j0, jphi, jc;
          if (a > 0.0) {
            // Derivatives in phi_s, c_e and c_s; phi_e enters only through
            // eta = phi_s - phi_e - U, so d j / d phi_e = - d j / d phi_s.
            using D3 = Dual<3>;
            const D3 jbv = butler_volmer_A_m2(data, mat.ocp, T_K, v[sp + kSlotI0_A_m2], v[sp + kSlotCeRef_mol_m3],
                                             v[sp + kSlotAlphaA], v[sp + kSlotAlphaC], cmax,
                                             D3::var(v[ops + i], 0), D3(v[ope + i]),
                                             D3::var(v[oce + i], 1), D3::var(cs.v, 2));
            const double Rj = j - jbv.v;
            const double Jcs = jbv.d[2];
            const double inv_den = 1.0 / (1.0 - Jcs * zs);
            j0 = (-Rj + Jcs * ys) * inv_den;
            jphi = jbv.d[0] * inv_den;  // d j / d phi_s (= - d j / d phi_e)
            jc = jbv.d[1] * inv_den;
          } else {
            // A material at zero fraction carries no current.
            j0 = -j;
            jphi = 0.0;
            jc = 0.0;
          }
          v[ocoef + 0] = j0;
          v[ocoef + 1] = jphi;
          v[ocoef + 2] = jc;
          // Rows: the ionic row loses dx a j, the solid row gains it; the salt row
          // (combined with the ionic row, see salt_row_weight) loses (1 - t+) dx a j.
          const double w[3] = {-(1.0 - tp_i) * dx * a, -dx * a, dx * a};
          if (col == S.cell_first_col[i]) {
            for (int r = 0; r < 3; ++r) {
              v[ri + 2 * r] = 0.0 - w[r] * (j + j0);  // rhs = -(R + w j0); R's own j term
              v[ri + 2 * r + 1] = 0.0;
              v[di + 3 * r + 0] = 0.0 + w[r] * jc;
              v[di + 3 * r + 1] = 0.0 - w[r] * jphi;
              v[di + 3 * r + 2] = 0.0 + w[r] * jphi;
            }
          } else {
            for (int r = 0; r < 3; ++r) {
              v[ri + 2 * r] -= w[r] * (j + j0);
              v[di + 3 * r + 0] += w[r] * jc;
              v[di + 3 * r + 1] -= w[r] * jphi;
              v[di + 3 * r + 2] += w[r] * jphi;
            }
          }
        }
        const double w = accumulation_w();
        v[ri + 0] -= w * dce_step();
        v[di + 0] += w;
      } else {
        double Dc[9] = {}, Rc[6] = {};
        const double w = accumulation_w();
        Rc[0] -= w * dce_step();
        Dc[0] += w;
        Rc[4] -= v[ops + i];  // phi_s = 0
        Dc[8] += 1.0;
        if (i >= S.ne + S.n_sep) {  // porous counter: salt and ionic rows lose dx a j_c
          using D2 = Dual<2>;
          const D2 jc = porous_counter_reaction_A_m3(v[S.o_scalar + kCounterVolumetricI0_A_m3], ce_scale, T_K,
                                                     D2::var(v[oce + i], 0), D2::var(v[ope + i], 1));
          for (int r = 0; r < 2; ++r) {
            const double wr = r == 0 ? 1.0 - tp_i : 1.0;  // the salt row combined as above
            Rc[2 * r] += wr * dx * jc.v;
            Dc[3 * r + 0] -= wr * dx * jc.d[0];
            Dc[3 * r + 1] -= wr * dx * jc.d[1];
          }
        }
        for (int k = 0; k < 9; ++k) v[di + k] = Dc[k];
        for (int k = 0; k < 6; ++k) v[ri + k] = Rc[k];
      }
      // No face writes L_0 or U_{nx-1}; the solvers ignore them (kept zero all the same).
      if (i == 0)
        for (int k = 0; k < 9; ++k) v[oL + k] = 0.0;
      if (i == nx - 1)
        for (int k = 0; k < 9; ++k) v[oU + 9L * i + k] = 0.0;
    }

    if (t.any(singular)) return NewtonIterate::Singular;

    // --- interior faces: face i adds to rows i and i + 1; even faces, then odd ---
    t.sync();
    for (int parity = 0; parity < 2; ++parity, t.sync())
    for (int i = parity + 2 * r0; i + 1 < nx; i += 2 * dr) {
      // Derivatives in c_e(L), phi_e(L), c_e(R): the fluxes depend on the potentials
      // only through phi_e(L) - phi_e(R), so d/dphi_e(R) = -d/dphi_e(L) (the same bits).
      using D3 = Dual<3>;
      D3 ie, FN;
      electrolyte_face_flux(data, el, T_K, v[S.o_dx + i], v[S.o_trans + i], v[S.o_dx + i + 1], v[S.o_trans + i + 1],
                            D3::var(v[oce + i], 0), D3::var(v[ope + i], 1),
                            D3::var(v[oce + i + 1], 2), D3(v[ope + i + 1]), ie, FN);
      // The salt rows of the two cells, each combined with its own ionic row
      // (salt_row_weight): F N+ - t+(c_e of the cell) i_e.
      const D3 saltL = FN - salt_row_weight(data, el, v[oce + i]) * ie;
      const D3 saltR = FN - salt_row_weight(data, el, v[oce + i + 1]) * ie;
      const D3* fL[2] = {&saltL, &ie};
      const D3* fR[2] = {&saltR, &ie};
      // Face i alone couples rows i and i + 1: it assigns U_i and L_{i+1} whole
      // (0.0 + d and 0.0 - d: the bits of adding into a zeroed block).
      const long u = oU + 9L * i, l = oL + 9L * (i + 1);
      for (int r = 0; r < 2; ++r) {
        const D3& f = *fL[r];  // what leaves cell i
        const D3& g = *fR[r];  // what enters cell i + 1
        v[oR + 6L * i + 2 * r] -= f.v;
        v[oR + 6L * (i + 1) + 2 * r] += g.v;
        v[oD + 9L * i + 3 * r + 0] += f.d[0];
        v[oD + 9L * i + 3 * r + 1] += f.d[1];
        v[u + 3 * r + 0] = 0.0 + f.d[2];
        v[u + 3 * r + 1] = 0.0 - f.d[1];
        v[u + 3 * r + 2] = 0.0;
        v[l + 3 * r + 0] = 0.0 - g.d[0];
        v[l + 3 * r + 1] = 0.0 - g.d[1];
        v[l + 3 * r + 2] = 0.0;
        v[oD + 9L * (i + 1) + 3 * r + 0] -= g.d[2];
        v[oD + 9L * (i + 1) + 3 * r + 1] += g.d[1];
      }
      for (int c = 6; c < 8; ++c) {  // no face term in the solid row's c_e, phi_e columns
        v[u + c] = 0.0;
        v[l + c] = 0.0;
      }
      if (i + 1 < S.ne) {  // solid current between electrode cells
        // conductance of the two half cells in series, 2 sL sR / (dxL sR + dxR sL)
        const double sL = v[S.o_sigma + i], sR = v[S.o_sigma + i + 1];
        const double g = 2.0 * sL * sR / (v[S.o_dx + i] * sR + v[S.o_dx + i + 1] * sL);
        const double is = g * (v[ops + i] - v[ops + i + 1]);
        v[oR + 6L * i + 4] -= is;
        v[oR + 6L * (i + 1) + 4] += is;
        v[oD + 9L * i + 8] += g;
        v[u + 8] = 0.0 - g;
        v[l + 8] = 0.0 - g;
        v[oD + 9L * (i + 1) + 8] += g;
      } else {
        v[u + 8] = 0.0;
        v[l + 8] = 0.0;
      }
    }

    // --- boundaries; column 1 of rhs holds b = dR/dI ---
    // x = 0: the solid current entering is I (row 2: - I).
    if (t.leader()) {
      v[oR + 4] += I;
      v[oR + 5] += -1.0;
    }
    double face_term_V = 0.0;  // concentration term at a metal counter's face
    if (t.leader() && S.n_ctr == 0) {
      const int n = nx - 1;
      using D3 = Dual<3>;
      const D3 ieL = counter_face_current(data, el, T_K, v[S.o_dx + n], v[S.o_trans + n], counter_i0,
                                          D3::var(v[oce + n], 0), D3::var(v[ope + n], 1), D3::var(I, 2),
                                          &face_term_V);
      // salt: F N = I leaves through the counter face (less t+ i_e: the combined row)
      const double tp_n = salt_row_weight(data, el, v[oce + n]);
      v[oR + 6L * n + 0] -= I - tp_n * ieL.v;
      v[oR + 6L * n + 1] += 1.0 - tp_n * ieL.d[2];
      v[oD + 9L * n + 0] -= tp_n * ieL.d[0];
      v[oD + 9L * n + 1] -= tp_n * ieL.d[1];
      v[oR + 6L * n + 2] -= ieL.v;
      v[oD + 9L * n + 3] += ieL.d[0];
      v[oD + 9L * n + 4] += ieL.d[1];
      v[oR + 6L * n + 3] += ieL.d[2];
    }
    t.sync();

    // --- the current row ---
    if (ctl.fixed_voltage) {
      const double Vm = measured_potential_V(S, v, ox, ref);
      Rrow = Vm - ctl.voltage_V;
      r_phis0 = 1.0;
      r_phie_p = -(1.0 - ref.theta);
      r_phie_q = -ref.theta;
      d_corner = 0.5 * v[S.o_dx + 0] / v[S.o_sigma + 0] + v[S.o_scalar + kContactResistance_ohm_m2];
      if (ref.against_counter_metal()) {
        r_phie_p = 0.0;  // V holds no phi_e
        r_phie_q = 0.0;
      } else if (ref.p + 1 >= nx) {
        using D1 = Dual<1>;
        d_corner -= ref.theta * counter_phi_e_V(D1::var(I, 0), counter_i0, T_K).d[0];
        r_phie_q = 0.0;
      }
    } else {
      Rrow = I - ctl.current_A_m2;
      d_corner = 1.0;
    }

    bool solved = false;
    const V rhs = solve_block_system(S, v, sys, t, solved);
    if (!solved) return NewtonIterate::Singular;
    // du = y1 - y2 dI, with r . du + d dI = -Rrow.
    double ry1 = 0.0, ry2 = 0.0;
    if (ctl.fixed_voltage && ref.against_counter_metal()) {
      ry1 = r_phis0 * rhs[4];
      ry2 = r_phis0 * rhs[5];
    } else if (ctl.fixed_voltage) {
      ry1 = r_phis0 * rhs[4] + r_phie_p * rhs[6L * ref.p + 2];
      ry2 = r_phis0 * rhs[5] + r_phie_p * rhs[6L * ref.p + 3];
      if (ref.p + 1 < nx) {
        ry1 += r_phie_q * rhs[6L * (ref.p + 1) + 2];
        ry2 += r_phie_q * rhs[6L * (ref.p + 1) + 3];
      }
    }
    const double dI = (-Rrow - ry1) / (d_corner - ry2);
    if (!(dI == dI)) return NewtonIterate::NotFinite;

    // Damping factor that keeps concentrations inside their physical ranges.
    double lambda = 1.0;
    for (int i = r0; i < nx; i += dr) {
      const double dce = rhs[6L * i + 0] - rhs[6L * i + 1] * dI;
      const double ce = v[oce + i];
      if (ce + dce < 0.1 * ce) lambda = min_num(lambda, 0.9 * ce / (-dce));
    }
    double err = fabs(dI) / I_scale;
    for (int i = r0; i < S.ne; i += dr) {
      const int layer = S.cell_layer[i];
      const double dce = rhs[6L * i + 0] - rhs[6L * i + 1] * dI;
      const double dpe = rhs[6L * i + 2] - rhs[6L * i + 3] * dI;
      const double dps = rhs[6L * i + 4] - rhs[6L * i + 5] * dI;
      for (int col = S.cell_first_col[i], s = S.layer_first_slot[layer]; col < S.cell_first_col[i + 1]; ++col, ++s) {
        const long sp = S.o_slot + (long)kSlotParams * s;
        const double cmax = v[sp + kSlotCmax_mol_m3], inv_cmax = 1.0 / cmax;
        const long oy = S.o_col + (long)col * (2 * nr + 3), oz = oy + nr, ocoef = oz + nr;
        const double dj = v[ocoef + 0] + v[ocoef + 1] * (dps - dpe) + v[ocoef + 2] * dce;
        v[ocoef + 0] = dj;  // keep dj for the update below
        for (int k = 0; k < nr; ++k) {
          const double dc = v[oy + k] - v[oz + k] * dj;
          const double c = v[ocs + (long)col * nr + k];
          if (c + dc < 0.0) lambda = min_num(lambda, 0.9 * c / (-dc));
          if (c + dc > cmax) lambda = min_num(lambda, 0.9 * (cmax - c) / dc);
          err = max_num(err, fabs(dc) * inv_cmax);
        }
      }
    }
    double dphi_max = 0.0;
    for (int i = r0; i < nx; i += dr)
      dphi_max = max_num(dphi_max, max_num(fabs(rhs[6L * i + 2] - rhs[6L * i + 3] * dI), fabs(rhs[6L * i + 4] - rhs[6L * i + 5] * dI)));
    lambda = t.min(lambda);
    dphi_max = t.max(dphi_max);
    if (dphi_max > kMaxPotentialStep_V) lambda = fmin(lambda, kMaxPotentialStep_V / dphi_max);
    if (lambda < 1e-8) lambda = 1e-8;

    // Apply the update.
    for (int i = r0; i < nx; i += dr) {
      const double dce = rhs[6L * i + 0] - rhs[6L * i + 1] * dI;
      const double dpe = rhs[6L * i + 2] - rhs[6L * i + 3] * dI;
      const double dps = rhs[6L * i + 4] - rhs[6L * i + 5] * dI;
      err = max_num(err, fabs(dce) * inv_ce_scale);
      err = max_num(err, max_num(fabs(dpe), fabs(dps)) * inv_thermal_V);
      v[oce + i] += lambda * dce;
      v[ope + i] += lambda * dpe;
      v[ops + i] += lambda * dps;
      if (i >= S.ne) continue;
      for (int col = S.cell_first_col[i]; col < S.cell_first_col[i + 1]; ++col) {
        const long oy = S.o_col + (long)col * (2 * nr + 3), oz = oy + nr, ocoef = oz + nr;
        const double dj = v[ocoef + 0];
        v[oj + col] += lambda * dj;
        for (int k = 0; k < nr; ++k) v[ocs + (long)col * nr + k] += lambda * (v[oy + k] - v[oz + k] * dj);
      }
    }
    if (t.leader()) v[oI] += lambda * dI;
    t.sync();
    err = t.max(err);
    if (!(err == err) || !is_finite(v[oI])) return NewtonIterate::NotFinite;
    // (The face test is asked only of a converged iterate; the condition is the same on
    // every lane, so the reduction stays uniform.)
    if (lambda == 1.0 && newton_converged(err, err_prev, newton_tolerance(v[S.o_scalar + kRelTol])))
      return t.any(face_term_V < -kMaxCounterFaceTerm_V) ? NewtonIterate::Depleted : NewtonIterate::Converged;
    progress.damped = progress.damped || lambda < 1.0;
    if (newton_contracts_too_slowly(err, err_prev, progress.damped, ctl.max_contraction)) return NewtonIterate::Slow;
    progress.err_prev = lambda == 1.0 ? err : 0.0;
  }
  return NewtonIterate::Continue;
}

// True when the solve has ended: an outcome other than Continue, or no iterations left.
STRATA_HD inline bool newton_finished(NewtonIterate last, const NewtonProgress& p, const StepControl& ctl) {
  return last != NewtonIterate::Continue || p.iterations >= ctl.max_iterations;
}

STRATA_HD inline NewtonResult newton_result(NewtonIterate last, const NewtonProgress& p) {
  NewtonResult r;
  r.converged = last == NewtonIterate::Converged;
  r.not_finite = last == NewtonIterate::NotFinite;
  r.singular = last == NewtonIterate::Singular;
  r.slow = last == NewtonIterate::Slow;
  r.iterations = p.iterations;
  return r;
}

// Newton solve of one implicit step ts from the state at o_xold; the
// state at o_x is the initial guess and receives the solution. Every lane of the
// team t calls it with the same arguments and gets the same result.
template <class V, class Team = SerialTeam>
STRATA_HD NewtonResult newton_step(const DfnShape& S, const SharedTables& tab, const V& v, const ImplicitStep& ts,
                                   const StepControl& ctl, const ReferencePoint& ref, const Team& t = Team{}) {
  NewtonProgress p;
  NewtonIterate last;
  do {
    last = newton_iteration(S, tab, v, ts, ctl, ref, p, t);
  } while (!newton_finished(last, p, ctl));
  return newton_result(last, p);
}

}  // namespace strata
