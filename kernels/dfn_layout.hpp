#pragma once
// Shape of a batch (identical for every variant) and the offsets of each array in a
// variant's record. A record holds, in order: parameters, the state, the state at
// the start of the time step, the state one accepted step earlier (for the error
// estimate and BDF2), the state at the start of the protocol step (for per-step
// charge), with BDF2 the state two accepted steps earlier, and the Newton workspace.
#include "kernels/config.hpp"

namespace strata {

constexpr int kMaxLayers = 16;
constexpr int kMaxCells = 512;
constexpr int kMaxSlots = 64;
constexpr int kMaxShells = 128;

// Per-slot (layer, material) parameters, one group of kSlotParams values per slot.
enum SlotParam : int {
  kSlotMaterialId = 0,         // index into SharedTables::materials
  kSlotVolumeFraction,         // active-material volume per layer volume (-)
  kSlotRadius_m,
  kSlotCmax_mol_m3,
  kSlotDiffusivity_m2_s,
  kSlotI0_A_m2,                // exchange current density at ce_ref and x = 0.5
  kSlotCeRef_mol_m3,
  kSlotAlphaA,
  kSlotAlphaC,
  kSlotXInit,                  // initial stoichiometry
  kSlotXCharged,               // usable window, charged end
  kSlotXDischarged,            // usable window, discharged end
  kSlotDensity_kg_m3,
  kSlotParams
};

// Per-variant scalar parameters.
enum ScalarParam : int {
  kTemperature_K = 0,
  kContactResistance_ohm_m2,
  kReferenceFraction,          // reference electrode in the separator: 0 WE face .. 1 counter
  kCounterI0_A_m2,             // <= 0: ideal counter electrode
  kOneC_A_m2,                  // 1C current density
  kCeInit_mol_m3,
  kActiveMass_kg_m2,
  kRelTol,
  kMaxStep_s,
  kVoltageTol_V,
  kMaxStepsPerProtocolStep,
  kShellRatio,                 // particle shell thickness ratio, outward (1: equal shells; 0: equal volumes)
  kCounterVolumetricI0_A_m3,   // porous counter: a i0 of its reaction (n_ctr > 0 only)
  kNewtonMaxContraction,       // contraction test of the time steps' Newton solves (dfn_newton.hpp)
  kPredictiveStepControl,      // 1: predictive step-length controller; 0: standard (time_scheme.hpp)
  kMeasuredAgainstCounter,     // 1: two-electrode potential, against the grounded counter metal; 0: the reference
  kScalarParams
};

struct DfnShape {
  int n_layers = 0;
  int ne = 0;        // electrode cells
  int n_sep = 0;     // separator cells
  int n_ctr = 0;     // porous counter-electrode cells after the separator (0: planar counter)
  int nx = 0;        // ne + n_sep + n_ctr
  int nr = 0;        // shells per particle
  int n_slots = 0;   // (layer, material) slots
  int n_cols = 0;    // particle columns: sum over electrode cells of their layer's slots
  int layer_first_cell[kMaxLayers + 1] = {};
  int layer_first_slot[kMaxLayers + 1] = {};
  int cell_layer[kMaxCells] = {};      // separator: -1
  int cell_first_col[kMaxCells + 1] = {};
  int time_order = 1;  // 1: backward Euler; 2: BDF2 (kernels/time_scheme.hpp), with o_xprev2

  // Offsets into a record (elements).
  long o_dx = 0, o_eps = 0, o_trans = 0, o_sigma = 0;  // per cell
  long o_slot = 0;                                      // kSlotParams per slot
  long o_scalar = 0;                                    // kScalarParams
  long state_size = 0;                                  // ce, phie, phis (nx each), cs (n_cols*nr), j (n_cols), I
  long o_x = 0, o_xold = 0, o_xprev = 0, o_xstep = 0;   // four copies of the state
  long o_xprev2 = 0;  // time_order 2 only: c_e and c_s two accepted steps before xold
  long o_blk = 0;     // block system: lower, diag, upper (9 per cell each), rhs (6 per cell)
  long o_col = 0;     // per column: y (nr), z (nr), coefficients j0, jphi, jc
  long o_misc = 0;    // dt_prev, time, status and counters (kMiscFields)
  // Cooperative (team) solve only: the PCR ping-pong system (33 per cell) and its
  // solution (6 per cell), after everything else so that a record with them extends
  // the record without them (set team_scratch before finalize_shape).
  int team_scratch = 0;
  long o_pcr = 0, o_pcr_x = 0;
  long record_size = 0;

