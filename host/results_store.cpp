#include "host/results_store.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "host/build_info.hpp"
#include "host/scenario_loader.hpp"
#include "kernels/dfn_protocol.hpp"

namespace strata {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr hsize_t kChunkRows = 1024;

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char* kStepCounts[][2] = {
    {"end_reason", "0 not run, 1 limit, 2 duration, 3 failed, 4 limit at start, 5 limit not located"},
    {"time_steps", "accepted time steps"},
    {"newton_iterations", "Newton iterations"},
};

// /meta's record of where the electrolyte tables end (only when one is tabulated).
void set_table_end(hid_t meta, const ElectrolyteTableEnd& tables) {
  if (!std::isfinite(tables.c_mol_m3)) return;
  h5::set_attr(meta, "electrolyte_table_end_mol_m3", tables.c_mol_m3);
  h5::set_attr(meta, "electrolyte_table_end_property", tables.property);
}

}  // namespace

std::string iso_time_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

RunInfo run_info_for(const Scenario& s, const std::string& command, const std::string& device) {
  RunInfo info;
  info.command = command;
  info.device = device;
#ifdef STRATA_BUILD_TYPE
  info.build_type = STRATA_BUILD_TYPE;
#endif
  info.scenario_file = s.file;
  info.scenario_name = s.name;
  info.scenario_text = s.text;
  info.n_designs = static_cast<int64_t>(s.variants.size());
  info.step_texts = s.protocol.step_texts;
  std::set<std::string> used;
  for (const Layer& l : s.layers)
    for (const LayerMaterial& lm : l.materials) used.insert(lm.material);
  info.material_names.assign(used.begin(), used.end());
  std::set<std::string> files;
  for (const auto& name : used) files.insert(s.materials.at(name).file);
  files.insert(s.electrolyte.file);
  for (const auto& f : files) {
    if (f.empty()) continue;
    info.material_files.push_back(f);
    info.material_texts.push_back(read_text(f));
  }
  info.n_layers = static_cast<int>(s.layers.size());
  std::set<std::string> paths;
  for (const VariantSpec& v : s.variants)
    for (const auto& [p, value] : v.overrides) paths.insert(p);
  info.var_paths.assign(paths.begin(), paths.end());
  info.objectives = s.objectives;
  info.constraints = s.design.constraints;
  info.electrolyte_tables = electrolyte_table_end(s.electrolyte);
  return info;
}

std::string objective_units(const ObjectiveSpec& o) {
  if (o.kind == "capacity_mAh_g") return "mAh/g";
  if (o.kind == "capacity_mAh_cm2") return "mAh/cm2";
  if (o.kind == "energy_Wh_kg") return "Wh/kg";
  return "-";
}

std::string constraint_units(const ConstraintSpec& c) {
  return c.metric.kind == "active_mass_mg_cm2" ? "mg/cm2" : objective_units(c.metric);
}

std::vector<double> objective_values(const std::vector<ObjectiveSpec>& objectives, const VariantResult& r) {
  std::vector<double> out;
  for (const ObjectiveSpec& o : objectives) {
    double v = kNaN;
    if (r.status == 0 && o.step >= 0 && o.step < (int)r.steps.size()) {
      const StepResult& s = r.steps[o.step];
      if (o.kind == "retention") {
        const double ref = (o.reference_step >= 0 && o.reference_step < (int)r.steps.size())
                               ? r.steps[o.reference_step].capacity_mAh_g : 0.0;
        v = ref > 0 ? s.capacity_mAh_g / ref : kNaN;
      } else if (o.kind == "capacity_mAh_g") {
        v = s.capacity_mAh_g;
      } else if (o.kind == "capacity_mAh_cm2") {
        v = s.capacity_mAh_cm2;
      } else if (o.kind == "energy_Wh_kg") {
        v = std::fabs(s.energy_Wh_kg);
      }
    }
    out.push_back(v);
  }
  // Weighted sums of the objectives above (their terms are never weighted sums).
  for (size_t k = 0; k < objectives.size(); ++k) {
    const ObjectiveSpec& o = objectives[k];
    if (o.kind != "weighted_sum") continue;
    double sum = 0.0;
    for (size_t t = 0; t < o.term_objectives.size(); ++t)
      for (size_t q = 0; q < objectives.size(); ++q)
        if (objectives[q].name == o.term_objectives[t]) sum += o.term_weights[t] * out[q];
    out[k] = r.status == 0 ? sum : kNaN;
  }
  return out;
}

std::vector<double> constraint_values(const std::vector<ConstraintSpec>& constraints, const VariantResult& r) {
  std::vector<double> out;
  for (const ConstraintSpec& c : constraints)
    out.push_back(c.metric.kind == "active_mass_mg_cm2" ? (r.status == 0 ? r.active_mass_mg_cm2 : kNaN)
                                                         : objective_values({c.metric}, r)[0]);
  return out;
}

