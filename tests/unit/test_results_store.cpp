// The HDF5 results file: exact round trip of every group, appending across
// batches, refusal cases, and the schema document checked against a real file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "host/results_store.hpp"
#include "host/scenario_loader.hpp"
#include "host/simulate.hpp"
#include "tests/unit/process_helpers.hpp"

using namespace strata;
using strata::test::TempDir;

namespace {

RunInfo small_info() {
  RunInfo info;
  info.command = "test";
  info.device = "CPU: test";
  info.scenario_file = "x.toml";
  info.scenario_name = "roundtrip";
  info.scenario_text = "[scenario]\nname = \"roundtrip\"\n";
  info.n_designs = 5;
  info.step_texts = {"Charge at 1C until 3.6 V", "Discharge at 1C until 2.3 V"};
  info.material_names = {"A", "B"};
  info.material_files = {"A.toml"};
  info.material_texts = {"name = \"A\""};
  info.n_layers = 2;
  info.var_paths = {"layers[0].porosity", "layers[1].thickness_m"};
  ObjectiveSpec o;
  o.name = "retention";
  o.step = 1;
  o.reference_step = 0;
  info.objectives = {o};
  return info;
}

PopulationRow row(int id, int batch) {
  PopulationRow r;
  r.result.id = id;
  r.result.label = "design " + std::to_string(id) + " ünïcode";
  r.result.status = id == 3 ? 1 : 0;
  r.result.reason = id == 3 ? "Newton did not converge" : "ok";
  r.result.active_mass_mg_cm2 = 10.0 + id / 7.0;
  for (int k = 0; k < 2; ++k) {
    StepResult s;
    s.capacity_mAh_g = 100.0 / (id + k + 1.0);
    s.capacity_mAh_cm2 = s.capacity_mAh_g * 0.0123;
    s.charge_mAh_g = (k ? -1 : 1) * s.capacity_mAh_g;
    s.energy_Wh_kg = 3.3 * s.charge_mAh_g;
    s.end_potential_V = k ? 2.3 : 3.6 + 1e-13 * id;
    s.end_current_A_m2 = 1.0 / 3.0 + id;
    s.duration_s = 3600.0 * std::sqrt(id + 1.0);
    s.time_steps = 80 + id;
    s.newton_iterations = 300 + id;
    s.end_reason = "limit";
    s.material_charge_mAh_g = {{"A", 0.25 * s.charge_mAh_g}, {"B", 0.75 * s.charge_mAh_g}};
    s.layer_charge_mAh_g = {0.4 * s.charge_mAh_g, 0.6 * s.charge_mAh_g};
    r.result.steps.push_back(s);
  }
  r.variables = {0.3 + 0.01 * id, std::numeric_limits<double>::quiet_NaN()};
  r.layer_order = id % 2 ? "1,0" : "";
  r.objectives = {r.result.steps[1].capacity_mAh_g / r.result.steps[0].capacity_mAh_g};
  r.batch = batch;
  return r;
}

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace

TEST(ResultsStore, PopulationRoundTripIsExactAndAppendsAcrossBatches) {
  TempDir tmp;
  const std::string path = (tmp.path() / "rt.h5").string();
  const RunInfo info = small_info();
  std::vector<PopulationRow> b0 = {row(0, 0), row(1, 0), row(2, 0)}, b1 = {row(3, 1), row(4, 1)};
  {
    ResultsStore st = ResultsStore::create(path, info, false);
    st.append(b0);
    EXPECT_EQ(st.rows(), 3);
    st.append(b1);
    EXPECT_EQ(st.rows(), 5);
    EXPECT_EQ(st.next_batch(), 2);
    st.finish("complete");
  }
  const ResultsStore rd = ResultsStore::open_read(path);
  const hid_t f = rd.file();
  std::vector<PopulationRow> all = b0;
  all.insert(all.end(), b1.begin(), b1.end());
  const auto ids = h5::read_int64(f, "population/design_id");
  const auto labels = h5::read_strings(f, "population/label");
  const auto reasons = h5::read_strings(f, "population/reason");
  const auto status = h5::read_int32(f, "population/status");
  const auto batch = h5::read_int32(f, "population/batch");
  const auto order = h5::read_strings(f, "population/layer_order");
  const auto mass = h5::read_float64(f, "population/active_mass_mg_cm2");
  const auto por = h5::read_float64(f, "population/var/layers[0].porosity");
  const auto thick = h5::read_float64(f, "population/var/layers[1].thickness_m");
  const auto cap = h5::read_float64(f, "population/step/capacity_mAh_g");
  const auto vend = h5::read_float64(f, "population/step/end_potential_V");
  const auto ts = h5::read_int32(f, "population/step/time_steps");
  const auto mat = h5::read_float64(f, "population/step/material_charge_mAh_g");
  const auto lay = h5::read_float64(f, "population/step/layer_charge_mAh_g");
  const auto obj = h5::read_float64(f, "population/objective/retention");
  ASSERT_EQ(ids.size(), 5u);
  ASSERT_EQ(cap.size(), 10u);
  ASSERT_EQ(mat.size(), 20u);
  for (size_t r = 0; r < all.size(); ++r) {
    const PopulationRow& w = all[r];
    EXPECT_EQ(ids[r], w.result.id);
    EXPECT_EQ(labels[r], w.result.label);
    EXPECT_EQ(reasons[r], w.result.reason);
    EXPECT_EQ(status[r], w.result.status);
    EXPECT_EQ(batch[r], w.batch);
    EXPECT_EQ(order[r], w.layer_order);
    EXPECT_EQ(mass[r], w.result.active_mass_mg_cm2);
    EXPECT_TRUE(same(por[r], w.variables[0]));
    EXPECT_TRUE(same(thick[r], w.variables[1]));
    EXPECT_TRUE(same(obj[r], w.objectives[0]));
    for (size_t s = 0; s < 2; ++s) {
      const StepResult& sr = w.result.steps[s];
      EXPECT_EQ(cap[r * 2 + s], sr.capacity_mAh_g);
      EXPECT_EQ(vend[r * 2 + s], sr.end_potential_V);
      EXPECT_EQ(ts[r * 2 + s], sr.time_steps);
      EXPECT_EQ(mat[(r * 2 + s) * 2 + 0], sr.material_charge_mAh_g.at("A"));
      EXPECT_EQ(mat[(r * 2 + s) * 2 + 1], sr.material_charge_mAh_g.at("B"));
      EXPECT_EQ(lay[(r * 2 + s) * 2 + 1], sr.layer_charge_mAh_g[1]);
    }
  }
  h5::Handle meta = h5::open_group(f, "meta");
  EXPECT_EQ(h5::get_attr_string(meta.id(), "status"), "complete");
  EXPECT_EQ(h5::get_attr_string(meta.id(), "scenario_text"), info.scenario_text);
  EXPECT_EQ(h5::get_attr_strings(meta.id(), "step_texts"), info.step_texts);
  EXPECT_EQ(h5::get_attr_strings(meta.id(), "material_names"), info.material_names);
  EXPECT_EQ(h5::get_attr_strings(meta.id(), "material_texts"), info.material_texts);
  EXPECT_EQ(h5::get_attr_int(meta.id(), "n_designs"), 5);
  EXPECT_FALSE(h5::get_attr_string(meta.id(), "end_time").empty());
}

TEST(ResultsStore, TrajectoryAndOptimizerRoundTripIsExact) {
  TempDir tmp;
  const std::string path = (tmp.path() / "tr.h5").string();
  TrajectoryData t;
  t.design_id = 7;
  t.label = "seven";
  t.time_s = {0.0, 0.1, 10.0 / 3.0};
  t.step = {0, 0, 1};
  t.current_A_m2 = {0.0, 12.5, -1.0 / 7.0};
  t.potential_V = {3.0, 3.1, 3.6};
  t.capacity_mAh_g = {0.0, 0.01, 2.0};
  t.material_soc = {0.0, 0.0, 0.1, 0.2, 0.9, 1.0};
  TrajectoryData::Profile p;
  p.step = 1;
  p.at = "end";
  p.time_s = 10.0 / 3.0;
  p.x_m = {1e-6, 3e-6, 5e-6};
  p.ce_mol_m3 = {1001.0, 1000.5, 999.0};
  p.phie_V = {-0.01, -0.02, -0.03};
  p.eta_V = {0.01, std::numeric_limits<double>::quiet_NaN(), 0.02, 0.03};
  p.j_A_m2 = {1.0, 2.0, 3.0, 4.0};
  p.x_surf = {0.5, 0.6, 0.7, 0.8};
  t.profiles = {p};
  {
    ResultsStore st = ResultsStore::create(path, small_info(), false);
    st.write_trajectory(t);
    EXPECT_TRUE(st.has_trajectory(7));
    // The second write replaces the first (an interrupted run's part, then the whole).
    st.write_optimizer(0, "LN_BOBYQA", "interrupted", {"a", "b"}, {0}, {10}, {0.1, 0.2}, {1.0}, {1.0});
    st.write_optimizer(0, "LN_BOBYQA", "xtol reached", {"layers[0].thickness_m", "layers[1].thickness_m"}, {0, 1, 2},
                       {10, 11, 12}, {0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, {1.0, 0.5, 0.7}, {1.0, 0.5, 0.5});
    st.finish("complete");
  }
  const ResultsStore rd = ResultsStore::open_read(path);
  const hid_t f = rd.file();
  EXPECT_EQ(h5::read_float64(f, "trajectories/7/time_s"), t.time_s);
  EXPECT_EQ(h5::read_int32(f, "trajectories/7/step"), t.step);
  EXPECT_EQ(h5::read_float64(f, "trajectories/7/current_A_m2"), t.current_A_m2);
  EXPECT_EQ(h5::read_float64(f, "trajectories/7/material_soc"), t.material_soc);
  EXPECT_EQ(h5::read_float64(f, "trajectories/7/profiles/0/electrolyte_concentration_mol_m3"), p.ce_mol_m3);
  EXPECT_EQ(h5::read_float64(f, "trajectories/7/profiles/0/x_m"), p.x_m);
  const auto eta = h5::read_float64(f, "trajectories/7/profiles/0/overpotential_V");
  ASSERT_EQ(eta.size(), 4u);
  EXPECT_EQ(eta[0], 0.01);
  EXPECT_TRUE(std::isnan(eta[1]));
  EXPECT_EQ(h5::read_int64(f, "optimizer/0/iteration"), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(h5::read_int64(f, "optimizer/0/design_id"), (std::vector<int64_t>{10, 11, 12}));
  EXPECT_EQ(h5::read_float64(f, "optimizer/0/point"), (std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}));
  EXPECT_EQ(h5::read_float64(f, "optimizer/0/best_objective"), (std::vector<double>{1.0, 0.5, 0.5}));
  h5::Handle g = h5::open_group(f, "optimizer/0");
  EXPECT_EQ(h5::get_attr_string(g.id(), "algorithm"), "LN_BOBYQA");
  EXPECT_EQ(h5::get_attr_string(g.id(), "end"), "xtol reached");
  EXPECT_EQ(h5::get_attr_strings(g.id(), "variable_units"), (std::vector<std::string>{"m", "m"}));
  h5::Handle point(H5Dopen2(f, "optimizer/0/point", H5P_DEFAULT));
  EXPECT_EQ(h5::get_attr_string(point.id(), "units"), "m");
}

TEST(ResultsStore, RefusesExistingFileAndForeignScenarioOnResume) {
  TempDir tmp;
  const std::string path = (tmp.path() / "x.h5").string();
  { ResultsStore::create(path, small_info(), false).finish("complete"); }
  try {
    ResultsStore::create(path, small_info(), false);
    FAIL() << "an existing file was overwritten";
  } catch (const ResultsStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--overwrite"), std::string::npos) << e.what();
  }
  RunInfo other = small_info();
  other.scenario_text += "# changed\n";
  try {
    ResultsStore::resume(path, other);
    FAIL() << "resumed a file of another scenario";
  } catch (const ResultsStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("roundtrip"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("differs"), std::string::npos) << e.what();
  }
  // A sweep's file resumed as a campaign, and a campaign's as a sweep: the message
  // says which command wrote it (it once asked for "the same --objective" as '').
  RunInfo campaign = small_info();
  campaign.design_objective = "retention_3C";
  try {
    ResultsStore::resume(path, campaign);
    FAIL() << "resumed a sweep's file as a campaign";
  } catch (const ResultsStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("with strata optimize: it holds no design campaign"), std::string::npos)
        << e.what();
  }
  const std::string campaign_path = (tmp.path() / "campaign.h5").string();
  { ResultsStore::create(campaign_path, campaign, false).finish("interrupted"); }
  try {
    ResultsStore::resume(campaign_path, small_info());
    FAIL() << "resumed a campaign's file as a sweep";
  } catch (const ResultsStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("strata optimize campaign (objective 'retention_3C')"), std::string::npos)
        << e.what();
  }
  EXPECT_NO_THROW(ResultsStore::resume(path, small_info()));
  EXPECT_NO_THROW(ResultsStore::create(path, small_info(), true));
  std::ofstream(tmp.path() / "junk.h5") << "not hdf5";
  EXPECT_THROW(ResultsStore::open_read((tmp.path() / "junk.h5").string()), ResultsStoreError);
}

