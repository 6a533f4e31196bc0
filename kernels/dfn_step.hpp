#pragma once
// The pieces of one implicit time step that the integrator (dfn_protocol.hpp) strings
// together: state copies, the consistent initial state, the predictor, the local
// error estimate, the event functions of protocol limits, and the charge bookkeeping
// of the step outputs. A team of lanes may share a variant (kernels/team.hpp): loops
// over the state are split among the lanes, scalars are the same on every lane.
#include <cmath>

#include "kernels/config.hpp"
#include "kernels/dfn_layout.hpp"
#include "kernels/dfn_newton.hpp"
#include "kernels/dfn_physics.hpp"
#include "kernels/materials.hpp"
#include "kernels/protocol_step.hpp"
#include "kernels/strided.hpp"
#include "kernels/team.hpp"
#include "kernels/time_scheme.hpp"

namespace strata {

// What each protocol step reports, per variant: kStepOutFields values, then one
// value per slot (charge passed by that slot's material in that layer, C/m2,
// > 0 on charge).
enum StepOutField : int {
  kOutCapacity_C_m2 = 0,  // integral of |I| dt
  kOutCharge_C_m2,        // integral of I dt (> 0 on charge)
  kOutEnergy_J_m2,        // integral of V I dt (> 0 on charge)
  kOutEndPotential_V,
  kOutEndCurrent_A_m2,
  kOutDuration_s,
  kOutTimeSteps,
  kOutNewtonIterations,
  kOutEndReason,          // StepEnd
  kOutMinCe_mol_m3,       // lowest c_e of any cell, over the start state and the accepted states
  kOutMaxCe_mol_m3,       // highest c_e, the same way
  kStepOutFields
};

enum class StepEnd : int {
  NotRun = 0,
  Limit = 1,           // the limit was reached and located to its tolerance
  Duration = 2,        // the step's time ran out
  Failed = 3,          // the variant failed in this step
  AtStart = 4,         // the limit held already within the first 1e-4 s of the step
  LimitUnlocated = 5,  // the limit was reached but the event search stopped above tolerance
};

constexpr double kFirstStep_s = 0.1;   // first time step of every protocol step
constexpr double kMinStep_s = 1e-7;    // below this a failing step fails the variant
// Retry factor after the Newton contraction test stopped a step (kernels/dfn_newton.hpp),
// as RADAU5 does; on the benchmark batch 0.5 took fewer Newton iterations than 0.35
// or 0.7 (docs/performance.md).
constexpr double kSlowNewtonStepFactor = 0.5;
constexpr int kMaxEventIterations = 40;
// Probes of the event bracket whose Newton solve failed that the search retries
// halfway toward the bracket's uncrossed end before it gives up (docs/physics.md 6).
constexpr int kMaxFailedEventProbes = 8;
// Where in the accepted band [0, tol] past a limit the event search aims (its middle).
constexpr double kEventAim = 0.5;
constexpr double kMinFirstStep_s = 1e-4;  // an event within this first step ends the step at its start

STRATA_HD inline int step_out_size(const DfnShape& S) { return kStepOutFields + S.n_slots; }

// Barriers on both sides: every lane may still be reading the target (the measured
// potential, the event function), and reads the copy after.
template <class V, class Team = SerialTeam>
STRATA_HD void copy_state(const DfnShape& S, const V& v, long from, long to, const Team& t = Team{}) {
  t.sync();
  for (long k = t.rank(); k < S.state_size; k += t.size()) v[to + k] = v[from + k];
  t.sync();
}

// Sodium held by slot s's particles (mol per m2 of electrode), from state copy ox.
template <class V>
STRATA_HD double slot_sodium_mol_m2(const DfnShape& S, const V& v, long ox, int s) {
  int layer = 0;
  while (layer + 1 < S.n_layers && S.layer_first_slot[layer + 1] <= s) ++layer;
  const int local = s - S.layer_first_slot[layer];
  const long sp = S.o_slot + (long)kSlotParams * s;
  const double R = v[sp + kSlotRadius_m], vf = v[sp + kSlotVolumeFraction];
  double rf[kMaxShells + 1];
  ShellGrid{R, S.nr, v[S.o_scalar + kShellRatio]}.faces(rf);
  const double particle_volume = R * R * R / 3.0;  // / 4 pi, as ShellGrid::volume
  double total = 0.0;
  for (int i = S.layer_first_cell[layer]; i < S.layer_first_cell[layer + 1]; ++i) {
    const long col = S.cell_first_col[i] + local;
    double n = 0.0;
    for (int k = 0; k < S.nr; ++k) n += ShellGrid::volume(rf, k) * v[ox + S.s_cs() + col * S.nr + k];
    total += v[S.o_dx + i] * vf * n / particle_volume;
  }
  return total;
}

// Sodium slot s's particles hold when all are at stoichiometry x (mol/m2).
template <class V>
STRATA_HD double slot_sodium_at_mol_m2(const DfnShape& S, const V& v, int s, double x) {
  int layer = 0;
  while (layer + 1 < S.n_layers && S.layer_first_slot[layer + 1] <= s) ++layer;
  const long sp = S.o_slot + (long)kSlotParams * s;
  double thickness = 0.0;
  for (int i = S.layer_first_cell[layer]; i < S.layer_first_cell[layer + 1]; ++i) thickness += v[S.o_dx + i];
  return thickness * v[sp + kSlotVolumeFraction] * v[sp + kSlotCmax_mol_m3] * x;
}

template <class V>
STRATA_HD double electrolyte_sodium_mol_m2(const DfnShape& S, const V& v, long ox) {
  double total = 0.0;
  for (int i = 0; i < S.nx; ++i) total += v[S.o_dx + i] * v[S.o_eps + i] * v[ox + S.s_ce() + i];
  return total;
}

// Initial guess from the parameters, then a consistent solve at zero current.
template <class V, class Team = SerialTeam>
STRATA_HD VariantStatus initialize_state(const DfnShape& S, const SharedTables& tab, const V& v,
                                         const Team& t = Team{}) {
  const long ox = S.o_x;
  const double T_K = v[S.o_scalar + kTemperature_K];
  for (int i = t.rank(); i < S.nx; i += t.size()) {
    v[ox + S.s_ce() + i] = v[S.o_scalar + kCeInit_mol_m3];
    v[ox + S.s_phie() + i] = 0.0;
    v[ox + S.s_phis() + i] = 0.0;
  }
  t.sync();
  for (int i = t.rank(); i < S.ne; i += t.size()) {
    const int layer = S.cell_layer[i];
    double phis = 0.0;
    for (int col = S.cell_first_col[i], s = S.layer_first_slot[layer]; col < S.cell_first_col[i + 1]; ++col, ++s) {
      const long sp = S.o_slot + (long)kSlotParams * s;
      const double x0 = v[sp + kSlotXInit];
      for (int k = 0; k < S.nr; ++k) v[ox + S.s_cs() + (long)col * S.nr + k] = x0 * v[sp + kSlotCmax_mol_m3];
      v[ox + S.s_j() + col] = 0.0;
      if (col == S.cell_first_col[i])
        phis = eval_ocp_V(tab.data, tab.materials[(int)v[sp + kSlotMaterialId]].ocp, x0, T_K);
    }
    v[ox + S.s_phis() + i] = phis;
  }
  if (t.leader()) {
    v[ox + S.s_I()] = 0.0;
    for (int k = 0; k < kMiscFields; ++k) v[S.o_misc + k] = 0.0;
  }
  t.sync();
  copy_state(S, v, ox, S.o_xold, t);
  copy_state(S, v, ox, S.o_xprev, t);
  StepControl rest;
  const ReferencePoint ref = locate_reference(S, v);
  // The guess may be far from the mixed potential of a blend or multilayer: allow
  // several rounds of Newton iterations.
  for (int round = 0; round < 4; ++round) {
    const NewtonResult r = newton_step(S, tab, v, ImplicitStep{1e-6, 0.0}, rest, ref, t);
    if (r.converged) return VariantStatus::Ok;
    if (r.not_finite) return VariantStatus::NotFinite;
    if (r.singular) return VariantStatus::LinearSolveFailed;
  }
  return VariantStatus::NewtonFailed;
}

// The predictor's extrapolation from the step's start x0 = x_n over a step h after
// accepted steps h1 and h2: linear through x_{n-1}, x0 + f (x0 - x_{n-1}) with f = h/h1;
// for the differential entries of an order-2 attempt, the quadratic through x_{n-1}
// and x_{n-2} as well (kernels/time_scheme.hpp), BDF2's own predictor. chord: the line
// through the converged state x of an earlier attempt of length L from the same start
// instead, x0 + (h/L) (x - x0) (f = -h/L).
struct Extrapolation {
  double f = 0.0;
  bool quadratic = false, chord = false;
  QuadraticPredictor q;  // when quadratic
};

STRATA_HD inline Extrapolation extrapolation(int order, double dt, double dt_prev, double dt_prev2) {
  Extrapolation e;
  e.f = dt_prev > 0.0 ? dt / dt_prev : 0.0;
  e.quadratic = order == 2 && dt_prev > 0.0 && dt_prev2 > 0.0;
  if (e.quadratic) e.q = quadratic_predictor(dt, dt_prev, dt_prev2);
  return e;
}

// Entry k of the predictor: x0 receives the step's start value (x when shift, which
// first moves xold to xprev and x to xold, and for a differential entry of a BDF2
// shape xprev to xprev2; else xold); returns the extrapolation e before the range
// checks (the error estimate's reference).
template <class V>
STRATA_HD double extrapolate_entry(const DfnShape& S, const V& v, long k, bool shift, const Extrapolation& e,
                                   double& x0, bool differential = false) {
  const bool keeps_prev2 = differential && S.time_order == 2;
  double xp, xp2 = 0.0;
  if (shift) {
    x0 = v[S.o_x + k];
    xp = v[S.o_xold + k];
    if (keeps_prev2) {
      xp2 = v[S.o_xprev + k];
      v[S.o_xprev2 + k] = xp2;
    }
    v[S.o_xprev + k] = xp;
    v[S.o_xold + k] = x0;
  } else {
    x0 = v[S.o_xold + k];
    xp = e.chord ? v[S.o_x + k] : v[S.o_xprev + k];
    if (keeps_prev2 && e.quadratic) xp2 = v[S.o_xprev2 + k];
  }
  if (keeps_prev2 && e.quadratic) return e.q.at(x0, xp, xp2);
  return x0 + e.f * (x0 - xp);
}

// Guess for the step from xold to xold + dt: linear extrapolation through the
// previous accepted state when there is one, kept inside physical ranges; when x holds
// the converged state of an earlier attempt of length converged_len_s > 0 from the
// same start (the integrator passes it for the probes of an event bracket and the
// step that ends on the event, kernels/dfn_protocol.hpp), the chord through it
// instead, whose error is of order dt |converged_len_s - dt|: the probes of an event
// bracket close in on one length, and the chord then starts them next to the
// solution (bench_bilayer_3C: 3C charge's end, 5 iterations a probe with the
// extrapolation from xprev).
// With shift, x holds an accepted state that is not yet the start of a step: first
// xprev <- xold and xold <- x, in the same pass (one read of x and xold, where a copy
// of each and a predictor pass read them twice). The predictor overwrites all of x,
// so an attempt that is retried or probes the event bracket needs no copy of xold
// into x first. The guess is linear for BDF2 too: the quadratic through xprev2 (the
// error estimate's predictor) took more Newton iterations (bench_bilayer_3C: 5.97
// against 5.61 per step; Brown rate test: the same, 84,787 against 84,821 in all).
template <class V, class Team = SerialTeam>
STRATA_HD void predict_state(const DfnShape& S, const V& v, double dt, double dt_prev, bool shift,
                             double converged_len_s = 0.0, const Team& t = Team{}) {
  const long ox = S.o_x;
  Extrapolation e = extrapolation(/*order=*/1, dt, dt_prev, 0.0);
  // The chord reaches at most 1.5 times the converged length; between the start and
  // the converged state (f >= -1) it interpolates two physical states, and the range
  // checks below, meant for extrapolations, are left out.
  if (!shift && converged_len_s > 0.0 && dt <= 1.5 * converged_len_s) {
    e.chord = true;
    e.f = -dt / converged_len_s;
  }
  const bool clamp = !(e.chord && e.f >= -1.0);
  t.sync();  // every lane may still be reading x (the event function)
  for (int i = t.rank(); i < S.nx; i += t.size()) {
    double x0;
    const double ce = extrapolate_entry(S, v, S.s_ce() + i, shift, e, x0, /*differential=*/true);
    v[ox + S.s_ce() + i] = clamp && ce < 0.5 * x0 ? x0 : ce;
    v[ox + S.s_phie() + i] = extrapolate_entry(S, v, S.s_phie() + i, shift, e, x0);
    v[ox + S.s_phis() + i] = extrapolate_entry(S, v, S.s_phis() + i, shift, e, x0);
    if (i >= S.ne) continue;
    const int layer = S.cell_layer[i];
    for (int col = S.cell_first_col[i], s = S.layer_first_slot[layer]; col < S.cell_first_col[i + 1]; ++col, ++s) {
      const double cmax = v[S.o_slot + (long)kSlotParams * s + kSlotCmax_mol_m3];
      for (int r = 0; r < S.nr; ++r) {
        const long k = S.s_cs() + (long)col * S.nr + r;
        const double c = extrapolate_entry(S, v, k, shift, e, x0, /*differential=*/true);
        v[ox + k] = clamp && (c < 0.5 * x0 || c > cmax - 0.5 * (cmax - x0)) ? x0 : c;
      }
      v[ox + S.s_j() + col] = extrapolate_entry(S, v, S.s_j() + col, shift, e, x0);
    }
  }
  if (t.leader()) {
    double x0;
    v[ox + S.s_I()] = extrapolate_entry(S, v, S.s_I(), shift, e, x0);
  }
  t.sync();
}

// Local error of the accepted step of the given order and scheme, relative to the
// tolerance, from the converged state's distance to the predictor's extrapolation
// (before its range checks) on the concentrations (the differential unknowns), scaled
// by the initial electrolyte concentration and each particle's c_max:
//   order 1: Milne's estimate against the linear extrapolation;
//   order 2: Milne's estimate against the quadratic (both in kernels/time_scheme.hpp).
// dt_prev and dt_prev2: the two accepted steps before (0: none).
template <class V, class Team = SerialTeam>
STRATA_HD double error_ratio(const DfnShape& S, const V& v, int order, const ImplicitStep& ts, double dt,
                             double dt_prev, double dt_prev2, const Team& t = Team{}) {
  if (dt_prev <= 0.0) return 0.0;
  const Extrapolation ex = extrapolation(order, dt, dt_prev, dt_prev2);
  const double weight = ex.quadratic ? bdf2_error_weight(ts, dt, dt_prev, dt_prev2)
                                     : backward_euler_error_weight(dt, dt_prev);
  const double tol = v[S.o_scalar + kRelTol];
  const double inv_ce_scale = 1.0 / v[S.o_scalar + kCeInit_mol_m3];
  const long ox = S.o_x;
  double e = 0.0;
  for (int i = t.rank(); i < S.nx; i += t.size()) {
    const long k = S.s_ce() + i;
    double x0;
    e = max_num(e, fabs(v[ox + k] - extrapolate_entry(S, v, k, /*shift=*/false, ex, x0, true)) * inv_ce_scale);
  }
  for (int i = t.rank(); i < S.ne; i += t.size()) {
    const int layer = S.cell_layer[i];
    for (int col = S.cell_first_col[i], s = S.layer_first_slot[layer]; col < S.cell_first_col[i + 1]; ++col, ++s) {
      const double inv_cmax = 1.0 / v[S.o_slot + (long)kSlotParams * s + kSlotCmax_mol_m3];
      for (int r = 0; r < S.nr; ++r) {
        const long k = S.s_cs() + (long)col * S.nr + r;
        double x0;
        e = max_num(e, fabs(v[ox + k] - extrapolate_entry(S, v, k, /*shift=*/false, ex, x0, true)) * inv_cmax);
      }
    }
  }
  return weight * t.max(e) / tol;
}

// The event function of a step: negative before the event, >= 0 once reached.
template <class V>
STRATA_HD double event_value(const DfnShape& S, const V& v, const ProtocolStep& st, const ReferencePoint& ref,
                             double current_limit_A_m2) {
  switch (st.limit) {
    case LimitKind::VoltageAbove: return measured_potential_V(S, v, S.o_x, ref) - st.limit_value;
    case LimitKind::VoltageBelow: return st.limit_value - measured_potential_V(S, v, S.o_x, ref);
    case LimitKind::CurrentBelowAbsolute:
    case LimitKind::CurrentBelowFraction: return current_limit_A_m2 - fabs(v[S.o_x + S.s_I()]);
    default: return -1.0;
  }
}

template <class V>
STRATA_HD double event_tolerance(const DfnShape& S, const V& v, const ProtocolStep& st, double current_limit_A_m2) {
  if (st.limit == LimitKind::VoltageAbove || st.limit == LimitKind::VoltageBelow)
    return v[S.o_scalar + kVoltageTol_V];
  return 1e-4 * current_limit_A_m2;
}

// True when c_e in some cell, or at a metal counter electrode's face (c_L of
// counter_face_ratio at current_A_m2: the current the step asks for, which a state
// accepted before a failed first attempt may not carry yet), is below 1% of the
// initial concentration (the threshold of ElectrolyteDepleted; concentration
// overpotentials diverge as c_e -> 0).
template <class V>
STRATA_HD bool electrolyte_depleted(const DfnShape& S, const SharedTables& tab, const V& v, double current_A_m2) {
  const double floor = 0.01 * v[S.o_scalar + kCeInit_mol_m3];
  for (int i = 0; i < S.nx; ++i)
    if (!(v[S.o_x + S.s_ce() + i] >= floor)) return true;
  if (S.n_ctr == 0) {
    const int n = S.nx - 1;
    const double ce = v[S.o_x + S.s_ce() + n];
    const double ratio =
        counter_face_ratio(tab.data, tab.electrolyte, v[S.o_dx + n], v[S.o_trans + n], ce, current_A_m2);
    if (!(ratio * ce >= floor)) return true;
  }
  return false;
}

// Widens [lo, hi] to the c_e of every cell of the current state (x).
template <class V, class Team>
STRATA_HD void widen_ce_range(const DfnShape& S, const V& v, double& lo, double& hi, const Team& tm) {
  double l = lo, h = hi;
  for (int i = tm.rank(); i < S.nx; i += tm.size()) {
    const double c = v[S.o_x + S.s_ce() + i];
    l = min_num(l, c);
    h = max_num(h, c);
  }
  lo = tm.min(l);
  hi = tm.max(h);
}

// True when the outer shell of some particle in the electrode is within 1e-3 of an end
// of its stoichiometry window (0 or 1): the electrode is fully charged or discharged
// there, the exchange current (~ sqrt(x (1 - x))) vanishes and the current cannot be
// carried (the threshold of ParticleWindowExhausted; a charge run for a fixed time
// past full leaves the outer shells at x ~ 1e-11 to 5e-4).
template <class V>
STRATA_HD bool particle_window_exhausted(const DfnShape& S, const V& v) {
  for (int i = 0; i < S.ne; ++i) {
    const int layer = S.cell_layer[i];
    for (int col = S.cell_first_col[i], s = S.layer_first_slot[layer]; col < S.cell_first_col[i + 1]; ++col, ++s) {
      const long sp = S.o_slot + (long)kSlotParams * s;
      if (!(v[sp + kSlotVolumeFraction] > 0.0) || !(v[sp + kSlotCmax_mol_m3] > 0.0)) continue;  // padding, absent
      const double x = v[S.o_x + S.s_cs() + (long)col * S.nr + S.nr - 1] / v[sp + kSlotCmax_mol_m3];
      if (x < 1e-3 || x > 1.0 - 1e-3) return true;
    }
  }
  return false;
}

// True when c_e in some cell lies above the last point of a tabulated electrolyte
// property: beyond it the table is extended linearly (pchip.hpp), which can turn a
// falling conductivity or diffusivity negative.
template <class V>
STRATA_HD bool electrolyte_beyond_tables(const DfnShape& S, const SharedTables& tab, const V& v) {
  double c_max = 0.0;
  for (int i = 0; i < S.nx; ++i) c_max = max_num(c_max, v[S.o_x + S.s_ce() + i]);
  const ElectrolyteFns& e = tab.electrolyte;
  const PropertyFn* props[] = {&e.conductivity_S_m, &e.diffusivity_m2_s, &e.transference_number,
                               &e.thermodynamic_factor};
  for (const PropertyFn* p : props)
    if (p->table.n > 0 && c_max > tab.data[p->table.offset + p->table.n - 1]) return true;
  return false;
}

}  // namespace strata