TrajectoryData extract_trajectory(Batch& b, int v, int64_t design_id, const std::vector<std::string>& material_names,
                                  const std::vector<ProfileRequest>& requests) {
  const DfnShape& S = b.shape;
  const TrajectoryLayout& L = b.trajectory_layout;
  Strided<double> rec = b.view(v), tr = b.trajectory_view(v);
  TrajectoryData t;
  t.design_id = design_id;
  t.label = b.labels[v];
  t.status = static_cast<int>(rec[S.o_misc + kMiscStatus]);
  const double mass_g_m2 = rec[S.o_scalar + kActiveMass_kg_m2] * 1000.0;
  std::map<std::string, size_t> mindex;
  for (size_t k = 0; k < material_names.size(); ++k) mindex[material_names[k]] = k;
  const size_t nm = material_names.size();
  // Sodium of each material at the two ends of its window, for the state of charge.
  std::vector<double> na_dis(nm, 0.0), na_ch(nm, 0.0);
  std::vector<int> slot_mat(S.n_slots, -1);
  for (int s = 0; s < S.n_slots; ++s) {
    const int id = b.slot_material[(size_t)v * S.n_slots + s];
    if (id < 0) continue;
    const auto it = mindex.find(b.material_names[id]);
    if (it == mindex.end()) continue;
    slot_mat[s] = static_cast<int>(it->second);
    const long sp = S.o_slot + (long)kSlotParams * s;
    na_dis[it->second] += slot_sodium_at_mol_m2(S, rec, s, rec[sp + kSlotXDischarged]);
    na_ch[it->second] += slot_sodium_at_mol_m2(S, rec, s, rec[sp + kSlotXCharged]);
  }
  const long n = L.record_size > 0 ? static_cast<long>(tr[L.o_count]) : 0;
  for (long k = 0; k < n; ++k) {
    const long o = L.o_samples + k * L.sample_size;
    t.time_s.push_back(tr[o + kSampleTime_s]);
    t.step.push_back(static_cast<int32_t>(tr[o + kSampleStep]));
    t.current_A_m2.push_back(tr[o + kSampleCurrent_A_m2]);
    t.potential_V.push_back(tr[o + kSamplePotential_V]);
    t.capacity_mAh_g.push_back(tr[o + kSampleCapacity_C_m2] / 3.6 / mass_g_m2);
    std::vector<double> na(nm, 0.0);
    for (int s = 0; s < S.n_slots; ++s)
      if (slot_mat[s] >= 0) na[slot_mat[s]] += tr[o + kSampleFields + s];
    for (size_t m = 0; m < nm; ++m) {
      const double span = na_dis[m] - na_ch[m];
      t.material_soc.push_back(span > 0 ? (na_dis[m] - na[m]) / span : kNaN);
    }
  }
  for (int p = 0; p < b.trajectory_spec.n_profiles; ++p) {
    const long o = L.o_profiles + (long)p * L.profile_size;
    if (tr[o] == 0.0) continue;  // never triggered (e.g. the design failed before)
    TrajectoryData::Profile pr;
    pr.request = p;
    const ProfileRequest& req = requests[p];
    pr.step = req.step;
    pr.at = req.at == ProfileRequest::At::End ? "end" : (req.at == ProfileRequest::At::Time ? "time" : "capacity");
    pr.requested = req.value;
    pr.time_s = tr[o + 1];
    double edge = 0.0;
    const long oc = o + 3, op = oc + S.nx, oe = op + S.nx, oj = oe + S.n_cols, oxs = oj + S.n_cols;
    for (int i = 0; i < S.nx; ++i) {
      const double dx = rec[S.o_dx + i];
      pr.x_m.push_back(edge + 0.5 * dx);
      edge += dx;
      for (int k = 1; k <= S.n_layers; ++k)
        if (i + 1 == S.layer_first_cell[k]) pr.interfaces_m.push_back(edge);
      pr.ce_mol_m3.push_back(tr[oc + i]);
      pr.phie_V.push_back(tr[op + i]);
    }
    pr.eta_V.assign((size_t)S.ne * nm, kNaN);
    pr.j_A_m2.assign((size_t)S.ne * nm, kNaN);
    pr.x_surf.assign((size_t)S.ne * nm, kNaN);
    for (int i = 0; i < S.ne; ++i) {
      const int layer = S.cell_layer[i];
      for (int col = S.cell_first_col[i], s = S.layer_first_slot[layer]; col < S.cell_first_col[i + 1]; ++col, ++s) {
        // Absent: a padding slot, or a material at zero fraction in this layer.
        if (slot_mat[s] < 0 || rec[S.o_slot + (long)kSlotParams * s + kSlotVolumeFraction] <= 0.0) continue;
        const size_t q = (size_t)i * nm + slot_mat[s];
        pr.eta_V[q] = tr[oe + col];
        pr.j_A_m2[q] = tr[oj + col];
        pr.x_surf[q] = tr[oxs + col];
      }
    }
    t.profiles.push_back(std::move(pr));
  }
  return t;
}

ResultsStore::~ResultsStore() = default;  // out_ commits what is pending

namespace {

// HDF5 1.8 object format: compact groups and headers (about half the size of the
// 1.0 format for many small trajectory groups); readable by any HDF5 >= 1.8.
h5::Handle v18_file_access() {
  h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_V18, H5F_LIBVER_V18);
  return fapl;
}