// A new file is built under `<path>.part` and renamed when its skeleton is on disk: a
// run killed while creating it leaves no unreadable file at the path (seen: an MPI
// worker killed 450 ms in, rank 0 taken down mid-creation). A leftover part from such
// a run is replaced; --overwrite keeps the old file readable until the rename.
TEST(ResultsStore, CreatesUnderATemporaryNameAndRenames) {
  TempDir tmp;
  const std::string path = (tmp.path() / "x.h5").string(), part = path + ".part";
  namespace fs = std::filesystem;
  std::ofstream(part) << "left by a killed run";
  {
    ResultsStore st = ResultsStore::create(path, small_info(), false);
    EXPECT_TRUE(fs::exists(path));
    st.finish("complete");  // the working copy at part (host/committed_h5_file.hpp) is gone
    EXPECT_FALSE(fs::exists(part));
    EXPECT_FALSE(fs::exists(path + ".prev"));
  }
  {  // what was written after the rename reached the renamed file
    const ResultsStore rd = ResultsStore::open_read(path);
    h5::Handle meta = h5::open_group(rd.file(), "meta");
    EXPECT_EQ(h5::get_attr_string(meta.id(), "status"), "complete");
  }
  EXPECT_NO_THROW(ResultsStore::create(path, small_info(), true));
  EXPECT_FALSE(fs::exists(part));
}

