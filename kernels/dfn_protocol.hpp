#pragma once
// The time integrator and the protocol state machine for one variant: adaptive
// backward Euler, or BDF2 from the third step of each protocol step on
// (kernels/time_scheme.hpp), with a predictor-based error estimate, event location by
// regula falsi on the step length, and per-step records. Runs entirely on the
// device (or a CPU thread) with no host round-trip. A team of lanes may share a
// variant (kernels/team.hpp): every lane keeps the same scalars (time, step length,
// counters), and values written once (misc counters, outputs, trajectories) are
// written by the leader.
//
// The loop is flat. An attempt is the predictor and a Newton solve at some step
// length; when it ends, its bookkeeping (reject and shrink, accept, move the event
// bracket, end the protocol step and start the next) sets up the next attempt. Each
// pass of the loop runs one unit of Newton work (PassUnit): a whole attempt, or one
// Newton iteration. Nested loops (protocol steps > time steps > event location >
// Newton iterations) would be the same arithmetic, but on a GPU the 32 variants of a
// warp run them in lockstep by loop index: a variant locating its event, or starting
// its next protocol step, makes the other 31 wait at the end of that inner loop. In a
// flat loop, variants at different places in their protocols share the Newton work of
// each pass. The order of operations per variant is the same for every pass unit, and
// so is every bit (docs/performance.md, divergence).
#include <cmath>

#include "kernels/config.hpp"
#include "kernels/dfn_layout.hpp"
#include "kernels/dfn_newton.hpp"
#include "kernels/dfn_physics.hpp"
#include "kernels/dfn_step.hpp"
#include "kernels/pass_unit.hpp"
#include "kernels/protocol_step.hpp"
#include "kernels/strided.hpp"
#include "kernels/team.hpp"
#include "kernels/time_scheme.hpp"
#include "kernels/trajectory.hpp"