// A float64 table of per_row columns at loc/name, NaN for the `existing` rows a file
// already holds (a dataset added to a file written before it existed).
void create_nan_filled_table(hid_t loc, const std::string& name, hsize_t per_row, const std::string& units,
                             const std::string& what, hsize_t existing) {
  h5::Handle d = h5::create_table(loc, name, h5::Type::Float64, {per_row}, 256, units, what);
  const std::vector<double> missing(existing * per_row, kNaN);
  if (existing > 0) h5::append_rows(d.id(), h5::Type::Float64, existing, missing.data());
}

// /population/layer_thickness_m and layer_porosity, rows x layers (positions from the
// collector): those of the file's run missing from f, NaN for its existing rows.
void add_layer_geometry_tables(hid_t f, const RunInfo& info, hsize_t existing) {
  const hsize_t nl = static_cast<hsize_t>(info.n_layers);
  for (const auto& [name, units, quantity] : {std::array<const char*, 3>{"layer_thickness_m", "m", "thickness"},
                                              std::array<const char*, 3>{"layer_porosity", "-", "porosity"}}) {
    const std::string path = std::string("population/") + name;
    if (!h5::exists(f, path))
      create_nan_filled_table(f, path, nl, units,
                              std::string(quantity) + " of each sub-layer as simulated, by position from the current "
                                                      "collector",
                              existing);
  }
}

// The empty population tables of a new file.
void write_population_skeleton(hid_t f, const RunInfo& info) {
  h5::Handle pop = h5::create_group(f, "population");
  h5::set_attr(pop.id(), "description", std::string("one row per evaluated design"));
  using h5::Type;
  h5::create_table(f, "population/design_id", Type::Int64, {}, kChunkRows, "", "index of the design in the scenario's batch");
  h5::create_table(f, "population/label", Type::String, {}, kChunkRows, "", "variant label");
  h5::create_table(f, "population/status", Type::Int32, {}, kChunkRows, "", "0 ok, else the failure code");
  h5::create_table(f, "population/reason", Type::String, {}, kChunkRows, "", "ok, or why the design failed");
  h5::create_table(f, "population/batch", Type::Int32, {}, kChunkRows, "", "batch that evaluated the design");
  h5::create_table(f, "population/producer", Type::String, {}, kChunkRows, "", "sweep, or the optimiser");
  h5::create_table(f, "population/active_mass_mg_cm2", Type::Float64, {}, kChunkRows, "mg/cm2", "active mass per area");
  h5::create_table(f, "population/layer_order", Type::String, {}, kChunkRows, "", "layer order of the variant");
  add_layer_geometry_tables(f, info, 0);
  h5::Handle var = h5::create_group(f, "population/var");
  h5::set_attr(var.id(), "description", std::string("design variables: one column per override path"));
  for (const auto& p : info.var_paths)
    h5::create_table(var.id(), p, Type::Float64, {}, kChunkRows, override_path_units(p), "value of " + p);
  h5::Handle step = h5::create_group(f, "population/step");
  h5::set_attr(step.id(), "description", std::string("per-protocol-step metrics, rows x steps"));
  const hsize_t ns = info.step_texts.size();
  for (const StepMetric& m : kStepMetrics)
    h5::create_table(step.id(), m.name, Type::Float64, {ns}, 256, m.units, m.description);
  for (const auto& m : kStepCounts) h5::create_table(step.id(), m[0], Type::Int32, {ns}, 256, "", m[1]);
  h5::create_table(step.id(), "material_charge_mAh_g", Type::Float64, {ns, (hsize_t)info.material_names.size()}, 64,
                   "mAh/g", "charge passed by each material (/meta material_names), per gram of active material");
  h5::create_table(step.id(), "layer_charge_mAh_g", Type::Float64, {ns, (hsize_t)info.n_layers}, 64, "mAh/g",
                   "charge passed by each sub-layer position, per gram of active material");
  h5::Handle obj = h5::create_group(f, "population/objective");
  h5::set_attr(obj.id(), "description", std::string("objectives of the scenario, NaN for failed designs"));
  for (const auto& o : info.objectives) {
    h5::Handle d = h5::create_table(obj.id(), o.name, Type::Float64, {}, kChunkRows, objective_units(o),
                                    fmt::format("{} of step {}{}", o.kind, o.step,
                                                o.kind == "retention" ? fmt::format(" over step {}", o.reference_step)
                                                                      : std::string()));
    h5::set_attr(d.id(), "sense", std::string(o.maximize ? "maximize" : "minimize"));
  }
  h5::Handle con = h5::create_group(f, "population/constraint");
  h5::set_attr(con.id(), "description", std::string("constraint metrics of the design search, NaN for failed designs"));
  for (const auto& c : info.constraints) {
    h5::Handle d = h5::create_table(con.id(), c.name, Type::Float64, {}, kChunkRows,
                                    constraint_units(c),
                                    c.metric.step < 0 ? c.metric.kind
                                                      : fmt::format("{} of step {}", c.metric.kind, c.metric.step));
    h5::set_attr(d.id(), "min", c.min);
    h5::set_attr(d.id(), "max", c.max);
  }
}

