#include "host/population_reader.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "host/h5_file.hpp"

namespace strata {

PopulationColumns::PopulationColumns(const ResultsStore& store) {
  const hid_t f = store.file();
  h5::Handle meta = h5::open_group(f, "meta");
  step_texts_ = h5::get_attr_strings(meta.id(), "step_texts");
  materials_ = h5::get_attr_strings(meta.id(), "material_names");
  ids_ = h5::read_int64(f, "population/design_id");
  labels_ = h5::read_strings(f, "population/label");
  status_ = h5::read_int32(f, "population/status");
  reasons_ = h5::read_strings(f, "population/reason");
  mass_ = h5::read_float64(f, "population/active_mass_mg_cm2");
  const std::string s = "population/step/";
  const size_t n = ids_.size();
  ns_ = step_texts_.size();
  nm_ = materials_.size();
  // One column per metric; NaN for a metric the file's writer did not have yet.
  for (const StepMetric& m : kStepMetrics)
    metric_.push_back(h5::exists(f, s + m.name) ? h5::read_float64(f, s + m.name)
                                                 : std::vector<double>(n * ns_, std::nan("")));
  mat_ = h5::read_float64(f, s + "material_charge_mAh_g");
  lay_ = h5::read_float64(f, s + "layer_charge_mAh_g");
  end_ = h5::read_int32(f, s + "end_reason");
  steps_ = h5::read_int32(f, s + "time_steps");
  newton_ = h5::read_int32(f, s + "newton_iterations");
  const std::string lay_path = s + "layer_charge_mAh_g";
  const h5::Handle lay_set(h5::check(H5Dopen2(f, lay_path.c_str(), H5P_DEFAULT), "opening " + lay_path));
  const std::vector<hsize_t> lay_dims = h5::dims(lay_set.id());
  nl_ = lay_dims.size() == 3 ? static_cast<size_t>(lay_dims[2]) : 0;
  for (auto [name, col] : {std::pair<const char*, std::vector<double>*>{"population/layer_thickness_m", &thick_},
                           {"population/layer_porosity", &poro_}})
    *col = h5::exists(f, name) ? h5::read_float64(f, name) : std::vector<double>(n * nl_, std::nan(""));
  for (const auto& [group, prefix] : {std::pair<std::string, std::string>{"population/var", ""},
                                       {"population/objective", "objective:"}}) {
    if (!h5::exists(f, group)) continue;
    std::vector<std::string> paths;
    h5::Handle g = h5::open_group(f, group);
    h5::list_datasets(g.id(), group, paths);
    for (const std::string& p : paths) {
      design_names_.push_back(prefix + p.substr(group.size() + 1));
      design_.push_back(h5::read_float64(f, p));
    }
  }
  const auto short_of = [&](size_t have, size_t per_row) { return have < n * per_row; };
  bool short_metric = false;
  for (const std::vector<double>& m : metric_) short_metric = short_metric || short_of(m.size(), ns_);
  if (labels_.size() < n || status_.size() < n || reasons_.size() < n || mass_.size() < n || short_metric ||
      short_of(end_.size(), ns_) || short_of(steps_.size(), ns_) || short_of(newton_.size(), ns_) ||
      short_of(mat_.size(), ns_ * nm_) || short_of(lay_.size(), ns_ * nl_) || short_of(thick_.size(), nl_) ||
      short_of(poro_.size(), nl_) ||
      std::any_of(design_.begin(), design_.end(), [&](const std::vector<double>& c) { return short_of(c.size(), 1); }))
    throw h5::H5Error(store.path() + ": /population datasets have fewer rows than population/design_id");
}

size_t PopulationColumns::layers_in(size_t q) const {
  size_t used = nl_;
  while (used > 0 && std::isnan(lay_[q * nl_ + used - 1])) --used;
  return used;
}

VariantResult PopulationColumns::row(size_t r) const {
  VariantResult v;
  v.id = static_cast<int>(ids_[r]);
  v.label = labels_[r];
  v.status = status_[r];
  v.reason = reasons_[r];
  v.active_mass_mg_cm2 = mass_[r];
  // The design's own layer positions (those its charges have; NaN past them in the file).
  const size_t layers = ns_ > 0 ? layers_in(r * ns_) : nl_;
  v.layer_thickness_m.assign(thick_.begin() + r * nl_, thick_.begin() + r * nl_ + layers);
  v.layer_porosity.assign(poro_.begin() + r * nl_, poro_.begin() + r * nl_ + layers);
  for (size_t k = 0; k < ns_; ++k) {
    const size_t q = r * ns_ + k;
    StepResult st;
    for (size_t m = 0; m < metric_.size(); ++m) st.*kStepMetrics[m].member = metric_[m][q];
    st.time_steps = steps_[q];
    st.newton_iterations = newton_[q];
    st.end_reason = end_reason_name(end_[q]);
    // The file holds NaN for a material the design does not have and for layer
    // positions past its own layer count.
    for (size_t m = 0; m < nm_; ++m)
      if (!std::isnan(mat_[q * nm_ + m])) st.material_charge_mAh_g[materials_[m]] = mat_[q * nm_ + m];
    st.layer_charge_mAh_g.assign(lay_.begin() + q * nl_, lay_.begin() + q * nl_ + layers_in(q));
    v.steps.push_back(std::move(st));
  }
  return v;
}

std::vector<double> PopulationColumns::design_values(size_t r) const {
  std::vector<double> out;
  for (const std::vector<double>& c : design_) out.push_back(c[r]);
  return out;
}

std::vector<size_t> PopulationColumns::rows_by_design_id() const {
  std::vector<size_t> order(ids_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids_[a] < ids_[b]; });
  return order;
}

