// Reading /population back (host/population_reader.cpp) and the CSV written from a
// results file (host/csv_export.cpp): what the file gives back is what the run
// produced, so a CSV from the file equals the CSV from the run's own results, also
// for designs without a material, with fewer layers, and with steps that never ran.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "host/csv_export.hpp"
#include "host/population_reader.hpp"
#include "host/results_store.hpp"
#include "tests/unit/process_helpers.hpp"

using namespace strata;
using namespace strata::test;

namespace {

RunInfo two_layer_info() {
  RunInfo info;
  info.command = "test";
  info.device = "CPU: test";
  info.scenario_file = "x.toml";
  info.scenario_name = "reader";
  info.scenario_text = "[scenario]\nname = \"reader\"\n";
  info.n_designs = 10;
  info.step_texts = {"Charge at 1C until 3.6 V", "Rest for 1 hour", "Discharge at 3C until 2.3 V"};
  info.material_names = {"NMO", "NVP"};
  info.n_layers = 2;
  return info;
}

// Design `id`: with `layers` layers, holding NVP only when has_nvp, failing in step
// `fail_step` (-1: never), so later steps did not run.
VariantResult design(int id, int layers, bool has_nvp, int fail_step) {
  VariantResult r;
  r.id = id;
  r.label = "design \"" + std::to_string(id) + "\", split";
  r.status = fail_step >= 0 ? 2 : 0;
  r.reason = fail_step >= 0 ? "Newton did not converge" : "ok";
  r.active_mass_mg_cm2 = 12.0 + id / 3.0;
  for (int q = 0; q < layers; ++q) {
    r.layer_thickness_m.push_back((30.0 + id + 10.0 * q) * 1e-6);
    r.layer_porosity.push_back(0.3 + 0.01 * id + 0.1 * q);
  }
  const char* ends[] = {"limit", "duration", "limit (not located to tolerance)", "limit at start"};
  for (int k = 0; k < 3; ++k) {
    StepResult s;
    const bool ran = fail_step < 0 || k <= fail_step;
    s.end_reason = !ran ? "not run" : (k == fail_step ? "failed" : ends[(id + k) % 4]);
    if (ran) {
      s.capacity_mAh_g = 100.0 / (id + k + 1.0) + 1e-9 * id;
      s.capacity_mAh_cm2 = s.capacity_mAh_g * 0.0123;
      s.charge_mAh_g = (k == 2 ? -1 : 1) * s.capacity_mAh_g;
      s.energy_Wh_kg = 3.3 * s.charge_mAh_g;
      s.end_potential_V = 3.6 - 0.1 * k - 1e-12 * id;
      s.end_current_A_m2 = k == 1 ? 0.0 : 1.0 / 7.0 + id;
      s.duration_s = 1000.0 * std::sqrt(id + k + 1.0);
      s.min_ce_mol_m3 = 400.0 + id - 0.125 * k;
      s.max_ce_mol_m3 = 1600.0 + 10.0 * k + 1.0 / 3.0;
      s.time_steps = 50 + id + k;
      s.newton_iterations = 170 + 3 * id + k;
    }
    s.material_charge_mAh_g["NMO"] = 0.3 * s.charge_mAh_g;
    if (has_nvp) s.material_charge_mAh_g["NVP"] = 0.7 * s.charge_mAh_g;
    for (int q = 0; q < layers; ++q) s.layer_charge_mAh_g.push_back((q + 1.0) / (layers * 2.0) * s.charge_mAh_g);
    r.steps.push_back(s);
  }
  return r;
}

PopulationRow row_of(const VariantResult& r, int batch) {
  PopulationRow p;
  p.result = r;
  p.batch = batch;
  return p;
}

}  // namespace

TEST(PopulationReader, GivesBackEveryFieldOfEveryDesignOrderedById) {
  TempDir tmp;
  const std::string path = (tmp.path() / "pop.h5").string();
  // Appended in batch order (ids out of order), as runs of several shapes append them.
  std::vector<VariantResult> written = {design(7, 2, true, -1), design(2, 1, false, -1), design(5, 2, true, 1),
                                        design(0, 2, false, 0)};
  written[2].steps[1].energy_Wh_kg = std::nan("");  // a failed step's NaN goes through as NaN
  written[2].steps[1].max_ce_mol_m3 = std::nan("");
  {
    ResultsStore st = ResultsStore::create(path, two_layer_info(), false);
    st.append({row_of(written[0], 0), row_of(written[1], 0)});
    st.append({row_of(written[2], 1), row_of(written[3], 1)});
    st.finish("complete");
  }
  const StoredPopulation pop = read_population(ResultsStore::open_read(path));
  EXPECT_EQ(pop.step_texts, two_layer_info().step_texts);
  ASSERT_EQ(pop.results.size(), written.size());
  std::vector<VariantResult> expected = written;
  std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  for (size_t r = 0; r < expected.size(); ++r) {
    const VariantResult &e = expected[r], &g = pop.results[r];
    SCOPED_TRACE("design " + std::to_string(e.id));
    EXPECT_EQ(g.id, e.id);
    EXPECT_EQ(g.label, e.label);
    EXPECT_EQ(g.status, e.status);
    EXPECT_EQ(g.reason, e.reason);
    EXPECT_EQ(g.active_mass_mg_cm2, e.active_mass_mg_cm2);
    EXPECT_EQ(g.layer_thickness_m, e.layer_thickness_m);
    EXPECT_EQ(g.layer_porosity, e.layer_porosity);
    ASSERT_EQ(g.steps.size(), e.steps.size());
    for (size_t k = 0; k < e.steps.size(); ++k) {
      const StepResult &a = e.steps[k], &b = g.steps[k];
      SCOPED_TRACE("step " + std::to_string(k));
      for (const StepMetric& m : kStepMetrics)
        EXPECT_TRUE(b.*m.member == a.*m.member || (std::isnan(b.*m.member) && std::isnan(a.*m.member))) << m.name;
      EXPECT_EQ(b.time_steps, a.time_steps);
      EXPECT_EQ(b.newton_iterations, a.newton_iterations);
      EXPECT_EQ(b.end_reason, a.end_reason);
      EXPECT_EQ(b.material_charge_mAh_g, a.material_charge_mAh_g);  // no NVP entry where the design has none
      EXPECT_EQ(b.layer_charge_mAh_g, a.layer_charge_mAh_g);        // one entry for a one-layer design
    }
  }
  // The CSV from the file is the CSV of the results as the run held them.
  const std::string from_run = (tmp.path() / "run.csv").string(), from_file = (tmp.path() / "file.csv").string();
  write_results_csv(from_run, two_layer_info().step_texts, expected);
  EXPECT_EQ(write_csv_of_results_file(path, from_file), expected.size());
  EXPECT_EQ(slurp(from_file), slurp(from_run));
}