// /meta, the empty population tables and the groups of a new file.
void write_skeleton(hid_t f, const RunInfo& info, const std::string& start_time) {
  h5::Handle meta = h5::create_group(f, "meta");
  h5::set_attr(meta.id(), "description", std::string("provenance of the run"));
  h5::set_attr(meta.id(), "program", std::string("strata"));
  h5::set_attr(meta.id(), "version", std::string(STRATA_VERSION));
  h5::set_attr(meta.id(), "git_revision", std::string(STRATA_GIT_REV));
  h5::set_attr(meta.id(), "build_type", info.build_type);
  h5::set_attr(meta.id(), "device", info.device);
  h5::set_attr(meta.id(), "command", info.command);
  h5::set_attr(meta.id(), "start_time", start_time);
  h5::set_attr(meta.id(), "end_time", std::string());
  h5::set_attr(meta.id(), "status", std::string("running"));
  h5::set_attr(meta.id(), "seed", info.seed);
  h5::set_attr(meta.id(), "scenario_name", info.scenario_name);
  h5::set_attr(meta.id(), "scenario_file", info.scenario_file);
  h5::set_attr(meta.id(), "scenario_text", info.scenario_text);
  h5::set_attr(meta.id(), "material_files", info.material_files);
  h5::set_attr(meta.id(), "material_texts", info.material_texts);
  h5::set_attr(meta.id(), "n_designs", info.n_designs);
  h5::set_attr(meta.id(), "step_texts", info.step_texts);
  h5::set_attr(meta.id(), "material_names", info.material_names);
  if (!info.design_objective.empty()) h5::set_attr(meta.id(), "design_objective", info.design_objective);
  set_table_end(meta.id(), info.electrolyte_tables);
  if (info.shard_count > 0) {
    h5::set_attr(meta.id(), "shard_index", static_cast<int64_t>(info.shard_index));
    h5::set_attr(meta.id(), "shard_count", static_cast<int64_t>(info.shard_count));
  }
  write_population_skeleton(f, info);
  h5::Handle opt = h5::create_group(f, "optimizer");
  h5::set_attr(opt.id(), "description", std::string("one subgroup per optimiser instance"));
  h5::Handle tr = h5::create_group(f, "trajectories");
  h5::set_attr(tr.id(), "description", std::string("one subgroup per selected design, named by design_id"));
}

}  // namespace

ResultsStore ResultsStore::create(const std::string& path, const RunInfo& info, bool overwrite) {
  if (std::filesystem::exists(path) && !overwrite)
    throw ResultsStoreError(path + " exists; pass --resume " + path + " to continue it or --overwrite to replace it");
  const std::string aside = CommittedH5File::aside_path(path);
  if (!std::filesystem::exists(path) && std::filesystem::exists(aside) && !overwrite)
    throw ResultsStoreError(path + " is missing but " + aside + " holds its last commit (a run killed while committing); pass --resume " + path +
                            " to continue it or --overwrite to replace it");
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  ResultsStore st;
  st.path_ = path;
  st.info_ = std::make_shared<const RunInfo>(info);
  // Built as <path>.part and renamed at the first commit, so a job killed while the
  // file is being created leaves no unreadable file at `path` (and --overwrite keeps
  // the old file until the new one is readable).
  try {
    st.out_ = CommittedH5File::create(path, v18_file_access().id());
  } catch (const FileInUse& e) {
    throw ResultsStoreError("cannot write " + path + ": " + e.what());
  } catch (const std::runtime_error& e) {  // h5::H5Error, or the lock file
    throw ResultsStoreError(e.what());
  }
  st.out_.edit([info = st.info_, start = iso_time_now()](hid_t f) { write_skeleton(f, *info, start); });
  st.flush();
  return st;
}

std::string material_data_difference(hid_t meta, const std::vector<std::string>& files,
                                     const std::vector<std::string>& texts, const std::string& ours,
                                     const std::string& theirs) {
  if (H5Aexists(meta, "material_files") <= 0 || H5Aexists(meta, "material_texts") <= 0) return "";
  const auto by_name = [](const std::vector<std::string>& f, const std::vector<std::string>& t) {
    std::map<std::string, std::pair<std::string, std::string>> m;  // file name -> (path, text)
    for (size_t k = 0; k < f.size() && k < t.size(); ++k)
      m[std::filesystem::path(f[k]).filename().string()] = {f[k], t[k]};
    return m;
  };
  const auto recorded = by_name(h5::get_attr_strings(meta, "material_files"), h5::get_attr_strings(meta, "material_texts"));
  const auto given = by_name(files, texts);
  for (const auto& [name, pt] : given) {
    const auto it = recorded.find(name);
    if (it == recorded.end()) return ours + " uses the data file " + pt.first + ", which " + theirs + " did not";
    if (it->second.second != pt.second)
      return it->second.first == pt.first
                 ? "the data file " + pt.first + " has changed since " + theirs + " read it"
                 : "the data file " + pt.first + " (" + ours + ") differs from " + it->second.first + " as " +
                       theirs + " read it";
  }
  for (const auto& [name, pt] : recorded)
    if (!given.count(name)) return theirs + " used the data file " + pt.first + ", which " + ours + " does not";
  return "";
}

