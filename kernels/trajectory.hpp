#pragma once
// Recording of time series and through-thickness profiles on the device, into a
// per-variant trajectory record (strided like the state). Host code turns the raw
// values into the HDF5 /trajectories groups (docs/hdf5-schema.md).
#include "kernels/config.hpp"
#include "kernels/dfn_layout.hpp"
#include "kernels/dfn_physics.hpp"
#include "kernels/materials.hpp"
#include "kernels/strided.hpp"

namespace strata {

constexpr int kMaxProfiles = 16;

// One time-series sample: these fields, then the sodium held by each slot (mol/m2).
enum SampleField : int {
  kSampleTime_s = 0,     // since the protocol started
  kSampleStep,           // protocol step index
  kSampleCurrent_A_m2,
  kSamplePotential_V,
  kSampleCapacity_C_m2,  // integral of |I| dt since the step started
  kSampleKept,           // 1: the start, or a protocol step's first or last sample (never thinned)
  kSampleFields
};

enum class ProfileAt : int { End = 0, Time = 1, Capacity = 2 };

struct ProfileTrigger {
  int step = 0;
  ProfileAt at = ProfileAt::End;
  double value = 0.0;  // s (Time) or mAh/g of active material (Capacity)
};

// Shared by every variant of a batch.
struct TrajectorySpec {
  int enabled = 0;
  int capacity = 0;             // samples per variant, besides the kept ones
  int kept_slots = 0;           // room for the kept samples: 2 per protocol step + the start
  double interval_s = 0.0;      // minimum time between samples (0: every accepted step)
  int n_profiles = 0;
  ProfileTrigger profiles[kMaxProfiles];
};

// Offsets in a variant's trajectory record.
struct TrajectoryLayout {
  long o_count = 0;        // samples held
  long o_interval = 0;     // current sampling interval (doubles when thinned)
  long o_last = 0;         // time of the last sample
  long o_samples = 0;      // (capacity + kept_slots) x sample_size
  long sample_size = 0;
  long o_profiles = 0;     // n_profiles x profile_size
  long profile_size = 0;   // taken flag, time, step, then ce, phie (nx each), eta, j, x_surf (n_cols each)
  long record_size = 0;
};

STRATA_HD inline TrajectoryLayout trajectory_layout_of(const DfnShape& S, const TrajectorySpec& ts) {
  TrajectoryLayout L;
  if (!ts.enabled) return L;
  long o = 0;
  L.o_count = o++;
  L.o_interval = o++;
  L.o_last = o++;
  L.sample_size = kSampleFields + S.n_slots;
  L.o_samples = o;
  o += (long)(ts.capacity + ts.kept_slots) * L.sample_size;
  L.profile_size = 3 + 2L * S.nx + 3L * S.n_cols;
  L.o_profiles = o;
  o += (long)ts.n_profiles * L.profile_size;
  L.record_size = o;
  return L;
}

template <class V>
STRATA_HD double slot_sodium_mol_m2(const DfnShape& S, const V& v, long ox, int s);  // dfn_step.hpp

// Makes room in a full series (n samples) by dropping every other sample of the
// protocol step holding the most (of each, at a tie; of every step when that frees
// nothing), except the kept ones (the start, each step's first and last: at most
// kept_slots). A curve keeps its ends and its every step however long the protocol,
// and the steps' shares even out: a short step after long ones is not thinned for
// them. Returns the samples left; current_thinned: the last step in the series lost
// samples. Out of line: it runs once per thinning, and inlined it made nvcc move the
// whole protocol runner of the warp kernel out of line (sm_90).
template <class VT>
STRATA_HD STRATA_NOINLINE long thin_samples(const TrajectoryLayout& L, const VT& tr, long n, bool& current_thinned) {
  long most = 0;  // samples of the step holding the most
  for (long first = 0, k = 1; k <= n; ++k)
    if (k == n || tr[L.o_samples + k * L.sample_size + kSampleStep] !=
                      tr[L.o_samples + (k - 1) * L.sample_size + kSampleStep]) {
      most = k - first > most ? k - first : most;
      first = k;
    }
  long m = n;
  for (int pass = 0; pass < 2 && m == n; ++pass) {
    m = 0;
    current_thinned = false;
    long thinnable = 0;  // pass 1: counted over the series, so that any two free one slot
    for (long first = 0; first < n;) {
      const double step = tr[L.o_samples + first * L.sample_size + kSampleStep];
      long end = first + 1;
      while (end < n && tr[L.o_samples + end * L.sample_size + kSampleStep] == step) ++end;
      const bool thin = pass == 1 || end - first == most;  // pass 1: every step
      if (pass == 0) thinnable = 0;
      for (long k = first; k < end; ++k) {
        const long from = L.o_samples + k * L.sample_size;
        if (thin && tr[from + kSampleKept] == 0.0 && (thinnable++ & 1)) {
          if (end == n) current_thinned = true;
          continue;
        }
        if (m != k)
          for (long f = 0; f < L.sample_size; ++f) tr[L.o_samples + m * L.sample_size + f] = tr[from + f];
        ++m;
      }
      first = end;
    }
  }
  return m;
}

// Appends a sample with these values and slot_mol_m2(s), the sodium held by slot s.
// Each protocol step starts at the interval asked for; unless forced, a sample closer
// than the current interval to the last one is skipped. When the series is full it is
// thinned (thin_samples), and when that took samples of the step being recorded its
// interval doubles (at least its span over its samples left).
template <class VT, class SlotFn>
STRATA_HD void append_sample(const DfnShape& S, const TrajectorySpec& ts, const TrajectoryLayout& L, const VT& tr,
                             double time_s, int step, double current_A_m2, double potential_V, double capacity_C_m2,
                             const SlotFn& slot_mol_m2, bool force, bool kept) {
  long n = (long)tr[L.o_count];
  const bool same_step = n > 0 && tr[L.o_samples + (n - 1) * L.sample_size + kSampleStep] == step;
  if (!same_step) tr[L.o_interval] = ts.interval_s;
  if (!force && n > 0 && time_s - tr[L.o_last] < tr[L.o_interval]) return;
  if (n >= (long)ts.capacity + ts.kept_slots) {
    bool current_thinned = false;
    n = thin_samples(L, tr, n, current_thinned);
    if (current_thinned && same_step) {
      long first = n - 1;  // the step's first sample left
      while (first > 0 && tr[L.o_samples + (first - 1) * L.sample_size + kSampleStep] == step) --first;
      const double span = time_s - tr[L.o_samples + first * L.sample_size + kSampleTime_s];
      tr[L.o_interval] = fmax(2.0 * tr[L.o_interval], span / (double)(n - first));
    }
  }
  const long o = L.o_samples + n * L.sample_size;
  tr[o + kSampleTime_s] = time_s;
  tr[o + kSampleStep] = step;
  tr[o + kSampleCurrent_A_m2] = current_A_m2;
  tr[o + kSamplePotential_V] = potential_V;
  tr[o + kSampleCapacity_C_m2] = capacity_C_m2;
  tr[o + kSampleKept] = kept ? 1.0 : 0.0;
  for (int s = 0; s < S.n_slots; ++s) tr[o + kSampleFields + s] = slot_mol_m2(s);
  tr[L.o_count] = n + 1;
  tr[L.o_last] = time_s;
}

// Marks the last sample kept: a protocol step's end that was already sampled as an
// ordinary sample (its time step's own).
template <class VT>
STRATA_HD void keep_last_sample(const TrajectoryLayout& L, const VT& tr) {
  const long n = (long)tr[L.o_count];
  if (n > 0) tr[L.o_samples + (n - 1) * L.sample_size + kSampleKept] = 1.0;
}

// Appends a sample of the state at o_x; a boundary sample (the start, a protocol
// step's first step or end) is always taken and kept.
template <class V, class VT>
STRATA_HD void record_sample(const DfnShape& S, const TrajectorySpec& ts, const TrajectoryLayout& L, const V& v,
                             const VT& tr, double time_s, int step, double potential_V, double capacity_C_m2,
                             bool boundary) {
  append_sample(S, ts, L, tr, time_s, step, v[S.o_x + S.s_I()], potential_V, capacity_C_m2,
                [&](int s) { return slot_sodium_mol_m2(S, v, S.o_x, s); }, boundary, boundary);
}

// An accepted time step from t0_s to t1_s (since the protocol started) and the
// values the samples interpolate at its ends (and at t_m1_s, the accepted step
// before, when quadratic): current, measured potential, capacity since the protocol
// step started.
struct StepSpan {
  double t_m1_s = 0.0, t0_s = 0.0, t1_s = 0.0;
  bool quadratic = false;
  double current_A_m2[3] = {0.0, 0.0, 0.0};  // at t_m1, t0, t1
  double potential_V[3] = {0.0, 0.0, 0.0};
  double capacity0_C_m2 = 0.0, capacity1_C_m2 = 0.0;

