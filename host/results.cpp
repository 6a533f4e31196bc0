#include "host/results.hpp"

#include <cmath>

#include <algorithm>
#include <fstream>
#include <set>
#include <utility>
#include <stdexcept>

#include <fmt/format.h>

#include "kernels/dfn_protocol.hpp"

namespace strata {

const char* end_reason_name(int e) {
  switch (static_cast<StepEnd>(e)) {
    case StepEnd::Limit: return "limit";
    case StepEnd::Duration: return "duration";
    case StepEnd::Failed: return "failed";
    case StepEnd::AtStart: return "limit at start";
    case StepEnd::LimitUnlocated: return "limit (not located to tolerance)";
    default: return "not run";
  }
}

namespace {

std::string csv_quote(const std::string& s) {
  std::string r = "\"";
  for (char c : s) r += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return r + "\"";
}
}  // namespace

std::vector<VariantResult> collect_results(Batch& b, const std::vector<int>& ids) {
  const DfnShape& S = b.shape;
  const int n_out = step_out_size(S);
  std::vector<VariantResult> all;
  for (int v = 0; v < b.n_variants; ++v) {
    Strided<double> rec = b.view(v), out = b.out_view(v);
    VariantResult r;
    r.id = ids.empty() ? v : ids[v];
    r.label = b.labels[v];
    r.status = static_cast<int>(rec[S.o_misc + kMiscStatus]);
    r.reason = b.rejected_reason[v].empty() ? status_reason(static_cast<VariantStatus>(r.status))
                                            : b.rejected_reason[v];
    const double mass_kg_m2 = rec[S.o_scalar + kActiveMass_kg_m2];
    r.active_mass_mg_cm2 = mass_kg_m2 * 100.0;  // 1 kg/m2 = 100 mg/cm2
    r.layer_thickness_m.assign(S.n_layers, 0.0);
    r.layer_porosity.assign(S.n_layers, 0.0);
    for (int i = 0; i < S.ne; ++i) {
      const double dx = rec[S.o_dx + i];
      r.layer_thickness_m[S.cell_layer[i]] += dx;
      r.layer_porosity[S.cell_layer[i]] += rec[S.o_eps + i] * dx;
    }
    for (int k = 0; k < S.n_layers; ++k) {
      r.layer_porosity[k] /= r.layer_thickness_m[k];
      if (!b.rejected_reason[v].empty()) r.layer_thickness_m[k] = r.layer_porosity[k] = std::nan("");
    }
    // C/m2 -> mAh/g: / 3.6 C per mAh / (g per m2).
    const double to_mAh_g = mass_kg_m2 > 0 ? 1.0 / (3.6 * mass_kg_m2 * 1000.0) : 0.0;
    for (size_t k = 0; k < b.steps.size(); ++k) {
      const long o = (long)k * n_out;
      StepResult s;
      s.capacity_mAh_g = out[o + kOutCapacity_C_m2] * to_mAh_g;
      s.capacity_mAh_cm2 = out[o + kOutCapacity_C_m2] / 3.6 / 1e4;  // C/m2 -> mAh/m2 -> mAh/cm2
      s.charge_mAh_g = out[o + kOutCharge_C_m2] * to_mAh_g;
      s.energy_Wh_kg = mass_kg_m2 > 0 ? out[o + kOutEnergy_J_m2] / 3600.0 / mass_kg_m2 : 0.0;
      s.end_potential_V = out[o + kOutEndPotential_V];
      s.end_current_A_m2 = out[o + kOutEndCurrent_A_m2];
      s.duration_s = out[o + kOutDuration_s];
      s.min_ce_mol_m3 = out[o + kOutMinCe_mol_m3];
      s.max_ce_mol_m3 = out[o + kOutMaxCe_mol_m3];
      s.time_steps = static_cast<long>(out[o + kOutTimeSteps]);
      s.newton_iterations = static_cast<long>(out[o + kOutNewtonIterations]);
      s.end_reason = end_reason_name(static_cast<int>(out[o + kOutEndReason]));
      for (int q = 0; q < S.n_slots; ++q) {
        const int mat = b.slot_material[(size_t)v * S.n_slots + q];
        if (mat >= 0) s.material_charge_mAh_g[b.material_names[mat]] = 0.0;
      }
      s.layer_charge_mAh_g.assign(S.n_layers, 0.0);
      for (int q = 0; q < S.n_slots; ++q) {
        const double c = out[o + kStepOutFields + q] * to_mAh_g;
        const int mat = b.slot_material[(size_t)v * S.n_slots + q];
        if (mat >= 0) s.material_charge_mAh_g[b.material_names[mat]] += c;
        s.layer_charge_mAh_g[b.slot_layer[q]] += c;
      }
      r.steps.push_back(s);
    }
    all.push_back(std::move(r));
  }
  return all;
}

BatchTotals batch_totals(Batch& b) {
  BatchTotals t;
  const DfnShape& S = b.shape;
  for (int v = 0; v < b.n_variants; ++v) {
    Strided<double> rec = b.view(v);
    t.time_steps += static_cast<long>(rec[S.o_misc + kMiscTimeSteps]);
    t.newton_iterations += static_cast<long>(rec[S.o_misc + kMiscNewtonIters]);
    if (rec[S.o_misc + kMiscStatus] == 0.0) ++t.ok; else ++t.failed;
  }
  return t;
}

ElectrolyteTableEnd electrolyte_table_end(const Electrolyte& e) {
  ElectrolyteTableEnd end;
  const std::pair<const char*, const ScalarOrTable*> props[] = {{"conductivity_S_m", &e.conductivity_S_m},
                                                                {"diffusivity_m2_s", &e.diffusivity_m2_s},
                                                                {"transference_number", &e.transference_number},
                                                                {"thermodynamic_factor", &e.thermodynamic_factor}};
  for (const auto& [name, p] : props)
    if (p->tabulated && !p->table.x.empty() && p->table.x.back() < end.c_mol_m3) {
      end.c_mol_m3 = p->table.x.back();
      end.property = name;
    }
  return end;
}

int end_reason_code(const std::string& name) {
  for (int e = 0; e <= static_cast<int>(StepEnd::LimitUnlocated); ++e)
    if (name == end_reason_name(e)) return e;
  return static_cast<int>(StepEnd::NotRun);
}

StepEndTally::StepEndTally(size_t steps, const ElectrolyteTableEnd& tables)
    : tables(tables), at_start(steps, 0), unlocated(steps, 0), beyond_tables(steps, 0), highest_ce_mol_m3(steps, 0.0) {}

void StepEndTally::add(size_t step, int end_code, double max_ce_mol_m3) {
  if (step >= at_start.size()) return;
  at_start[step] += end_code == static_cast<int>(StepEnd::AtStart);
  unlocated[step] += end_code == static_cast<int>(StepEnd::LimitUnlocated);
  if (max_ce_mol_m3 > tables.c_mol_m3) {  // false for NaN (a row written before the field existed)
    ++beyond_tables[step];
    highest_ce_mol_m3[step] = std::max(highest_ce_mol_m3[step], max_ce_mol_m3);
  }
}

std::vector<std::string> step_end_notes(const std::vector<std::string>& step_texts, const StepEndTally& tally) {
  const char* at_start = end_reason_name(static_cast<int>(StepEnd::AtStart));
  const char* unlocated = end_reason_name(static_cast<int>(StepEnd::LimitUnlocated));
  std::vector<std::string> notes;
  for (size_t k = 0; k < step_texts.size() && k < tally.at_start.size(); ++k) {
    if (tally.at_start[k])
      notes.push_back(fmt::format("step {} \"{}\" ended at once in {} of {} design(s): its limit was already met at "
                                  "the start (end_reason \"{}\"), so its capacity there is about 0",
                                  k, step_texts[k], tally.at_start[k], tally.designs, at_start));
    if (tally.unlocated[k])
      notes.push_back(fmt::format("step {} \"{}\": the limit was not located to tolerance in {} of {} design(s) "
                                  "(end_reason \"{}\")",
                                  k, step_texts[k], tally.unlocated[k], tally.designs, unlocated));
    if (tally.beyond_tables[k])
      notes.push_back(fmt::format("step {} \"{}\": c_e rose above {:g} mol/m3, where the electrolyte's {} table ends "
                                  "(extended linearly beyond), in {} of {} design(s) (highest {:.0f} mol/m3)",
                                  k, step_texts[k], tally.tables.c_mol_m3, tally.tables.property,
                                  tally.beyond_tables[k], tally.designs, tally.highest_ce_mol_m3[k]));
  }
  return notes;
}

std::vector<std::string> step_end_notes(const std::vector<std::string>& step_texts,
                                        const std::vector<VariantResult>& results, const ElectrolyteTableEnd& tables) {
  StepEndTally tally(step_texts.size(), tables);
  tally.designs = results.size();
  for (const VariantResult& r : results)
    for (size_t k = 0; k < r.steps.size(); ++k)
      tally.add(k, end_reason_code(r.steps[k].end_reason), r.steps[k].max_ce_mol_m3);
  return step_end_notes(step_texts, tally);
}

ResultsCsvWriter::ResultsCsvWriter(const std::string& path, const std::vector<std::string>& step_texts,
                                   const std::set<std::string>& materials, size_t n_layers,
                                   const std::vector<std::string>& design_columns)
    : path_(path), step_texts_(step_texts), design_columns_(design_columns), materials_(materials),
      n_layers_(n_layers), f_(path) {
  if (!f_) throw std::runtime_error("cannot write " + path);
  f_ << "variant_id,label,status,reason,active_mass_mg_cm2,step,step_text";
  for (const StepMetric& m : kStepMetrics) f_ << "," << m.name;
  f_ << ",time_steps,newton_iterations,end_reason";
  for (const auto& m : materials_) f_ << ",charge_" << m << "_mAh_g";
  for (size_t k = 0; k < n_layers_; ++k) f_ << ",charge_layer" << k << "_mAh_g";
  for (size_t k = 0; k < n_layers_; ++k) f_ << ",thickness_layer" << k << "_m,porosity_layer" << k;
  for (const std::string& c : design_columns_) f_ << "," << csv_quote(c);
  f_ << "\n";
}

void ResultsCsvWriter::add(const VariantResult& r, const std::vector<double>& design_values) {
  for (size_t k = 0; k < r.steps.size(); ++k) {
    const StepResult& s = r.steps[k];
    f_ << fmt::format("{},{},{},{},{:.6g},{},{}", r.id, csv_quote(r.label), r.status, csv_quote(r.reason),
                      r.active_mass_mg_cm2, k, csv_quote(step_texts_[k]));
    for (const StepMetric& m : kStepMetrics) f_ << fmt::format(",{:.10g}", s.*m.member);
    f_ << fmt::format(",{},{},{}", s.time_steps, s.newton_iterations, s.end_reason);
    // Blank where a variant has no such material or layer.
    for (const auto& m : materials_) {
      const auto it = s.material_charge_mAh_g.find(m);
      f_ << (it == s.material_charge_mAh_g.end() ? std::string(",") : fmt::format(",{:.10g}", it->second));
    }
    for (size_t q = 0; q < n_layers_; ++q)
      f_ << (q < s.layer_charge_mAh_g.size() ? fmt::format(",{:.10g}", s.layer_charge_mAh_g[q]) : std::string(","));
    // The design's sub-layers (blank past its own layer count).
    for (size_t q = 0; q < n_layers_; ++q)
      f_ << (q < s.layer_charge_mAh_g.size() && q < r.layer_thickness_m.size() && q < r.layer_porosity.size()
                 ? fmt::format(",{:.10g},{:.10g}", r.layer_thickness_m[q], r.layer_porosity[q])
                 : std::string(",,"));
    for (size_t c = 0; c < design_columns_.size(); ++c)
      f_ << (c < design_values.size() ? fmt::format(",{:.10g}", design_values[c]) : std::string(","));
    f_ << "\n";
  }
}

void ResultsCsvWriter::close() {
  f_.close();
  if (!f_) throw std::runtime_error("error while writing " + path_);
}

void write_results_csv(const std::string& path, const std::vector<std::string>& step_texts,
                       const std::vector<VariantResult>& results) {
  // Columns for every material and layer position any variant has.
  std::set<std::string> materials;
  size_t n_layers = 0;
  for (const VariantResult& r : results)
    for (const StepResult& s : r.steps) {
      for (const auto& [m, c] : s.material_charge_mAh_g) materials.insert(m);
      n_layers = std::max(n_layers, s.layer_charge_mAh_g.size());
    }
  ResultsCsvWriter w(path, step_texts, materials, n_layers);
  for (const VariantResult& r : results) w.add(r);
  w.close();
}

}  // namespace strata