namespace strata {

// Recording of trajectories during a run (disabled: spec.enabled == 0).
template <class VT>
struct Recorder {
  const TrajectorySpec* spec = nullptr;
  TrajectoryLayout layout;
  VT record;
  int step = 0;  // protocol step index
  STRATA_HD bool on() const { return spec && spec->enabled; }
};

// What the next attempt of a protocol step is for.
enum class AttemptKind : int {
  Step = 0,    // an ordinary time step of length h from the last accepted state
  Locate = 1,  // a regula-falsi probe of the event bracket, length c
  Finish = 2,  // the step that ends on the crossed side of the event, length b
};

// Every attempt of one variant's run, in order (for tools that model how the
// variants of a warp keep in step: strata_bench). Arrays of `capacity` entries owned
// by the caller; `count` keeps counting past the capacity.
struct AttemptLog {
  int* protocol_step = nullptr;
  int* kind = nullptr;  // AttemptKind
  int* newton_iterations = nullptr;
  long capacity = 0;
  long count = 0;
  STRATA_HD void add(int step, int attempt_kind, int iterations) {
    if (count < capacity) {
      protocol_step[count] = step;
      kind[count] = attempt_kind;
      newton_iterations[count] = iterations;
    }
    ++count;
  }
};

// Increments of a protocol step's integrals over one time step (C/m2, C/m2, J/m2).
struct StepIntegrals {
  double capacity = 0.0, charge = 0.0, energy = 0.0;
};

// Everything the integrator carries through one protocol step (the same on every lane).
struct StepRun {
  const ProtocolStep* st = nullptr;
  ReferencePoint ref;
  StepControl ctl;
  double current_limit = 0.0;  // A/m2, of the current limits
  bool fraction_limit = false;
  double duration_s = 0.0, max_dt_s = 0.0, t_start_s = 0.0;
  long max_steps = 0;
  // Progress and the step's integrals.
  double t_s = 0.0, capacity = 0.0, charge = 0.0, energy = 0.0;
  double ce_min = 1e300, ce_max = -1e300;  // mol/m3, over the start and accepted states
  double dt_s = kFirstStep_s, dt_prev_s = 0.0, dt_prev2_s = 0.0, g_old = -1.0;
  // The last accepted step with an error estimate, for the predictive step controller
  // (predictive_step_factor): its length and error ratio (floored); 0: none yet.
  double h_acc_s = 0.0, err_acc = 0.0;
  StepIntegrals last_inc;  // the last accepted step's increments (BDF2's history)
  long steps = 0, newton = 0;
  StepEnd end = StepEnd::Duration;
  VariantStatus fail = VariantStatus::Ok;
  bool done = false;
  // The attempt in progress: what for, its length, its Newton solve.
  AttemptKind kind = AttemptKind::Step;
  double h_s = 0.0, err = 0.0, length_s = 0.0;
  int order = 1;     // of the attempt: 2 with a BDF2 shape once two steps of this protocol step are accepted
  ImplicitStep ts;   // the attempt's scheme at length_s
  bool last_by_time = false;
  // x holds an accepted state that the next attempt starts from (shifted into xold
  // by the predictor): true at the start of a protocol step and after each accept.
  bool shift = true;
  // Otherwise, the length of the attempt whose converged state x holds (the step
  // that crossed the event, a probe of its bracket), which the predictor's chord
  // starts the next probe from; 0: x holds none.
  double x_len_s = 0.0;
  bool chord_guess = false;  // the attempt in progress started from the chord
  // The next ordinary step's Newton solve applies the contraction test: not in the
  // retry after the test stopped one (it runs to convergence or the iteration cap,
  // as every attempt did before the test), nor in the event bracket's probes and
  // end step (lengths at which the crossing step converged).
  bool contraction_test = true;
  NewtonProgress newton_progress;
  // Event bracket on the step length: g(a) < 0 <= g(b); the limit is located once a
  // probe's g lies in [0, tol] (gb_seen, g(b) as evaluated, decides). The search aims
  // at the middle of that band, g = kEventAim tol, so that a probe within tol/2 of
  // its aim ends it, from either side: fa, fb are g - aim at a and b; ga and gb the
  // regula falsi's weights (the Illinois rule halves one of them); (d, fd) the end
  // the bracket dropped last (once a probe has narrowed it), for inverse quadratic
  // interpolation; same_side the probes in a row that moved the same end.
  double a = 0.0, ga = 0.0, b = 0.0, gb = 0.0, gb_seen = 0.0, tol = 0.0;
  double fa = 0.0, fb = 0.0, d = 0.0, fd = 0.0;
  int side = 0, probes = 0, same_side = 0;
  // A probe whose Newton solve failed tells neither side: the next probe goes halfway
  // from a toward it (failed_c, 0: none since the last converged probe).
  double failed_c = 0.0;
  int failed_probes = 0;