// A run does not hold its file open (host/committed_h5_file.hpp): another process
// reads its last commit and is told the run is going on; a second run is refused.
TEST(ResultsStore, AFileBeingWrittenIsReadableAndNamesItsWriter) {
  TempDir tmp;
  const std::string path = (tmp.path() / "x.h5").string();
  ResultsStore writing = ResultsStore::create(path, small_info(), false);
  const test::RunResult r = test::run_strata("info " + test::sh_quote(path), tmp.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("running now (pid " + std::to_string(getpid()) + " on "), std::string::npos) << r.out;
  for (bool overwrite : {false, true}) {
    try {
      if (overwrite)
        ResultsStore::create(path, small_info(), true);
      else
        ResultsStore::resume(path, small_info());
      ADD_FAILURE() << "a second writer was let in";
    } catch (const ResultsStoreError& e) {
      EXPECT_NE(std::string(e.what()).find("is being written by another run (pid"), std::string::npos) << e.what();
    }
  }
  writing.finish("complete");
  const test::RunResult done = test::run_strata("info " + test::sh_quote(path), tmp.path());
  EXPECT_NE(done.out.find("run:       complete"), std::string::npos) << done.out;
}

namespace {

// Dataset paths listed in the schema document's tables (first column, in backticks).
std::set<std::string> documented_datasets() {
  std::ifstream in(std::string(STRATA_SOURCE_DIR) + "/docs/hdf5-schema.md");
  std::set<std::string> out;
  std::string line;
  const std::regex re(R"(^\| `(/[^`]+)` \|)");
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, re)) out.insert(m[1]);
  return out;
}