  // State sub-offsets (relative to a state copy).
  STRATA_HD long s_ce() const { return 0; }
  STRATA_HD long s_phie() const { return nx; }
  STRATA_HD long s_phis() const { return 2L * nx; }
  STRATA_HD long s_cs() const { return 3L * nx; }
  STRATA_HD long s_j() const { return 3L * nx + (long)n_cols * nr; }
  STRATA_HD long s_I() const { return 3L * nx + (long)n_cols * (nr + 1); }
  STRATA_HD int slots_of_layer(int k) const { return layer_first_slot[k + 1] - layer_first_slot[k]; }
};

enum MiscField : int {
  kMiscDtPrev = 0,   // previous accepted time step (s); 0: no history
  kMiscTime_s,       // time since the protocol started
  kMiscStatus,       // VariantStatus
  kMiscNewtonIters,  // total Newton iterations
  kMiscTimeSteps,    // total accepted time steps
  kMiscRejected,     // rejected time steps
  kMiscStepsDone,    // protocol steps completed (progress)
  kMiscFields
};

enum class VariantStatus : int {
  Ok = 0,
  NewtonFailed,      // no convergence even at the smallest time step
  NotFinite,         // NaN or Inf in the state
  TooManySteps,      // the step limit of a protocol step was reached
  LinearSolveFailed, // singular Jacobian
  InvalidParameters, // rejected before the run
  StepTooSmall,      // error control shrank the time step below the minimum
  ElectrolyteDepleted, // a failure with the salt (nearly) exhausted somewhere
  ElectrolyteBeyondTables, // a failure with c_e somewhere above an electrolyte property table's range
  ParticleWindowExhausted, // a failure with a particle's outer shell at an end of its stoichiometry window
};

STRATA_HD inline const char* status_reason(VariantStatus s) {
  switch (s) {
    case VariantStatus::Ok: return "ok";
    case VariantStatus::NewtonFailed: return "Newton did not converge at the minimum time step";
    case VariantStatus::NotFinite: return "non-finite value (NaN/Inf) in the state";
    case VariantStatus::TooManySteps: return "time-step limit of a protocol step reached";
    case VariantStatus::LinearSolveFailed: return "singular Jacobian in the linear solve";
    case VariantStatus::InvalidParameters: return "invalid parameters";
    case VariantStatus::StepTooSmall: return "time step below the minimum under error control";
    case VariantStatus::ElectrolyteDepleted:
      return "electrolyte depleted: the salt concentration fell below 1% of its initial value before the step's limit";
    case VariantStatus::ElectrolyteBeyondTables:
      return "electrolyte concentration above the highest concentration of its property tables, where they are "
             "extended linearly (a conductivity or diffusivity falling to zero there stops the solver)";
    case VariantStatus::ParticleWindowExhausted:
      return "a particle reached the end of its stoichiometry window: the electrode is fully charged or discharged "
             "there and cannot carry the current (end the step on a voltage limit, or shorten it)";
  }
  return "unknown";
}

// Fills the offsets once the counts and the per-layer cell/slot tables are set.
STRATA_HD inline void finalize_shape(DfnShape& s) {
  s.nx = s.ne + s.n_sep + s.n_ctr;
  s.cell_first_col[0] = 0;
  for (int i = 0; i < s.nx; ++i) {
    const int k = s.cell_layer[i];
    s.cell_first_col[i + 1] = s.cell_first_col[i] + (k >= 0 ? s.slots_of_layer(k) : 0);
  }
  s.n_cols = s.cell_first_col[s.nx];
  long o = 0;
  s.o_dx = o; o += s.nx;
  s.o_eps = o; o += s.nx;
  s.o_trans = o; o += s.nx;
  s.o_sigma = o; o += s.nx;
  s.o_slot = o; o += (long)kSlotParams * s.n_slots;
  s.o_scalar = o; o += kScalarParams;
  s.state_size = 3L * s.nx + (long)s.n_cols * (s.nr + 1) + 1;
  s.o_x = o; o += s.state_size;
  s.o_xold = o; o += s.state_size;
  s.o_xprev = o; o += s.state_size;
  s.o_xstep = o; o += s.state_size;
  s.o_xprev2 = o;
  if (s.time_order == 2) o += s.state_size;
  s.o_blk = o; o += 33L * s.nx;
  s.o_col = o; o += (long)s.n_cols * (2 * s.nr + 3);
  s.o_misc = o; o += kMiscFields;
  if (s.team_scratch) {
    s.o_pcr = o; o += 33L * s.nx;
    s.o_pcr_x = o; o += 6L * s.nx;
  }
  s.record_size = o;
}

// The same shape with the cooperative-solve scratch appended to each record (a
// record of the result starts with a record of s).
STRATA_HD inline DfnShape with_team_scratch(DfnShape s) {
  s.team_scratch = 1;
  finalize_shape(s);
  return s;
}

}  // namespace strata