ResultsStore ResultsStore::resume(const std::string& path, const RunInfo& info) {
  if (!std::filesystem::exists(path) && !std::filesystem::exists(CommittedH5File::aside_path(path)))
    throw ResultsStoreError("cannot resume " + path + ": no such file");
  ResultsStore st;
  st.path_ = path;
  st.info_ = std::make_shared<const RunInfo>(info);
  try {
    st.out_ = CommittedH5File::open(path, v18_file_access().id());
  } catch (const FileInUse& e) {
    throw ResultsStoreError("cannot resume " + path + ": " + e.what());
  } catch (const h5::H5Error&) {
    throw ResultsStoreError("cannot resume " + path +
                            ": HDF5 refuses it (not a readable HDF5 file, or another program holds it open for writing)");
  } catch (const std::runtime_error& e) {  // the lock file
    throw ResultsStoreError("cannot resume " + path + ": " + e.what());
  }
  const hid_t f = st.file();
  if (!h5::exists(f, "meta") || !h5::exists(f, "population/design_id"))
    throw ResultsStoreError("cannot resume " + path + ": not a strata results file (no /meta or /population)");
  h5::Handle meta = h5::open_group(f, "meta");
  const std::string text = h5::get_attr_string(meta.id(), "scenario_text");
  if (text != info.scenario_text)
    throw ResultsStoreError("cannot resume " + path + ": it was written for scenario '" +
                            h5::get_attr_string(meta.id(), "scenario_name") + "' (" +
                            h5::get_attr_string(meta.id(), "scenario_file") +
                            ") whose text differs from " + info.scenario_file + "; use the same scenario file");
  const std::string file_objective =
      H5Aexists(meta.id(), "design_objective") > 0 ? h5::get_attr_string(meta.id(), "design_objective") : "";
  if (const std::string d = material_data_difference(meta.id(), info.material_files, info.material_texts); !d.empty())
    throw ResultsStoreError("cannot resume " + path + ": " + d +
                            ", so its designs and this run's would not share one set of physics; restore that file "
                            "or start a new results file");
  if (file_objective.empty() && !info.design_objective.empty())
    throw ResultsStoreError("cannot resume " + path + " with strata optimize: it holds no design "
                            "campaign (strata simulate or strata fit wrote it); continue it with the command that "
                            "wrote it, or give the campaign its own file with --out");
  if (!file_objective.empty() && info.design_objective.empty())
    throw ResultsStoreError("cannot resume " + path + ": it holds a strata optimize campaign (objective '" +
                            file_objective + "'); continue it with strata optimize --resume");
  if (file_objective != info.design_objective)
    throw ResultsStoreError("cannot resume " + path + ": it holds a campaign for objective '" + file_objective +
                            "' and this run optimises '" + info.design_objective +
                            "'; give the same --objective as the run that wrote it");
  const std::int64_t file_designs = h5::get_attr_int(meta.id(), "n_designs");
  if (!info.design_objective.empty() && file_designs != info.n_designs)
    throw ResultsStoreError("cannot resume " + path + ": its campaign budget is " + std::to_string(file_designs) +
                            " evaluations and this run's is " + std::to_string(info.n_designs) +
                            "; give the same --scale as the run that wrote it");
  const bool file_sharded = H5Aexists(meta.id(), "shard_count") > 0;
  const std::string file_shard = file_sharded ? fmt::format("{}/{}", h5::get_attr_int(meta.id(), "shard_index"),
                                                            h5::get_attr_int(meta.id(), "shard_count"))
                                              : std::string("none");
  const std::string run_shard =
      info.shard_count > 0 ? fmt::format("{}/{}", info.shard_index, info.shard_count) : std::string("none");
  if (file_shard != run_shard)
    throw ResultsStoreError("cannot resume " + path + ": it holds shard " + file_shard + " and this run is shard " +
                            run_shard + "; give the same --shard as the run that wrote it");
  try {  // a damaged file (e.g. one killed inside a write by a strata from before
          // commits, host/committed_h5_file.hpp): say so rather than fail later
    (void)st.design_ids();
  } catch (const h5::H5Error& e) {
    throw ResultsStoreError("cannot resume " + path + ": the file is damaged (" + e.what() + ")");
  }
  meta = h5::Handle();
  // A file from before a step metric existed gets its dataset, NaN for the rows
  // already there, so that every population dataset keeps the same row count.
  st.out_.edit([info = st.info_, existing = static_cast<hsize_t>(st.rows())](hid_t f) {
    const hsize_t ns = info->step_texts.size();
    h5::Handle step = h5::open_group(f, "population/step");
    for (const StepMetric& m : kStepMetrics)
      if (!h5::exists(step.id(), m.name)) create_nan_filled_table(step.id(), m.name, ns, m.units, m.description, existing);
    add_layer_geometry_tables(f, *info, existing);  // from before 2026-12-07
    h5::Handle meta = h5::open_group(f, "meta");
    if (H5Aexists(meta.id(), "electrolyte_table_end_mol_m3") <= 0) set_table_end(meta.id(), info->electrolyte_tables);
    h5::set_attr(meta.id(), "status", std::string("running"));
    h5::set_attr(meta.id(), "command", info->command);
  });
  st.flush();
  return st;
}

namespace {
// True when the file starts with the HDF5 signature (strata's superblock is at 0).
bool has_hdf5_signature(const std::string& path) {
  static const char kSignature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  char head[8] = {};
  std::ifstream in(path, std::ios::binary);
  return in.read(head, 8) && std::equal(head, head + 8, kSignature);
}
}  // namespace