// A real file's dataset paths with the variable parts replaced by the document's
// placeholders.
std::set<std::string> file_datasets_as_documented(const std::string& path) {
  const ResultsStore st = ResultsStore::open_read(path);
  std::vector<std::string> listed;
  h5::list_datasets(st.file(), "", listed);
  const std::set<std::string> raw(listed.begin(), listed.end());
  std::set<std::string> out;
  for (std::string p : raw) {
    p = std::regex_replace(p, std::regex(R"(^/population/var/.*)"), "/population/var/<path>");
    p = std::regex_replace(p, std::regex(R"(^/population/objective/.*)"), "/population/objective/<name>");
    p = std::regex_replace(p, std::regex(R"(^/population/constraint/.*)"), "/population/constraint/<name>");
    p = std::regex_replace(p, std::regex(R"(^/trajectories/[0-9]+/profiles/[0-9]+/)"),
                           "/trajectories/<design_id>/profiles/<k>/");
    p = std::regex_replace(p, std::regex(R"(^/trajectories/[0-9]+/)"), "/trajectories/<design_id>/");
    p = std::regex_replace(p, std::regex(R"(^/optimizer/[0-9]+/)"), "/optimizer/<k>/");
    out.insert(p);
  }
  return out;
}

// Datasets, and the groups above them, that carry no `description` attribute (the
// schema says every one does).
std::vector<std::string> objects_without_description(const std::string& path) {
  const ResultsStore st = ResultsStore::open_read(path);
  std::vector<std::string> listed;
  h5::list_datasets(st.file(), "", listed);
  std::set<std::string> objects;
  for (const std::string& d : listed)
    for (size_t end = d.size(); end != std::string::npos && end > 0; end = d.rfind('/', end - 1))
      objects.insert(d.substr(0, end));
  std::vector<std::string> out;
  for (const std::string& o : objects) {
    h5::Handle obj(H5Oopen(st.file(), o.c_str(), H5P_DEFAULT));
    if (!obj.valid() || H5Aexists(obj.id(), "description") <= 0) out.push_back(o);
  }
  return out;
}

}  // namespace