TEST(PopulationReader, CsvCommandWritesBesideTheFileAndRefusesToOverwriteIt) {
  TempDir tmp;
  const std::string path = (tmp.path() / "pop.h5").string();
  {
    ResultsStore st = ResultsStore::create(path, two_layer_info(), false);
    st.append({row_of(design(1, 2, true, -1), 0)});
    st.finish("complete");
  }
  EXPECT_EQ(csv_path_beside(path), (tmp.path() / "pop.csv").string());
  const RunResult ok = run_strata("csv " + sh_quote(path), tmp.path());
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("1 designs -> " + (tmp.path() / "pop.csv").string()), std::string::npos) << ok.out;
  EXPECT_NE(slurp(tmp.path() / "pop.csv").find("\"design \"\"1\"\", split\""), std::string::npos);
  for (const std::string& same : {path, (tmp.path() / "." / "pop.h5").string(),
                                   (tmp.path() / "sub" / ".." / "pop.h5").string()}) {
    fs::create_directories(tmp.path() / "sub");
    const RunResult self = run_strata("csv " + sh_quote(path) + " --out " + sh_quote(same), tmp.path());
    EXPECT_EQ(self.exit_code, 2) << same;
    EXPECT_NE(self.err.find("is the results file itself"), std::string::npos) << self.err;
  }
  fs::create_symlink(path, tmp.path() / "link.csv");
  const RunResult link = run_strata("csv " + sh_quote(path) + " --out " + sh_quote((tmp.path() / "link.csv").string()),
                                    tmp.path());
  EXPECT_EQ(link.exit_code, 2);
  const RunResult other = run_strata("csv " + sh_quote(path) + " --out " + sh_quote((tmp.path() / "x.hdf5").string()),
                                     tmp.path());
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("names an HDF5 file"), std::string::npos) << other.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "x.hdf5"));
  EXPECT_TRUE(ResultsStore::open_read(path).design_ids().count(1));  // the file is untouched
  const RunResult missing = run_strata("csv " + sh_quote((tmp.path() / "none.h5").string()), tmp.path());
  EXPECT_NE(missing.exit_code, 0);
}

// A file written before a step metric existed (here: without the c_e extremes) is
// resumed with that metric's dataset added, NaN for its earlier rows, and reads back.
TEST(PopulationReader, FileFromBeforeAStepMetricResumesWithNaNForItsEarlierRows) {
  TempDir tmp;
  const std::string path = (tmp.path() / "old.h5").string();
  {
    ResultsStore st = ResultsStore::create(path, two_layer_info(), false);
    st.append({row_of(design(1, 2, true, -1), 0), row_of(design(2, 2, true, -1), 0)});
    st.edit([](hid_t f) {
      for (const char* gone : {"population/step/min_ce_mol_m3", "population/step/max_ce_mol_m3"})
        h5::check_status(H5Ldelete(f, gone, H5P_DEFAULT), gone);
    });
    st.finish("interrupted");
  }
  EXPECT_TRUE(std::isnan(read_population(ResultsStore::open_read(path)).results[0].steps[0].max_ce_mol_m3));
  {
    ResultsStore st = ResultsStore::resume(path, two_layer_info());
    st.append({row_of(design(3, 2, true, -1), 1)});
    st.finish("complete");
  }
  const ResultsStore rd = ResultsStore::open_read(path);
  for (const char* d : {"population/step/min_ce_mol_m3", "population/step/max_ce_mol_m3",
                        "population/step/capacity_mAh_g"})
    EXPECT_EQ(h5::read_float64(rd.file(), d).size(), 3u * 3u) << d;
  const StoredPopulation pop = read_population(rd);
  ASSERT_EQ(pop.results.size(), 3u);
  EXPECT_TRUE(std::isnan(pop.results[0].steps[1].min_ce_mol_m3));
  EXPECT_EQ(pop.results[2].steps[1].min_ce_mol_m3, design(3, 2, true, -1).steps[1].min_ce_mol_m3);
  EXPECT_EQ(pop.results[2].steps[2].max_ce_mol_m3, design(3, 2, true, -1).steps[2].max_ce_mol_m3);
}