ResultsStore ResultsStore::open_read(const std::string& path) {
  if (!std::filesystem::exists(path)) throw ResultsStoreError("cannot open " + path + ": no such file");
  // HDF5's lock (a run never writes a copy a reader holds), except on a file system
  // without flock, where HDF5 would refuse every file (some Lustre mounts).
  h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_file_locking(fapl.id(), true, true);
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.id());
  // A file opened just as a run commits can be the old copy, locked by then for the
  // run's next writes: the path names the new one a moment later.
  for (int retry = 0; f < 0 && retry < 5 && has_hdf5_signature(path); ++retry) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.id());
  }
  if (f < 0 && has_hdf5_signature(path))
    // HDF5 1.10 locks a file a writer holds open. strata's runs do not hold the file at
    // the path (host/committed_h5_file.hpp), but another program may (h5py in "a" mode).
    throw ResultsStoreError("cannot open " + path + ": HDF5 refuses it; another program holds it open for "
                            "writing (HDF5 file lock), or it is damaged");
  if (f < 0) throw ResultsStoreError("cannot open " + path + ": not a readable HDF5 file");
  ResultsStore st;
  st.path_ = path;
  st.read_ = h5::Handle(f);
  if (!h5::exists(f, "meta") || !h5::exists(f, "population/design_id"))
    throw ResultsStoreError(path + " is not a strata results file (no /meta or /population)");
  return st;
}

std::set<int64_t> ResultsStore::design_ids() const {
  const std::vector<int64_t> ids = h5::read_int64(file(), "population/design_id");
  return std::set<int64_t>(ids.begin(), ids.end());
}

int ResultsStore::next_batch() const {
  const std::vector<int32_t> b = h5::read_int32(file(), "population/batch");
  int m = -1;
  for (int32_t x : b) m = std::max<int>(m, x);
  return m + 1;
}

int64_t ResultsStore::rows() const {
  h5::Handle d(H5Dopen2(file(), "population/design_id", H5P_DEFAULT));
  return static_cast<int64_t>(h5::rows(d.id()));
}

bool ResultsStore::has_trajectory(int64_t design_id) const {
  return h5::exists(file(), "trajectories/" + std::to_string(design_id));
}