std::set<std::string> PopulationColumns::materials_present() const {
  std::set<std::string> present;
  for (size_t m = 0; m < nm_; ++m)
    for (size_t q = 0; q < ids_.size() * ns_; ++q)
      if (!std::isnan(mat_[q * nm_ + m])) {
        present.insert(materials_[m]);
        break;
      }
  return present;
}

size_t PopulationColumns::layers_used() const {
  size_t most = 0;
  for (size_t q = 0; q < ids_.size() * ns_; ++q) most = std::max(most, layers_in(q));
  return most;
}

StoredPopulation read_population(const ResultsStore& store) {
  const PopulationColumns cols(store);
  StoredPopulation pop;
  pop.step_texts = cols.step_texts();
  for (size_t r : cols.rows_by_design_id()) pop.results.push_back(cols.row(r));
  return pop;
}

std::vector<std::string> step_end_notes_of_file(const ResultsStore& store) {
  const hid_t f = store.file();
  h5::Handle meta = h5::open_group(f, "meta");
  ElectrolyteTableEnd tables;
  if (H5Aexists(meta.id(), "electrolyte_table_end_mol_m3") > 0) {
    tables.c_mol_m3 = h5::get_attr_double(meta.id(), "electrolyte_table_end_mol_m3");
    tables.property = h5::get_attr_string(meta.id(), "electrolyte_table_end_property");
  }
  const std::vector<std::string> step_texts = h5::get_attr_strings(meta.id(), "step_texts");
  const size_t ns = step_texts.size();
  StepEndTally tally(ns, tables);
  // Two datasets only: a large file is not read whole for the notes.
  const std::vector<int32_t> end = h5::read_int32(f, "population/step/end_reason");
  const std::vector<double> ce = h5::exists(f, "population/step/max_ce_mol_m3")
                                     ? h5::read_float64(f, "population/step/max_ce_mol_m3")
                                     : std::vector<double>(end.size(), std::nan(""));
  if (ce.size() != end.size())
    throw h5::H5Error(store.path() + ": population/step/end_reason and max_ce_mol_m3 differ in rows");
  tally.designs = ns > 0 ? end.size() / ns : 0;
  for (size_t q = 0; q < tally.designs * ns; ++q) tally.add(q % ns, end[q], ce[q]);
  return step_end_notes(step_texts, tally);
}

}  // namespace strata