  STRATA_HD bool over() const { return done || fail != VariantStatus::Ok; }
  // Ends the protocol step on its limit (not on its duration), with reason e.
  STRATA_HD void end_on_limit(StepEnd e) {
    end = e;
    done = true;
    last_by_time = false;
  }
  // The order of the next attempt: BDF2 once two steps of this protocol step are
  // accepted (its history then lies after the step's jump), else backward Euler.
  STRATA_HD int next_order(const DfnShape& S) const { return S.time_order == 2 && steps >= 2 ? 2 : 1; }
  STRATA_HD bool keep_locating() const {
    return probes < kMaxEventIterations && fabs(gb_seen) > tol && (b - a) > 1e-12 * h_s;
  }
  // Opens the bracket [0, h] of a step whose end crossed the event: g(0) = g0 < 0 <= gh
  // (tol set before).
  STRATA_HD void open_bracket(double h, double g0, double gh) {
    const double aim = kEventAim * tol;
    a = 0.0;
    fa = ga = g0 - aim;
    b = h;
    gb_seen = gh;
    fb = gb = gh - aim;
    side = 0;
    probes = 0;
    same_side = 0;
    failed_c = 0.0;
    failed_probes = 0;
  }
  // Narrows the bracket by a converged probe at length c with event value gc
  // (Illinois: an end kept twice in a row has the other's weight halved).
  STRATA_HD void narrow_bracket(double c, double gc) {
    const double fc = gc - kEventAim * tol;
    same_side = (gc >= 0.0) == (side == 1) && side != 0 ? same_side + 1 : 1;
    if (gc >= 0.0) {
      d = b;
      fd = fb;
      b = c;
      gb_seen = gc;
      fb = gb = fc;
      if (side == 1) ga *= 0.5;
      side = 1;
    } else {
      d = a;
      fd = fa;
      a = c;
      fa = ga = fc;
      if (side == -1) gb *= 0.5;
      side = -1;
    }
    ++probes;
    failed_c = 0.0;
  }
  // Records a probe at length c whose Newton solve failed; false when the search
  // should give up: this was the kMaxFailedEventProbes-th failure (until 2026-12-07
  // the search went on to one more than that), or the bracket below a has closed.
  STRATA_HD bool probe_failed(double c) {
    failed_c = c;
    return ++failed_probes < kMaxFailedEventProbes && (c - a) > 1e-12 * h_s;
  }
  // Length of the next probe: the inverse quadratic through (a, fa), (b, fb) and
  // (d, fd) where there are three points and it falls inside the bracket, else the
  // regula falsi (Illinois) point. On the benchmark's 3C charges the two take 2.6
  // probes a charge, against 5.3 for the regula falsi aimed at g = 0. After two
  // probes in a row on the same side the interpolants are stuck there (an
  // exponential wall, where g spans decades across the bracket: the regula falsi
  // needed more than 40 probes on exp(20 (c - 1)) over [0, 2]), and the bracket is
  // bisected; the charges above never get there.
  STRATA_HD double probe_length() const {
    if (failed_c > 0.0) return 0.5 * (a + failed_c);
    if (same_side >= 2) return 0.5 * (a + b);
    const double falsi = b - gb * (b - a) / (gb - ga);
    if (probes == 0 || fa == fb || fa == fd || fb == fd) return falsi;
    const double x = a * fb * fd / ((fa - fb) * (fa - fd)) + b * fa * fd / ((fb - fa) * (fb - fd)) +
                     d * fa * fb / ((fd - fa) * (fd - fb));
    return x > a && x < b ? x : falsi;
  }
};

// Starts protocol step st from the current state.
template <class V, class Team>
STRATA_HD void begin_protocol_step(const DfnShape& S, const V& v, const ProtocolStep& st, StepRun& r,
                                   const Team& tm) {
  r = StepRun{};
  r.st = &st;
  r.ref = locate_reference(S, v);
  const double one_c = v[S.o_scalar + kOneC_A_m2];
  if (st.kind == StepKind::ConstantCurrent) {
    r.ctl.current_A_m2 = st.use_c_rate ? st.c_rate * one_c : st.current_density_A_m2;
  } else if (st.kind == StepKind::ConstantVoltage) {
    r.ctl.fixed_voltage = true;
    r.ctl.voltage_V = st.voltage_V;
  }
  if (st.limit == LimitKind::CurrentBelowAbsolute)
    r.current_limit = st.use_c_rate ? fabs(st.c_rate * one_c) : st.limit_value;
  r.fraction_limit = st.limit == LimitKind::CurrentBelowFraction;
  r.duration_s = st.duration_s > 0.0 ? st.duration_s : 0.0;
  r.max_dt_s = v[S.o_scalar + kMaxStep_s];
  r.max_steps = (long)v[S.o_scalar + kMaxStepsPerProtocolStep];
  copy_state(S, v, S.o_x, S.o_xstep, tm);
  widen_ce_range(S, v, r.ce_min, r.ce_max, tm);
  r.t_start_s = v[S.o_misc + kMiscTime_s];
  r.done = r.duration_s <= 0.0;
}

// Sets up the next attempt: its step length, the state it starts from (xold: the
// last accepted state), the predictor's guess, a fresh Newton solve.
template <class V, class Team>
STRATA_HD void start_attempt(const DfnShape& S, const V& v, StepRun& r, const Team& tm) {
  switch (r.kind) {
    case AttemptKind::Step:
      r.h_s = fmin(fmin(r.dt_s, r.max_dt_s), r.duration_s - r.t_s);
      r.last_by_time = (r.h_s >= r.duration_s - r.t_s);
      r.length_s = r.h_s;
      break;
    case AttemptKind::Locate:
      r.length_s = r.probe_length();
      break;
    default:
      r.length_s = r.b;
      break;
  }
  r.order = r.next_order(S);
  r.ts = implicit_step(r.order, r.length_s, r.dt_prev_s);
  r.ctl.max_contraction =
      r.kind == AttemptKind::Step && r.contraction_test ? v[S.o_scalar + kNewtonMaxContraction] : kContractionTestOff;
  // Ordinary steps keep the extrapolation, also when retried after a rejection:
  // there the converged state can lie past a sharp turn (a particle surface filling
  // at the end of a discharge), and the chord through it failed where the
  // extrapolation converges.
  if (r.kind == AttemptKind::Step) r.x_len_s = 0.0;
  r.chord_guess = !r.shift && r.x_len_s > 0.0;
  predict_state(S, v, r.length_s, r.dt_prev_s, r.shift, r.x_len_s, tm);
  r.shift = false;
  r.x_len_s = 0.0;  // until this attempt converges
  r.newton_progress = NewtonProgress{};
  // The two attempts whose guess can lie volts from the solution (dfn_newton.hpp): the
  // first step of a protocol step, from the state before the jump, and a trial of the
  // event bracket, which can land on a cliff (the NVPF discharges fall from 2.7 V
  // through their 2.03 V cut-off within one step).
  r.ctl.max_iterations = (r.kind == AttemptKind::Step && r.steps == 0) || r.kind == AttemptKind::Locate
                             ? kMaxFarGuessNewtonIterations
                             : kMaxNewtonIterations;
}

// A rejected attempt leaves its iterate in x (the next predictor overwrites it); a
// variant that fails there ends on its last accepted state.
template <class V, class Team>
STRATA_HD void end_on_accepted_state(const DfnShape& S, const V& v, const StepRun& r, const Team& tm) {
  if (r.fail != VariantStatus::Ok) copy_state(S, v, S.o_xold, S.o_x, tm);
}

// Rejects the attempt: the next one is dt_s long, or the variant fails with
// too_short when dt_s is below the smallest step.
template <class V, class Team>
STRATA_HD void reject_attempt(const DfnShape& S, const V& v, StepRun& r, double dt_s, VariantStatus too_short,
                              const Team& tm) {
  if (tm.leader()) v[S.o_misc + kMiscRejected] += 1.0;
  r.dt_s = dt_s;
  if (r.dt_s < kMinStep_s) r.fail = too_short;
  end_on_accepted_state(S, v, r, tm);
}

// Takes the state of a converged attempt of length r.h_s as the next accepted step.
template <class V, class VT, class Team>
STRATA_HD void accept_step(const DfnShape& S, const SharedTables& tab, const V& v, StepRun& r,
                           const Recorder<VT>& rec, const Team& tm) {
  const double h = r.h_s;
  const double I = v[S.o_x + S.s_I()];
  const double V_end = measured_potential_V(S, v, S.o_x, r.ref);
  // The step's integrals by the step's own scheme applied to Q' = |I|, I, V I
  // (time_scheme.hpp): h I for backward Euler; beta dQ_prev + h_eff I for BDF2, which
  // is what moved the sodium, so that the charge matches the states exactly.
  const StepIntegrals inc{step_increment(r.ts, r.last_inc.capacity, fabs(I)), step_increment(r.ts, r.last_inc.charge, I),
                          step_increment(r.ts, r.last_inc.energy, V_end * I)};
  r.capacity += inc.capacity;
  r.charge += inc.charge;
  r.energy += inc.energy;
  r.last_inc = inc;
  r.t_s += h;
  ++r.steps;
  widen_ce_range(S, v, r.ce_min, r.ce_max, tm);
  r.shift = true;
  r.dt_prev2_s = r.dt_prev_s;
  r.dt_prev_s = h;
  r.g_old = event_value(S, v, *r.st, r.ref, r.current_limit);
  if (r.last_by_time && !r.done) {
    r.done = true;
    r.end = StepEnd::Duration;
  }
  if (rec.on()) {
    // The first step of a protocol step (the jump) and its end are always sampled;
    // after the first step, the samples due within a step are interpolated between
    // the accepted states (xold, xprev: not yet shifted).
    if (tm.leader()) {
      if (r.steps >= 2) {
        StepSpan span;
        span.t1_s = r.t_start_s + r.t_s;
        span.t0_s = span.t1_s - h;
        span.quadratic = r.steps >= 3;  // xprev is after the protocol step's first step too
        span.t_m1_s = span.t0_s - r.dt_prev2_s;
        for (int k = span.first_point(); k < 3; ++k) {
          span.current_A_m2[k] = v[span_state_offset(S, k) + S.s_I()];
          span.potential_V[k] = k == 2 ? V_end : measured_potential_V(S, v, span_state_offset(S, k), r.ref);
        }
        span.capacity0_C_m2 = r.capacity - inc.capacity;
        span.capacity1_C_m2 = r.capacity;
        record_within_step(S, *rec.spec, rec.layout, v, rec.record, rec.step, span);
      }
      record_sample(S, *rec.spec, rec.layout, v, rec.record, r.t_start_s + r.t_s, rec.step, V_end, r.capacity,
                    r.done || r.steps == 1);
      record_profiles(S, tab, *rec.spec, rec.layout, v, rec.record, rec.step, r.t_s, r.capacity, r.done,
                      r.t_start_s + r.t_s);
    }
    tm.sync();  // the state is read until here
  }
  // The next step's growth: at most 2x when it is a BDF2 step (zero stability).
  const double max_growth = r.next_order(S) == 2 ? kMaxGrowthBdf2 : kMaxGrowthBackwardEuler;
  if (r.err > 0.0) {
    r.dt_s = h * predictive_step_factor(r.order, r.err, max_growth, h, r.h_acc_s, r.err_acc);
    if (v[S.o_scalar + kPredictiveStepControl] != 0.0) {  // else no history: step_factor
      r.h_acc_s = h;
      r.err_acc = fmax(r.err, kAcceptedErrorFloor);
    }
  } else {
    r.dt_s = 2.0 * h;  // no estimate yet (the first step of a protocol step)
  }
  if (r.steps >= r.max_steps && !r.done) r.fail = VariantStatus::TooManySteps;
}

// The end sample and end profiles of a protocol step that ends on its last accepted
// state (x) without a step of its own (a voltage wall, below), as accept_step records
// them at a step's end; the sample only when that state's own is not the last one,
// which is then kept from thinning like any step's end.
template <class V, class VT, class Team>
STRATA_HD void record_end_on_accepted_state(const DfnShape& S, const SharedTables& tab, const V& v, const StepRun& r,
                                            const Recorder<VT>& rec, const Team& tm) {
  if (!rec.on()) return;
  if (tm.leader()) {
    const double t = r.t_start_s + r.t_s;
    if (rec.record[rec.layout.o_count] == 0.0 || rec.record[rec.layout.o_last] != t)
      record_sample(S, *rec.spec, rec.layout, v, rec.record, t, rec.step, measured_potential_V(S, v, S.o_x, r.ref),
                    r.capacity, true);
    else
      keep_last_sample(rec.layout, rec.record);
    record_profiles(S, tab, *rec.spec, rec.layout, v, rec.record, rec.step, r.t_s, r.capacity, true, t);
  }
  tm.sync();
}

// True when an ordinary step's Newton solve that failed at length h, whose retry
// would be below the smallest step, has met a voltage wall: its last iterate (in x)
// lies past the step's voltage limit. At the end of a particle's window the potential
// collapses (or shoots up, on charge) within microseconds: no step across the
// collapse converges, and the limit lies within less than the smallest step of the
// last accepted state (the NVPF cell of the PyBaMM comparison discharged at 3C, rtol
// 1e-5: test DfnFullParticle.NvpfThreeCDischargeEndsAtTheWallOfItsCutOff;
// docs/physics.md 6).
template <class V>
STRATA_HD bool failed_at_voltage_wall(const DfnShape& S, const V& v, const StepRun& r, double retry_s) {
  const LimitKind k = r.st->limit;
  if (retry_s >= kMinStep_s || r.steps == 0 || (k != LimitKind::VoltageAbove && k != LimitKind::VoltageBelow))
    return false;
  const double g = event_value(S, v, *r.st, r.ref, r.current_limit);
  return g >= 0.0 && is_finite(g);
}

// The bookkeeping of an ordinary time step's attempt.
template <class V, class VT, class Team>
STRATA_HD void after_step_attempt(const DfnShape& S, const SharedTables& tab, const V& v, const NewtonResult& nr,
                                  StepRun& r, const Recorder<VT>& rec, const Team& tm) {
  const ProtocolStep& st = *r.st;
  const double h = r.h_s;
  r.contraction_test = !nr.slow;
  if (!nr.converged) {
    // A Newton solve that stopped converging at this length (the contraction test)
    // retries at half of it; a hard failure (no convergence in the iteration cap, a
    // singular block, a NaN) at a quarter. At a voltage wall the step ends on its last
    // accepted state instead of failing (LimitUnlocated: the limit lies within the
    // smallest step of it, not located to tolerance).
    const double retry_s = (nr.slow ? kSlowNewtonStepFactor : 0.25) * h;
    if (!nr.not_finite && failed_at_voltage_wall(S, v, r, retry_s)) {
      if (tm.leader()) v[S.o_misc + kMiscRejected] += 1.0;
      copy_state(S, v, S.o_xold, S.o_x, tm);
      r.end_on_limit(StepEnd::LimitUnlocated);
      record_end_on_accepted_state(S, tab, v, r, rec, tm);
      return;
    }
    reject_attempt(S, v, r, retry_s,
                   nr.not_finite ? VariantStatus::NotFinite
                                 : (nr.singular ? VariantStatus::LinearSolveFailed : VariantStatus::NewtonFailed),
                   tm);
    return;
  }
  r.err = error_ratio(S, v, r.order, r.ts, h, r.dt_prev_s, r.dt_prev2_s, tm);
  if (r.err > 1.0) {
    reject_attempt(S, v, r, h * step_factor(r.order, r.err, 1.0), VariantStatus::StepTooSmall, tm);
    return;
  }
  if (r.steps == 0 && r.fraction_limit) r.current_limit = st.limit_value * fabs(v[S.o_x + S.s_I()]);
  const double g_new = event_value(S, v, st, r.ref, r.current_limit);
  if (st.limit != LimitKind::None && g_new >= 0.0) {
    if (r.steps == 0 && h > kMinFirstStep_s) {
      // The event fired in the first step, where g(0) is not known: shorten the first
      // step until it does not, so the crossing is located like any other.
      r.dt_s = fmax(0.1 * h, kMinFirstStep_s);
      return;
    }
    if (r.steps > 0) {
      // Locate the crossing on the step length: g(0) = g_old < 0 <= g(h).
      r.tol = event_tolerance(S, v, st, r.current_limit);
      r.open_bracket(h, r.g_old, g_new);
      r.kind = r.keep_locating() ? AttemptKind::Locate : AttemptKind::Finish;
      return;
    }
    r.end_on_limit(StepEnd::AtStart);
  }
  accept_step(S, tab, v, r, rec, tm);
}

// The bookkeeping of a probe of the event bracket at length c = r.length_s.
template <class V>
STRATA_HD void after_locate_attempt(const DfnShape& S, const V& v, const NewtonResult& nr, StepRun& r) {
  const double c = r.length_s;
  if (nr.converged) r.narrow_bracket(c, event_value(S, v, *r.st, r.ref, r.current_limit));
  // Finish on the crossed side (b) so the limit is reached, never overshot by more than tol.
  if (nr.converged ? !r.keep_locating() : !r.probe_failed(c)) r.kind = AttemptKind::Finish;
}

// The bookkeeping of the step that ends on the event.
template <class V, class VT, class Team>
STRATA_HD void after_finish_attempt(const DfnShape& S, const SharedTables& tab, const V& v, const NewtonResult& nr,
                                    StepRun& r, const Recorder<VT>& rec, const Team& tm) {
  if (!nr.converged) {
    // b converged before from the same state, but possibly only from the chord
    // through a probe whose state is gone: retried as an ordinary step of a quarter
    // of b (from the extrapolation), which locates the crossing again; each such
    // retry is 4x shorter, down to the smallest step.
    r.kind = AttemptKind::Step;
    reject_attempt(S, v, r, 0.25 * r.b, VariantStatus::NewtonFailed, tm);
    return;
  }
  r.h_s = r.b;
  r.end_on_limit(fabs(r.gb_seen) <= r.tol ? StepEnd::Limit : StepEnd::LimitUnlocated);
  r.kind = AttemptKind::Step;
  accept_step(S, tab, v, r, rec, tm);
}

// Writes the protocol step's outputs; false when the variant failed in it (status set).
template <class V, class VO, class Team>
STRATA_HD bool end_protocol_step(const DfnShape& S, const SharedTables& tab, const V& v, StepRun& r, const VO& out,
                                 const Team& tm) {
  if (r.fail != VariantStatus::Ok && r.fail != VariantStatus::TooManySteps) {
    // A solver failure is reported as what it is when the last accepted state shows
    // the cause: the salt nearly exhausted somewhere (the cell cannot carry the
    // current any more), c_e beyond the electrolyte's property tables, or a particle
    // emptied or filled to the end of its window (a charge or discharge past full).
    if (electrolyte_depleted(S, tab, v, r.ctl.fixed_voltage ? v[S.o_x + S.s_I()] : r.ctl.current_A_m2))
      r.fail = VariantStatus::ElectrolyteDepleted;
    else if (electrolyte_beyond_tables(S, tab, v))
      r.fail = VariantStatus::ElectrolyteBeyondTables;
    else if (particle_window_exhausted(S, v))
      r.fail = VariantStatus::ParticleWindowExhausted;
  }
  if (tm.leader()) {  // every lane holds the same values; one writes them
    v[S.o_misc + kMiscTime_s] += r.t_s;
    v[S.o_misc + kMiscNewtonIters] += (double)r.newton;
    v[S.o_misc + kMiscTimeSteps] += (double)r.steps;
    out[kOutCapacity_C_m2] = r.capacity;
    out[kOutCharge_C_m2] = r.charge;
    out[kOutEnergy_J_m2] = r.energy;
    out[kOutEndPotential_V] = measured_potential_V(S, v, S.o_x, r.ref);
    out[kOutEndCurrent_A_m2] = v[S.o_x + S.s_I()];
    out[kOutDuration_s] = r.t_s;
    out[kOutTimeSteps] = (double)r.steps;
    out[kOutNewtonIterations] = (double)r.newton;
    out[kOutEndReason] = (double)(r.fail == VariantStatus::Ok ? r.end : StepEnd::Failed);
    out[kOutMinCe_mol_m3] = r.ce_min;
    out[kOutMaxCe_mol_m3] = r.ce_max;
    for (int s = 0; s < S.n_slots; ++s)
      out[kStepOutFields + s] =
          kFaraday_C_mol * (slot_sodium_mol_m2(S, v, S.o_xstep, s) - slot_sodium_mol_m2(S, v, S.o_x, s));
    if (r.fail != VariantStatus::Ok) v[S.o_misc + kMiscStatus] = (double)r.fail;
  }
  tm.sync();
  return r.fail == VariantStatus::Ok;
}

// Runs protocol steps 0 .. n_steps-1 from the current state, one Unit of Newton
// work per pass (see the top of this file). out holds n_steps records of
// step_out_size(S) values; steps after a failure are left as they were. Returns false
// when the variant failed. log, when given, receives every attempt.
template <PassUnit Unit = PassUnit::Attempt, class V, class VO, class VT, class Team = SerialTeam>
STRATA_HD bool run_protocol_steps(const DfnShape& S, const SharedTables& tab, const V& v, const ProtocolStep* steps,
                                  int n_steps, const VO& out, Recorder<VT>& rec, const Team& tm = Team{},
                                  AttemptLog* log = nullptr) {
  const int n_out = step_out_size(S);
  StepRun r;
  int k = 0;
  if (n_steps <= 0) return true;
  rec.step = 0;
  begin_protocol_step(S, v, steps[0], r, tm);
  if (!r.over()) start_attempt(S, v, r, tm);
  for (;;) {
    if (!r.over()) {
      NewtonResult nr;
      if constexpr (Unit == PassUnit::NewtonIteration) {
        const NewtonIterate last = newton_iteration(S, tab, v, r.ts, r.ctl, r.ref, r.newton_progress, tm);
        if (!newton_finished(last, r.newton_progress, r.ctl)) continue;
        nr = newton_result(last, r.newton_progress);
      } else {
        nr = newton_step(S, tab, v, r.ts, r.ctl, r.ref, tm);
      }
      r.newton += nr.iterations;
      if (log && tm.leader()) log->add(k, (int)r.kind, nr.iterations);
      if (nr.converged) r.x_len_s = r.length_s;  // the next predictor's chord (unless accepted)
      if (!nr.converged && r.chord_guess) {
        // The chord can be a poor guess where the solution turns sharply within the
        // step (a particle surface filling at the end of a discharge): the same
        // attempt again from the extrapolation of the accepted states before it counts
        // as failed.
        start_attempt(S, v, r, tm);
        continue;
      }
      switch (r.kind) {
        case AttemptKind::Step: after_step_attempt(S, tab, v, nr, r, rec, tm); break;
        case AttemptKind::Locate: after_locate_attempt(S, v, nr, r); break;
        default: after_finish_attempt(S, tab, v, nr, r, rec, tm); break;
      }
      if (!r.over()) {
        start_attempt(S, v, r, tm);
        continue;
      }
    }
    if (!end_protocol_step(S, tab, v, r, view_from(out, (long)k * n_out), tm)) return false;
    if (tm.leader()) v[S.o_misc + kMiscStepsDone] = k + 1.0;
    if (++k == n_steps) return true;
    rec.step = k;
    begin_protocol_step(S, v, steps[k], r, tm);
    if (!r.over()) start_attempt(S, v, r, tm);
  }
}

// One protocol step from the current state, without recording. Returns false when
// the variant failed in it (status set).
template <class V, class VO>
STRATA_HD bool run_protocol_step(const DfnShape& S, const SharedTables& tab, const V& v, const ProtocolStep& st,
                                 const VO& out) {
  Recorder<VO> none{};
  return run_protocol_steps(S, tab, v, &st, 1, out, none);
}

// Runs a whole protocol on one variant. out holds n_steps records of
// step_out_size(S) values; steps after a failure keep StepEnd::NotRun. When the
// trajectory spec is enabled, traj receives the variant's trajectory record; log,
// when given, every attempt of the run. Every lane of the team tm calls it with the
// same arguments.
template <PassUnit Unit = PassUnit::Attempt, class V, class VO, class VT, class Team = SerialTeam>
STRATA_HD void run_protocol(const DfnShape& S, const SharedTables& tab, const V& v, const ProtocolStep* steps,
                            int n_steps, const VO& out, const TrajectorySpec& ts, const VT& traj,
                            const Team& tm = Team{}, AttemptLog* log = nullptr) {
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
  run_protocol_steps<Unit>(S, tab, v, steps, n_steps, out, rec, tm, log);
}

// Without trajectories.
template <PassUnit Unit = PassUnit::Attempt, class V, class VO>
STRATA_HD void run_protocol(const DfnShape& S, const SharedTables& tab, const V& v, const ProtocolStep* steps,
                            int n_steps, const VO& out) {
  const TrajectorySpec off{};
  run_protocol<Unit>(S, tab, v, steps, n_steps, out, off, out);
}

}  // namespace strata