TEST(ResultsStore, SchemaDocumentMatchesWrittenFile) {
  TempDir tmp;
  const std::string path = (tmp.path() / "doc.h5").string();
  // A real run of the default scenario (it has an objective, trajectories and a
  // profile) with a sweep added (design variables), plus an optimiser group written
  // through the same store.
  std::string text = test::slurp(std::string(STRATA_SOURCE_DIR) + "/scenarios/default.toml");
  text += "\n[library]\npath = \"" + std::string(STRATA_SOURCE_DIR) + "/materials\"\n" +
          "\n[batch.sweep]\n\"layers[0].porosity\" = [0.35, 0.40]\n" +
          // a design section only for its constraint column (simulate evaluates it too)
          "\n[design]\n[[design.variables]]\npath = \"layers[1].porosity\"\nmin = 0.3\nmax = 0.45\n"
          "[[design.constraints]]\nname = \"loading\"\nkind = \"active_mass_mg_cm2\"\nmin = 5.0\n";
  test::spit(tmp.path() / "swept.toml", text);
  SimulateOptions opt;
  opt.scenario_path = (tmp.path() / "swept.toml").string();
  opt.out = path;
  opt.quiet = true;
  ASSERT_EQ(run_simulate(opt), 0);
  {
    Scenario s = load_scenario(opt.scenario_path);
    ResultsStore st = ResultsStore::resume(path, run_info_for(s, "test", "cpu"));
    st.write_optimizer(0, "LN_COBYLA", "maxeval reached", {"x"}, {0}, {0}, {0.5}, {1.0}, {1.0});
    st.finish("complete");
  }
  const std::set<std::string> doc = documented_datasets();
  const std::set<std::string> file = file_datasets_as_documented(path);
  ASSERT_GT(doc.size(), 20u);
  for (const auto& p : file) EXPECT_TRUE(doc.count(p)) << p << " is written but not in docs/hdf5-schema.md";
  for (const auto& p : doc) EXPECT_TRUE(file.count(p)) << p << " is documented but not written";
  EXPECT_EQ(objects_without_description(path), std::vector<std::string>{});
}