void ResultsStore::append_buffered(std::vector<PopulationRow> rows, double min_interval_s) {
  buffered_.insert(buffered_.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
  if (std::chrono::duration<double>(std::chrono::steady_clock::now() - last_write_).count() >= min_interval_s)
    write_buffered();
}

void ResultsStore::write_buffered() {
  append(std::move(buffered_));
  buffered_.clear();
}

namespace {

void append_population(hid_t f, const RunInfo& info, const std::vector<PopulationRow>& rows) {
  const size_t n = rows.size(), ns = info.step_texts.size(), nm = info.material_names.size();
  const size_t nl = static_cast<size_t>(info.n_layers);
  auto open = [&](const std::string& p) { return h5::Handle(h5::check(H5Dopen2(f, p.c_str(), H5P_DEFAULT), "opening " + p)); };
  using h5::Type;
  std::vector<int64_t> ids;
  std::vector<int32_t> status, batch;
  std::vector<double> mass;
  std::vector<std::string> label, reason, producer, order;
  for (const PopulationRow& r : rows) {
    ids.push_back(r.result.id);
    status.push_back(r.result.status);
    batch.push_back(r.batch);
    mass.push_back(r.result.active_mass_mg_cm2);
    label.push_back(r.result.label);
    reason.push_back(r.result.reason);
    producer.push_back(r.producer);
    order.push_back(r.layer_order);
  }
  h5::append_rows(open("population/design_id").id(), Type::Int64, n, ids.data());
  h5::append_strings(open("population/label").id(), label);
  h5::append_rows(open("population/status").id(), Type::Int32, n, status.data());
  h5::append_strings(open("population/reason").id(), reason);
  h5::append_rows(open("population/batch").id(), Type::Int32, n, batch.data());
  h5::append_strings(open("population/producer").id(), producer);
  h5::append_rows(open("population/active_mass_mg_cm2").id(), Type::Float64, n, mass.data());
  h5::append_strings(open("population/layer_order").id(), order);
  std::vector<double> thick, poro;
  for (const PopulationRow& r : rows)
    for (size_t k = 0; k < nl; ++k) {
      thick.push_back(k < r.result.layer_thickness_m.size() ? r.result.layer_thickness_m[k] : kNaN);
      poro.push_back(k < r.result.layer_porosity.size() ? r.result.layer_porosity[k] : kNaN);
    }
  h5::append_rows(open("population/layer_thickness_m").id(), Type::Float64, n, thick.data());
  h5::append_rows(open("population/layer_porosity").id(), Type::Float64, n, poro.data());
  for (size_t k = 0; k < info.var_paths.size(); ++k) {
    std::vector<double> col;
    for (const PopulationRow& r : rows) col.push_back(k < r.variables.size() ? r.variables[k] : kNaN);
    h5::append_rows(open("population/var/" + info.var_paths[k]).id(), Type::Float64, n, col.data());
  }
  auto step_value = [&](const PopulationRow& r, size_t s) -> const StepResult* {
    return s < r.result.steps.size() ? &r.result.steps[s] : nullptr;
  };
  for (const StepMetric& m : kStepMetrics) {
    std::vector<double> a;
    for (const PopulationRow& r : rows)
      for (size_t s = 0; s < ns; ++s) a.push_back(step_value(r, s) ? step_value(r, s)->*m.member : kNaN);
    h5::append_rows(open(std::string("population/step/") + m.name).id(), Type::Float64, n, a.data());
  }
  std::vector<int32_t> reason_code, tsteps, newton;
  std::vector<double> mat, lay;
  for (const PopulationRow& r : rows)
    for (size_t s = 0; s < ns; ++s) {
      const StepResult* sr = step_value(r, s);
      reason_code.push_back(sr ? end_reason_code(sr->end_reason) : 0);
      tsteps.push_back(sr ? static_cast<int32_t>(sr->time_steps) : 0);
      newton.push_back(sr ? static_cast<int32_t>(sr->newton_iterations) : 0);
      for (size_t q = 0; q < nm; ++q) {
        double c = kNaN;
        if (sr) {
          const auto it = sr->material_charge_mAh_g.find(info.material_names[q]);
          if (it != sr->material_charge_mAh_g.end()) c = it->second;
        }
        mat.push_back(c);
      }
      for (size_t q = 0; q < nl; ++q)
        lay.push_back(sr && q < sr->layer_charge_mAh_g.size() ? sr->layer_charge_mAh_g[q] : kNaN);
    }
  h5::append_rows(open("population/step/end_reason").id(), Type::Int32, n, reason_code.data());
  h5::append_rows(open("population/step/time_steps").id(), Type::Int32, n, tsteps.data());
  h5::append_rows(open("population/step/newton_iterations").id(), Type::Int32, n, newton.data());
  h5::append_rows(open("population/step/material_charge_mAh_g").id(), Type::Float64, n, mat.data());
  h5::append_rows(open("population/step/layer_charge_mAh_g").id(), Type::Float64, n, lay.data());
  for (size_t k = 0; k < info.objectives.size(); ++k) {
    std::vector<double> col;
    for (const PopulationRow& r : rows) col.push_back(k < r.objectives.size() ? r.objectives[k] : kNaN);
    h5::append_rows(open("population/objective/" + info.objectives[k].name).id(), Type::Float64, n, col.data());
  }
  for (size_t k = 0; k < info.constraints.size(); ++k) {
    std::vector<double> col;
    for (const PopulationRow& r : rows) col.push_back(k < r.constraints.size() ? r.constraints[k] : kNaN);
    h5::append_rows(open("population/constraint/" + info.constraints[k].name).id(), Type::Float64, n, col.data());
  }
}

void write_trajectory_group(hid_t f, const RunInfo& info, const TrajectoryData& t) {
  const std::string g = "trajectories/" + std::to_string(t.design_id);
  if (h5::exists(f, g)) return;  // already written (resumed run)
  h5::Handle grp = h5::create_group(f, g);
  h5::set_attr(grp.id(), "label", t.label);
  h5::set_attr(grp.id(), "status", static_cast<int64_t>(t.status));
  h5::set_attr(grp.id(), "description", std::string("time series and profiles of one design"));
  using h5::Type;
  const hsize_t n = t.time_s.size(), nm = info.material_names.size();
  h5::write_array(grp.id(), "time_s", Type::Float64, {n}, t.time_s.data(), "s", "time since the start of the protocol");
  h5::write_array(grp.id(), "step", Type::Int32, {n}, t.step.data(), "", "protocol step index");
  h5::write_array(grp.id(), "current_A_m2", Type::Float64, {n}, t.current_A_m2.data(), "A/m2", "current density (> 0 charging)");
  h5::write_array(grp.id(), "potential_V", Type::Float64, {n}, t.potential_V.data(), "V", "measured potential");
  h5::write_array(grp.id(), "capacity_mAh_g", Type::Float64, {n}, t.capacity_mAh_g.data(), "mAh/g", "capacity passed since the start of the step");
  h5::write_array(grp.id(), "material_soc", Type::Float64, {n, nm}, t.material_soc.data(), "-", "state of charge per material: 0 discharged, 1 charged");
  h5::Handle profiles = h5::create_group(grp.id(), "profiles");
  h5::set_attr(profiles.id(), "description", std::string("through-thickness snapshots"));
  for (const TrajectoryData::Profile& p : t.profiles) {
    h5::Handle pg = h5::create_group(profiles.id(), std::to_string(p.request));
    h5::set_attr(pg.id(), "description", std::string("through-thickness snapshot of profile request k"));
    h5::set_attr(pg.id(), "step", static_cast<int64_t>(p.step));
    h5::set_attr(pg.id(), "interfaces_m", p.interfaces_m);
    h5::set_attr(pg.id(), "at", p.at);
    h5::set_attr(pg.id(), "requested", p.requested);
    h5::set_attr(pg.id(), "time_s", p.time_s);
    const hsize_t nx = p.x_m.size(), ne = nm ? p.eta_V.size() / nm : 0;
    h5::write_array(pg.id(), "x_m", Type::Float64, {nx}, p.x_m.data(), "m", "cell-centre positions, 0 at the current collector");
    h5::write_array(pg.id(), "electrolyte_concentration_mol_m3", Type::Float64, {nx}, p.ce_mol_m3.data(), "mol/m3", "electrolyte concentration c_e");
    h5::write_array(pg.id(), "electrolyte_potential_V", Type::Float64, {nx}, p.phie_V.data(), "V", "electrolyte potential phi_e");
    h5::write_array(pg.id(), "overpotential_V", Type::Float64, {ne, nm}, p.eta_V.data(), "V", "overpotential per electrode cell and material, NaN where absent");
    h5::write_array(pg.id(), "reaction_current_A_m2", Type::Float64, {ne, nm}, p.j_A_m2.data(), "A/m2", "reaction current per particle surface, NaN where absent");
    h5::write_array(pg.id(), "surface_stoichiometry", Type::Float64, {ne, nm}, p.x_surf.data(), "-", "particle surface stoichiometry, NaN where absent");
  }
}

void write_optimizer_group(hid_t f, const RunInfo& info, int k, const std::string& algorithm, const std::string& end,
                           const std::vector<std::string>& variables, const std::vector<int64_t>& iteration,
                           const std::vector<int64_t>& design_id, const std::vector<double>& points,
                           const std::vector<double>& objective, const std::vector<double>& best_objective) {
  const std::string g = "optimizer/" + std::to_string(k);
  using h5::Type;
  if (h5::exists(f, g) && H5Ldelete(f, g.c_str(), H5P_DEFAULT) < 0) throw h5::H5Error("cannot replace " + g);
  const ObjectiveSpec* optimised = find_objective(info.objectives, info.design_objective);
  const std::string objective_unit = optimised ? objective_units(*optimised) : "-";
  std::vector<std::string> variable_units;
  for (const std::string& v : variables) variable_units.push_back(override_path_units(v));
  const bool one_unit = std::all_of(variable_units.begin(), variable_units.end(),
                                    [&](const std::string& u) { return u == variable_units.front(); });
  const hsize_t nv = variables.size(), n = iteration.size();
  h5::Handle grp = h5::create_group(f, g);
  h5::set_attr(grp.id(), "description", std::string("one optimiser instance, one row per evaluation"));
  h5::set_attr(grp.id(), "algorithm", algorithm);
  h5::set_attr(grp.id(), "end", end);
  h5::set_attr(grp.id(), "variables", variables);
  h5::set_attr(grp.id(), "variable_units", variable_units);
  h5::set_attr(grp.id(), "start_design_id", static_cast<int64_t>(design_id.empty() ? -1 : design_id[0]));
  auto table = [&](const char* name, Type type, std::vector<hsize_t> cols, const std::string& units,
                   const std::string& what, const void* data) {
    h5::Handle ds = h5::create_table(grp.id(), name, type, cols, 256, units, what);
    h5::append_rows(ds.id(), type, n, data);
  };
  table("iteration", Type::Int64, {}, "", "iteration number", iteration.data());
  table("design_id", Type::Int64, {}, "", "design evaluated (row in /population)", design_id.data());
  table("point", Type::Float64, {nv}, one_unit && nv ? variable_units.front() : "per variable: variable_units",
        "the point asked for", points.data());
  table("objective", Type::Float64, {}, objective_unit, "objective at the point", objective.data());
  table("best_objective", Type::Float64, {}, objective_unit, "best objective so far", best_objective.data());
}

}  // namespace

void ResultsStore::append(std::vector<PopulationRow> rows) {
  if (rows.empty()) return;
  const auto t0 = std::chrono::steady_clock::now();
  out_.edit([info = info_, r = std::make_shared<const std::vector<PopulationRow>>(std::move(rows))](hid_t f) {
    append_population(f, *info, *r);
  });
  flush();
  last_write_ = std::chrono::steady_clock::now();
  write_s_ += std::chrono::duration<double>(last_write_ - t0).count();
}

void ResultsStore::write_trajectory(TrajectoryData t) {
  out_.edit([info = info_, tr = std::make_shared<const TrajectoryData>(std::move(t))](hid_t f) {
    write_trajectory_group(f, *info, *tr);
  });
}

void ResultsStore::write_optimizer(int k, const std::string& algorithm, const std::string& end,
                                   const std::vector<std::string>& variables, const std::vector<int64_t>& iteration,
                                   const std::vector<int64_t>& design_id, const std::vector<double>& points,
                                   const std::vector<double>& objective, const std::vector<double>& best_objective) {
  out_.edit([=, info = info_](hid_t f) {
    write_optimizer_group(f, *info, k, algorithm, end, variables, iteration, design_id, points, objective,
                          best_objective);
  });
  flush();
}

void ResultsStore::edit(CommittedH5File::Edit e) { out_.edit(std::move(e)); }

void ResultsStore::flush() { out_.commit(); }

void ResultsStore::finish(const std::string& status) {
  if (!out_.is_open()) return;
  write_buffered();
  out_.edit([status, end = iso_time_now()](hid_t f) {
    h5::Handle meta = h5::open_group(f, "meta");
    h5::set_attr(meta.id(), "status", status);
    h5::set_attr(meta.id(), "end_time", end);
  });
  out_.close();
}

}  // namespace strata
