#include "host/population_reader.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "host/h5_file.hpp"

namespace strata {

StoredPopulation read_population(const ResultsStore& store) {
  const hid_t f = store.file();
  h5::Handle meta = h5::open_group(f, "meta");
  StoredPopulation pop;
  pop.step_texts = h5::get_attr_strings(meta.id(), "step_texts");
  const std::vector<std::string> materials = h5::get_attr_strings(meta.id(), "material_names");
  const std::vector<int64_t> ids = h5::read_int64(f, "population/design_id");
  const std::vector<std::string> labels = h5::read_strings(f, "population/label");
  const std::vector<int32_t> status = h5::read_int32(f, "population/status");
  const std::vector<std::string> reasons = h5::read_strings(f, "population/reason");
  const std::vector<double> mass = h5::read_float64(f, "population/active_mass_mg_cm2");
  const std::string s = "population/step/";
  const size_t n = ids.size(), ns = pop.step_texts.size(), nm = materials.size();
  // One column per metric; NaN for a metric the file's writer did not have yet.
  std::vector<std::vector<double>> metric;
  for (const StepMetric& m : kStepMetrics)
    metric.push_back(h5::exists(f, s + m.name) ? h5::read_float64(f, s + m.name)
                                                : std::vector<double>(n * ns, std::nan("")));
  const std::vector<double> mat = h5::read_float64(f, s + "material_charge_mAh_g"),
                            lay = h5::read_float64(f, s + "layer_charge_mAh_g");
  const std::vector<int32_t> end = h5::read_int32(f, s + "end_reason"), steps = h5::read_int32(f, s + "time_steps"),
                             newton = h5::read_int32(f, s + "newton_iterations");
  const std::string lay_path = s + "layer_charge_mAh_g";
  const h5::Handle lay_set(h5::check(H5Dopen2(f, lay_path.c_str(), H5P_DEFAULT), "opening " + lay_path));
  const std::vector<hsize_t> lay_dims = h5::dims(lay_set.id());
  const size_t nl = lay_dims.size() == 3 ? static_cast<size_t>(lay_dims[2]) : 0;
  const auto short_of = [&](size_t have, size_t per_row) { return have < n * per_row; };
  bool short_metric = false;
  for (const std::vector<double>& m : metric) short_metric = short_metric || short_of(m.size(), ns);
  if (labels.size() < n || status.size() < n || reasons.size() < n || mass.size() < n || short_metric ||
      short_of(end.size(), ns) || short_of(steps.size(), ns) || short_of(newton.size(), ns) ||
      short_of(mat.size(), ns * nm) || short_of(lay.size(), ns * nl))
    throw h5::H5Error(store.path() + ": /population datasets have fewer rows than population/design_id");
  pop.results.resize(n);
  for (size_t r = 0; r < n; ++r) {
    VariantResult& v = pop.results[r];
    v.id = static_cast<int>(ids[r]);
    v.label = labels[r];
    v.status = status[r];
    v.reason = reasons[r];
    v.active_mass_mg_cm2 = mass[r];
    for (size_t k = 0; k < ns; ++k) {
      const size_t q = r * ns + k;
      StepResult st;
      for (size_t m = 0; m < metric.size(); ++m) st.*kStepMetrics[m].member = metric[m][q];
      st.time_steps = steps[q];
      st.newton_iterations = newton[q];
      st.end_reason = end_reason_name(end[q]);
      // The file holds NaN for a material the design does not have and for layer
      // positions past its own layer count.
      for (size_t m = 0; m < nm; ++m)
        if (!std::isnan(mat[q * nm + m])) st.material_charge_mAh_g[materials[m]] = mat[q * nm + m];
      size_t used = nl;
      while (used > 0 && std::isnan(lay[q * nl + used - 1])) --used;
      st.layer_charge_mAh_g.assign(lay.begin() + q * nl, lay.begin() + q * nl + used);
      v.steps.push_back(std::move(st));
    }
  }
  std::stable_sort(pop.results.begin(), pop.results.end(),
                   [](const VariantResult& a, const VariantResult& b) { return a.id < b.id; });
  return pop;
}

StepEndTally tally_step_ends(const ResultsStore& store) {
  const hid_t f = store.file();
  h5::Handle meta = h5::open_group(f, "meta");
  ElectrolyteTableEnd tables;
  if (H5Aexists(meta.id(), "electrolyte_table_end_mol_m3") > 0) {
    tables.c_mol_m3 = h5::get_attr_double(meta.id(), "electrolyte_table_end_mol_m3");
    tables.property = h5::get_attr_string(meta.id(), "electrolyte_table_end_property");
  }
  const size_t ns = h5::get_attr_strings(meta.id(), "step_texts").size();
  StepEndTally tally(ns, tables);
  const std::vector<int32_t> end = h5::read_int32(f, "population/step/end_reason");
  const std::vector<double> ce = h5::exists(f, "population/step/max_ce_mol_m3")
                                     ? h5::read_float64(f, "population/step/max_ce_mol_m3")
                                     : std::vector<double>(end.size(), std::nan(""));
  if (ce.size() != end.size())
    throw h5::H5Error(store.path() + ": population/step/end_reason and max_ce_mol_m3 differ in rows");
  tally.designs = ns > 0 ? end.size() / ns : 0;
  for (size_t q = 0; q < tally.designs * ns; ++q) tally.add(q % ns, end[q], ce[q]);
  return tally;
}

std::vector<std::string> step_end_notes_of_file(const ResultsStore& store) {
  h5::Handle meta = h5::open_group(store.file(), "meta");
  return step_end_notes(h5::get_attr_strings(meta.id(), "step_texts"), tally_step_ends(store));
}

}  // namespace strata
