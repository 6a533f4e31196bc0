#pragma once
// The time integrator and the protocol state machine for one variant: adaptive
// backward Euler with a predictor-based error estimate, event location by
// regula falsi on the step length, and per-step records. Runs entirely on the
// device (or a CPU thread) with no host round-trip. A team of lanes may share a
// variant (kernels/team.hpp): loops over the state are split among the lanes, every
// lane keeps the same scalars (time, step length, counters), and values written once
// (misc counters, outputs, trajectories) are written by the leader.
#include <cmath>

#include "kernels/config.hpp"
#include "kernels/dfn_layout.hpp"
#include "kernels/dfn_newton.hpp"
#include "kernels/dfn_physics.hpp"
#include "kernels/materials.hpp"
#include "kernels/protocol_step.hpp"
#include "kernels/strided.hpp"
#include "kernels/team.hpp"
#include "kernels/trajectory.hpp"

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
constexpr int kMaxEventIterations = 40;
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
    const NewtonResult r = newton_step(S, tab, v, 1e-6, rest, ref, t);
    if (r.converged) return VariantStatus::Ok;
    if (r.not_finite) return VariantStatus::NotFinite;
    if (r.singular) return VariantStatus::LinearSolveFailed;
  }
  return VariantStatus::NewtonFailed;
}

// Guess for the step from xold to xold + dt: linear extrapolation through the
// previous accepted state when there is one, kept inside physical ranges.
template <class V, class Team = SerialTeam>
STRATA_HD void predict_state(const DfnShape& S, const V& v, double dt, double dt_prev, const Team& t = Team{}) {
  const long ox = S.o_x, oo = S.o_xold, op = S.o_xprev;
  const double f = dt_prev > 0.0 ? dt / dt_prev : 0.0;
  t.sync();
  for (long k = t.rank(); k < S.state_size; k += t.size()) v[ox + k] = v[oo + k] + f * (v[oo + k] - v[op + k]);
  t.sync();
  for (int i = t.rank(); i < S.nx; i += t.size()) {
    const long k = S.s_ce() + i;
    if (v[ox + k] < 0.5 * v[oo + k]) v[ox + k] = v[oo + k];
  }
  for (int i = t.rank(); i < S.ne; i += t.size()) {
    const int layer = S.cell_layer[i];
    for (int col = S.cell_first_col[i], s = S.layer_first_slot[layer]; col < S.cell_first_col[i + 1]; ++col, ++s) {
      const double cmax = v[S.o_slot + (long)kSlotParams * s + kSlotCmax_mol_m3];
      for (int r = 0; r < S.nr; ++r) {
        const long k = S.s_cs() + (long)col * S.nr + r;
        const double c = v[ox + k], c0 = v[oo + k];
        if (c < 0.5 * c0 || c > cmax - 0.5 * (cmax - c0)) v[ox + k] = c0;
      }
    }
  }
  t.sync();
}