  STRATA_HD int first_point() const { return quadratic ? 0 : 1; }  // of t_m1, t0, t1

  // Lagrange weights at tau of the quadratic through t_m1, t0, t1, or of the line
  // through t0 and t1.
  STRATA_HD void weights(double tau, double w[3]) const {
    if (!quadratic) {
      const double f = (tau - t0_s) / (t1_s - t0_s);
      w[0] = 0.0;
      w[1] = 1.0 - f;
      w[2] = f;
      return;
    }
    w[0] = (tau - t0_s) * (tau - t1_s) / ((t_m1_s - t0_s) * (t_m1_s - t1_s));
    w[1] = (tau - t_m1_s) * (tau - t1_s) / ((t0_s - t_m1_s) * (t0_s - t1_s));
    w[2] = (tau - t_m1_s) * (tau - t0_s) / ((t1_s - t_m1_s) * (t1_s - t0_s));
  }
};

// The state copy holding point k of a StepSpan before the next predictor shifts
// them: xprev (t_m1), xold (t0), x (t1).
STRATA_HD inline long span_state_offset(const DfnShape& S, int k) {
  return k == 0 ? S.o_xprev : (k == 1 ? S.o_xold : S.o_x);
}

// Dense output: the samples due strictly inside the accepted step (t0, t1), one per
// interval after the last sample, interpolated in time through the accepted states
// (xprev at t_m1, xold at t0, x at t1): quadratic, as BDF2's own interpolant, when
// span.quadratic, else linear. The capacity between t0 and t1 follows the integral
// of |I|, scaled to the step's own increment, so it is monotone and
// meets the value at t1 (the trapezoid of the line between |I(t0)| and |I(t1)|: a
// quadratic |I| could make it fall). An interval of 0 (every accepted step) adds
// nothing.
template <class V, class VT>
STRATA_HD void record_within_step(const DfnShape& S, const TrajectorySpec& ts, const TrajectoryLayout& L, const V& v,
                                  const VT& tr, int step, const StepSpan& span) {
  const double h = span.t1_s - span.t0_s;
  if (!(tr[L.o_interval] > 0.0) || !(h > 0.0) || tr[L.o_count] < 1.0) return;
  const double I0 = fabs(span.current_A_m2[1]), I1 = fabs(span.current_A_m2[2]);
  const double full = 0.5 * h * (I0 + I1);
  for (;;) {
    const double tau = tr[L.o_last] + tr[L.o_interval];
    if (!(tau < span.t1_s - 1e-9 * h)) break;
    if (!(tau > span.t0_s)) break;  // not expected: the last sample lies within an interval of t0
    double w[3];
    span.weights(tau, w);
    double I = 0.0, Vm = 0.0;
    for (int k = 0; k < 3; ++k) {
      I += w[k] * span.current_A_m2[k];
      Vm += w[k] * span.potential_V[k];
    }
    const double part = 0.5 * (tau - span.t0_s) * (I0 + I0 + (I1 - I0) * (tau - span.t0_s) / h);
    const double f = full > 0.0 ? fmin(1.0, part / full) : (tau - span.t0_s) / h;
    const double Q = span.capacity0_C_m2 + f * (span.capacity1_C_m2 - span.capacity0_C_m2);
    append_sample(S, ts, L, tr, tau, step, I, Vm, Q,
                  [&](int s) {
                    double n = 0.0;
                    for (int k = span.first_point(); k < 3; ++k)
                      n += w[k] * slot_sodium_mol_m2(S, v, span_state_offset(S, k), s);
                    return n;
                  },
                  /*force=*/true, /*kept=*/false);  // spaced by the loop (a test of tau - last could round below)
  }
}

// Takes the profiles of this step whose trigger has come (each once).
template <class V, class VT>
STRATA_HD void record_profiles(const DfnShape& S, const SharedTables& tab, const TrajectorySpec& ts,
                               const TrajectoryLayout& L, const V& v, const VT& tr, int step, double t_in_step_s,
                               double capacity_C_m2, bool step_done, double time_s) {
  const double mass_g_m2 = v[S.o_scalar + kActiveMass_kg_m2] * 1000.0;
  const double T_K = v[S.o_scalar + kTemperature_K];
  for (int p = 0; p < ts.n_profiles; ++p) {
    const ProfileTrigger& pt = ts.profiles[p];
    const long o = L.o_profiles + (long)p * L.profile_size;
    if (pt.step != step || tr[o] != 0.0) continue;
    const bool due = (pt.at == ProfileAt::End && step_done) || (pt.at == ProfileAt::Time && t_in_step_s >= pt.value) ||
                     (pt.at == ProfileAt::Capacity && capacity_C_m2 >= pt.value * 3.6 * mass_g_m2);
    if (!due) continue;
    tr[o] = 1.0;
    tr[o + 1] = time_s;
    tr[o + 2] = t_in_step_s;
    const long oc = o + 3, op = oc + S.nx, oe = op + S.nx, oj = oe + S.n_cols, oxs = oj + S.n_cols;
    for (int i = 0; i < S.nx; ++i) {
      tr[oc + i] = v[S.o_x + S.s_ce() + i];
      tr[op + i] = v[S.o_x + S.s_phie() + i];
    }
    for (int i = 0; i < S.ne; ++i) {
      const int layer = S.cell_layer[i];
      for (int col = S.cell_first_col[i], s = S.layer_first_slot[layer]; col < S.cell_first_col[i + 1]; ++col, ++s) {
        const long sp = S.o_slot + (long)kSlotParams * s;
        const MaterialFns& mat = tab.materials[(int)v[sp + kSlotMaterialId]];
        const double cmax = v[sp + kSlotCmax_mol_m3], R = v[sp + kSlotRadius_m];
        const double j = v[S.o_x + S.s_j() + col];
        const double cs = surface_concentration(tab.data, mat, v[sp + kSlotDiffusivity_m2_s], cmax,
                                                ShellGrid{R, S.nr, v[S.o_scalar + kShellRatio]}.surface_gap(),
                                                v[S.o_x + S.s_cs() + (long)col * S.nr + S.nr - 1], j);
        tr[oe + col] = v[S.o_x + S.s_phis() + i] - v[S.o_x + S.s_phie() + i] -
                       eval_ocp_V(tab.data, mat.ocp, cs / cmax, T_K);
        tr[oj + col] = j;
        tr[oxs + col] = cs / cmax;
      }
    }
  }
}

}  // namespace strata
