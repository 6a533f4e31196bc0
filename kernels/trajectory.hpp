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
  int capacity = 0;             // samples per variant
  double interval_s = 0.0;      // minimum time between samples (0: every accepted step)
  int n_profiles = 0;
  ProfileTrigger profiles[kMaxProfiles];
};

// Offsets in a variant's trajectory record.
struct TrajectoryLayout {
  long o_count = 0;        // samples held
  long o_interval = 0;     // current sampling interval (doubles when thinned)
  long o_last = 0;         // time of the last sample
  long o_samples = 0;      // capacity x sample_size
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
  o += (long)ts.capacity * L.sample_size;
  L.profile_size = 3 + 2L * S.nx + 3L * S.n_cols;
  L.o_profiles = o;
  o += (long)ts.n_profiles * L.profile_size;
  L.record_size = o;
  return L;
}

template <class V>
STRATA_HD double slot_sodium_mol_m2(const DfnShape& S, const V& v, long ox, int s);  // dfn_step.hpp

// Appends a sample (thinning the series 2:1 when it is full).
template <class V, class VT>
STRATA_HD void record_sample(const DfnShape& S, const TrajectorySpec& ts, const TrajectoryLayout& L, const V& v,
                             const VT& tr, double time_s, int step, double potential_V, double capacity_C_m2,
                             bool force) {
  long n = (long)tr[L.o_count];
  if (!force && n > 0 && time_s - tr[L.o_last] < tr[L.o_interval]) return;
  if (n >= ts.capacity) {
    for (long k = 0; 2 * k < n; ++k)
      for (long f = 0; f < L.sample_size; ++f) tr[L.o_samples + k * L.sample_size + f] = tr[L.o_samples + 2 * k * L.sample_size + f];
    n = (n + 1) / 2;
    const double span = time_s - tr[L.o_samples + kSampleTime_s];
    tr[L.o_interval] = fmax(2.0 * tr[L.o_interval], span / (double)n);
  }
  const long o = L.o_samples + n * L.sample_size;
  tr[o + kSampleTime_s] = time_s;
  tr[o + kSampleStep] = step;
  tr[o + kSampleCurrent_A_m2] = v[S.o_x + S.s_I()];
  tr[o + kSamplePotential_V] = potential_V;
  tr[o + kSampleCapacity_C_m2] = capacity_C_m2;
  for (int s = 0; s < S.n_slots; ++s) tr[o + kSampleFields + s] = slot_sodium_mol_m2(S, v, S.o_x, s);
  tr[L.o_count] = n + 1;
  tr[L.o_last] = time_s;
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
