#pragma once
// A batch: N variants of one shape, their parameter/state records in one buffer
// (blocked or interleaved), the shared tables, the protocol and the per-step outputs.
#include <string>
#include <vector>

#include "host/scenario.hpp"
#include "kernels/dfn_layout.hpp"
#include "kernels/materials.hpp"
#include "kernels/protocol_step.hpp"
#include "kernels/strided.hpp"
#include "kernels/trajectory.hpp"

namespace strata {

struct Batch {
  DfnShape shape;
  Layout layout = Layout::Blocked;
  int n_variants = 0;
  std::vector<double> records;     // n_variants * shape.record_size
  std::vector<double> outputs;     // n_variants * n_steps * step_out_size(shape)
  std::vector<double> table_data;  // shared tables
  SharedTables tables;             // points into table_data (rebind after copies)
  std::vector<ProtocolStep> steps;
  std::vector<std::string> step_texts;
  std::vector<std::string> labels;            // per variant
  std::vector<std::string> rejected_reason;   // per variant; empty when valid
  std::vector<std::string> material_names;    // by material id
  std::vector<int> slot_material;             // per variant * n_slots: material id (-1: padding)
  std::vector<int> slot_layer;                // per slot: layer position
  TrajectorySpec trajectory_spec;             // disabled unless enable_trajectories() is called
  TrajectoryLayout trajectory_layout;
  std::vector<double> trajectories;           // n_variants * trajectory_layout.record_size

  // Allocates trajectory records for every variant of the batch.
  void enable_trajectories(const TrajectorySpec& spec);

  long out_record_size() const;
  Strided<double> view(int v) { return variant_view(records.data(), layout, n_variants, shape.record_size, v); }
  Strided<double> out_view(int v) { return variant_view(outputs.data(), layout, n_variants, out_record_size(), v); }
  Strided<double> trajectory_view(int v) {
    return trajectories.empty() ? out_view(v)
                                : variant_view(trajectories.data(), layout, n_variants, trajectory_layout.record_size, v);
  }
  double param(int v, long offset) { return view(v)[offset]; }
  void rebind_tables() { tables.data = table_data.data(); }
};

// One resolved scenario per variant (base with the variant applied). All must
// share the discretisation shape (layers, nodes, shells); a layer position may
// hold different materials in different variants (slots are padded to the
// largest count with zero-fraction material). A variant whose scenario failed to
// resolve is passed with its error in `rejected` and runs as a rejected row.
struct ResolvedVariant {
  std::string label;
  Scenario scenario;
  std::string rejected;  // non-empty: rejected before the run, with this reason
};

Batch build_batch(const std::vector<ResolvedVariant>& variants, Layout layout);

// Variants grouped by discretisation shape (layer count, cells per layer and in the
// separator, shells, time integrator), each group a list of indices into variants, in first-seen
// order. Rejected variants join the first group. One batch runs per group.
std::vector<std::vector<int>> group_by_shape(const std::vector<ResolvedVariant>& variants);
// The same from each variant's shape_key: what grouping needs of a variant, without
// the resolved scenario (about 16 KB a variant) that a sweep of millions cannot keep.
using ShapeKey = std::vector<int>;
ShapeKey shape_key(const ResolvedVariant& v);  // empty when v is rejected
std::vector<std::vector<int>> group_by_shape(const std::vector<ShapeKey>& keys);

// Total active mass per electrode area (kg/m2) of a resolved scenario.
double active_mass_kg_m2(const Scenario& s);

}  // namespace strata