// Local error of the accepted backward-Euler step, relative to the tolerance:
// LTE ~ dt/(dt + dt_prev) * (x - x_pred) on the concentrations (the differential
// unknowns), scaled by the initial electrolyte concentration and each particle's c_max.
template <class V, class Team = SerialTeam>
STRATA_HD double error_ratio(const DfnShape& S, const V& v, double dt, double dt_prev, const Team& t = Team{}) {
  if (dt_prev <= 0.0) return 0.0;
  const long ox = S.o_x, oo = S.o_xold, op = S.o_xprev;
  const double f = dt / dt_prev, w = dt / (dt + dt_prev);
  const double tol = v[S.o_scalar + kRelTol];
  const double ce_scale = v[S.o_scalar + kCeInit_mol_m3];
  double e = 0.0;
  for (int i = t.rank(); i < S.nx; i += t.size()) {
    const long k = S.s_ce() + i;
    const double pred = v[oo + k] + f * (v[oo + k] - v[op + k]);
    e = fmax(e, fabs(v[ox + k] - pred) / ce_scale);
  }
  for (int i = t.rank(); i < S.ne; i += t.size()) {
    const int layer = S.cell_layer[i];
    for (int col = S.cell_first_col[i], s = S.layer_first_slot[layer]; col < S.cell_first_col[i + 1]; ++col, ++s) {
      const double cmax = v[S.o_slot + (long)kSlotParams * s + kSlotCmax_mol_m3];
      for (int r = 0; r < S.nr; ++r) {
        const long k = S.s_cs() + (long)col * S.nr + r;
        const double pred = v[oo + k] + f * (v[oo + k] - v[op + k]);
        e = fmax(e, fabs(v[ox + k] - pred) / cmax);
      }
    }
  }
  return w * t.max(e) / tol;
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

// Attempts a step of length dt from the state at o_xold, with the predictor.
template <class V, class Team>
STRATA_HD NewtonResult attempt_step(const DfnShape& S, const SharedTables& tab, const V& v, double dt,
                                    double dt_prev, const StepControl& ctl, const ReferencePoint& ref, const Team& t) {
  predict_state(S, v, dt, dt_prev, t);
  return newton_step(S, tab, v, dt, ctl, ref, t);
}

// Recording of trajectories during a run (disabled: spec.enabled == 0).
template <class VT>
struct Recorder {
  const TrajectorySpec* spec = nullptr;
  TrajectoryLayout layout;
  VT record;
  int step = 0;  // protocol step index
  STRATA_HD bool on() const { return spec && spec->enabled; }
};

// Runs one protocol step. Returns false when the variant failed (status set).
// True when c_e in some cell is below 1% of the initial concentration (the
// threshold of ElectrolyteDepleted; concentration overpotentials diverge as c_e -> 0).
template <class V>
STRATA_HD bool electrolyte_depleted(const DfnShape& S, const V& v) {
  const double floor = 0.01 * v[S.o_scalar + kCeInit_mol_m3];
  for (int i = 0; i < S.nx; ++i)
    if (!(v[S.o_x + S.s_ce() + i] >= floor)) return true;
  return false;
}

template <class V, class VO, class VT, class Team = SerialTeam>
STRATA_HD bool run_protocol_step(const DfnShape& S, const SharedTables& tab, const V& v, const ProtocolStep& st,
                                 const VO& out, const Recorder<VT>& rec, const Team& tm = Team{}) {
  const ReferencePoint ref = locate_reference(S, v);
  const double one_c = v[S.o_scalar + kOneC_A_m2];
  StepControl ctl;
  if (st.kind == StepKind::ConstantCurrent) {
    ctl.current_A_m2 = st.use_c_rate ? st.c_rate * one_c : st.current_density_A_m2;
  } else if (st.kind == StepKind::ConstantVoltage) {
    ctl.fixed_voltage = true;
    ctl.voltage_V = st.voltage_V;
  }
  double current_limit = 0.0;
  if (st.limit == LimitKind::CurrentBelowAbsolute)
    current_limit = st.use_c_rate ? fabs(st.c_rate * one_c) : st.limit_value;
  const bool fraction_limit = st.limit == LimitKind::CurrentBelowFraction;
  const double duration = st.duration_s > 0.0 ? st.duration_s : 0.0;
  const double max_dt = v[S.o_scalar + kMaxStep_s];
  const long max_steps = (long)v[S.o_scalar + kMaxStepsPerProtocolStep];

  copy_state(S, v, S.o_x, S.o_xstep, tm);
  double t = 0.0, capacity = 0.0, charge = 0.0, energy = 0.0, dt = kFirstStep_s, dt_prev = 0.0;
  const double t_start = v[S.o_misc + kMiscTime_s];
  long steps = 0, newton = 0;
  StepEnd end = StepEnd::Duration;
  VariantStatus fail = VariantStatus::Ok;
  double g_old = -1.0;
  bool done = duration <= 0.0;

  while (!done) {
    double h = fmin(fmin(dt, max_dt), duration - t);
    bool last_by_time = (h >= duration - t);
    copy_state(S, v, S.o_x, S.o_xold, tm);
    NewtonResult nr = attempt_step(S, tab, v, h, dt_prev, ctl, ref, tm);
    newton += nr.iterations;
    if (!nr.converged) {
      copy_state(S, v, S.o_xold, S.o_x, tm);
      if (tm.leader()) v[S.o_misc + kMiscRejected] += 1.0;
      dt = 0.25 * h;
      if (dt < kMinStep_s) {
        fail = nr.not_finite ? VariantStatus::NotFinite
                             : (nr.singular ? VariantStatus::LinearSolveFailed : VariantStatus::NewtonFailed);
        break;
      }
      continue;
    }
    const double err = error_ratio(S, v, h, dt_prev, tm);
    if (err > 1.0) {
      copy_state(S, v, S.o_xold, S.o_x, tm);
      if (tm.leader()) v[S.o_misc + kMiscRejected] += 1.0;
      dt = h * fmax(0.2, 0.9 / sqrt(err));
      if (dt < kMinStep_s) { fail = VariantStatus::StepTooSmall; break; }
      continue;
    }
    if (steps == 0 && fraction_limit) current_limit = st.limit_value * fabs(v[S.o_x + S.s_I()]);
    double g_new = event_value(S, v, st, ref, current_limit);
    if (st.limit != LimitKind::None && g_new >= 0.0 && steps == 0 && h > kMinFirstStep_s) {
      // The event fired in the first step, where g(0) is not known: shorten the first
      // step until it does not, so the crossing is located like any other.
      copy_state(S, v, S.o_xold, S.o_x, tm);
      dt = fmax(0.1 * h, kMinFirstStep_s);
      continue;
    }
    if (st.limit != LimitKind::None && g_new >= 0.0) {
      if (steps == 0) {
        end = StepEnd::AtStart;
      } else {
        // Regula falsi (Illinois) on the step length: g(0) = g_old < 0 <= g(h).
        const double tol = event_tolerance(S, v, st, current_limit);
        double a = 0.0, ga = g_old, b = h, gb = g_new;
        int side = 0;
        for (int k = 0; k < kMaxEventIterations && fabs(gb) > tol && (b - a) > 1e-12 * h; ++k) {
          const double c = b - gb * (b - a) / (gb - ga);
          copy_state(S, v, S.o_xold, S.o_x, tm);
          const NewtonResult r2 = attempt_step(S, tab, v, c, dt_prev, ctl, ref, tm);
          newton += r2.iterations;
          if (!r2.converged) break;
          const double gc = event_value(S, v, st, ref, current_limit);
          if (gc >= 0.0) {
            b = c; gb = gc;
            if (side == 1) ga *= 0.5;
            side = 1;
          } else {
            a = c; ga = gc;
            if (side == -1) gb *= 0.5;
            side = -1;
          }
        }
        // Finish on the crossed side (b) so the limit is reached, never overshot by more than tol.
        copy_state(S, v, S.o_xold, S.o_x, tm);
        const NewtonResult r3 = attempt_step(S, tab, v, b, dt_prev, ctl, ref, tm);
        newton += r3.iterations;
        if (!r3.converged) { fail = VariantStatus::NewtonFailed; break; }
        h = b;
        end = fabs(gb) <= tol ? StepEnd::Limit : StepEnd::LimitUnlocated;
      }
      done = true;
      last_by_time = false;
    }
    // Accept.
    const double I = v[S.o_x + S.s_I()];
    const double V_end = measured_potential_V(S, v, S.o_x, ref);
    capacity += fabs(I) * h;
    charge += I * h;
    energy += V_end * I * h;
    t += h;
    ++steps;
    copy_state(S, v, S.o_xold, S.o_xprev, tm);
    dt_prev = h;
    g_old = event_value(S, v, st, ref, current_limit);
    if (last_by_time && !done) { done = true; end = StepEnd::Duration; }
    if (rec.on()) {
      // The first step of a protocol step (the jump) and its end are always sampled.
      if (tm.leader()) {
        record_sample(S, *rec.spec, rec.layout, v, rec.record, t_start + t, rec.step, V_end, capacity,
                      done || steps == 1);
        record_profiles(S, tab, *rec.spec, rec.layout, v, rec.record, rec.step, t, capacity, done, t_start + t);
      }
      tm.sync();  // the state is read until here
    }
    dt = h * (err > 0.0 ? fmin(3.0, fmax(0.2, 0.9 / sqrt(err))) : 2.0);
    if (steps >= max_steps && !done) { fail = VariantStatus::TooManySteps; break; }
  }

  if (fail != VariantStatus::Ok && fail != VariantStatus::TooManySteps && electrolyte_depleted(S, v)) {
    // A solver failure with the salt nearly exhausted somewhere (the last accepted
    // state) is reported as what it is: the cell cannot carry the current any more.
    fail = VariantStatus::ElectrolyteDepleted;
  }
  if (tm.leader()) {  // every lane holds the same values; one writes them
    v[S.o_misc + kMiscTime_s] += t;
    v[S.o_misc + kMiscNewtonIters] += (double)newton;
    v[S.o_misc + kMiscTimeSteps] += (double)steps;
    out[kOutCapacity_C_m2] = capacity;
    out[kOutCharge_C_m2] = charge;
    out[kOutEnergy_J_m2] = energy;
    out[kOutEndPotential_V] = measured_potential_V(S, v, S.o_x, ref);
    out[kOutEndCurrent_A_m2] = v[S.o_x + S.s_I()];
    out[kOutDuration_s] = t;
    out[kOutTimeSteps] = (double)steps;
    out[kOutNewtonIterations] = (double)newton;
    out[kOutEndReason] = (double)(fail == VariantStatus::Ok ? end : StepEnd::Failed);
    for (int s = 0; s < S.n_slots; ++s)
      out[kStepOutFields + s] =
          kFaraday_C_mol * (slot_sodium_mol_m2(S, v, S.o_xstep, s) - slot_sodium_mol_m2(S, v, S.o_x, s));
    if (fail != VariantStatus::Ok) v[S.o_misc + kMiscStatus] = (double)fail;
  }
  tm.sync();
  return fail == VariantStatus::Ok;
}

// One protocol step without recording.
template <class V, class VO>
STRATA_HD bool run_protocol_step(const DfnShape& S, const SharedTables& tab, const V& v, const ProtocolStep& st,
                                 const VO& out) {
  const Recorder<VO> none{};
  return run_protocol_step(S, tab, v, st, out, none);
}

// Runs a whole protocol on one variant. out holds n_steps records of
// step_out_size(S) values; steps after a failure keep StepEnd::NotRun. When the
// trajectory spec is enabled, traj receives the variant's trajectory record.
// Every lane of the team tm calls it with the same arguments.
template <class V, class VO, class VT, class Team = SerialTeam>
STRATA_HD void run_protocol(const DfnShape& S, const SharedTables& tab, const V& v, const ProtocolStep* steps,
                            int n_steps, const VO& out, const TrajectorySpec& ts, const VT& traj,
                            const Team& tm = Team{}) {
  Recorder<VT> rec;
  rec.spec = &ts;
  rec.layout = trajectory_layout_of(S, ts);
  rec.record = traj;
  const int n_out = step_out_size(S);
  for (int k = tm.rank(); k < n_steps * n_out; k += tm.size()) out[k] = 0.0;
  if (rec.on() && tm.leader()) traj[rec.layout.o_count] = 0.0;
  if (v[S.o_misc + kMiscStatus] != 0.0) return;  // rejected before the run
  const VariantStatus init = initialize_state(S, tab, v, tm);
  if (init != VariantStatus::Ok) {
    if (tm.leader()) v[S.o_misc + kMiscStatus] = (double)init;
    return;
  }
  if (rec.on()) {
    if (tm.leader()) {
      for (long k = 0; k < rec.layout.record_size; ++k) traj[k] = 0.0;
      traj[rec.layout.o_interval] = ts.interval_s;
      record_sample(S, ts, rec.layout, v, traj, 0.0, 0, measured_potential_V(S, v, S.o_x, locate_reference(S, v)),
                    0.0, true);
    }
    tm.sync();
  }
  for (int k = 0; k < n_steps; ++k) {
    rec.step = k;
    if (!run_protocol_step(S, tab, v, steps[k], out.at((long)k * n_out), rec, tm)) return;
    if (tm.leader()) v[S.o_misc + kMiscStepsDone] = k + 1.0;
  }
}

// Without trajectories.
template <class V, class VO>
STRATA_HD void run_protocol(const DfnShape& S, const SharedTables& tab, const V& v, const ProtocolStep* steps,
                            int n_steps, const VO& out) {
  const TrajectorySpec off{};
  run_protocol(S, tab, v, steps, n_steps, out, off, out);
}

}  // namespace strata
