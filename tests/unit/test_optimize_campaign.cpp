// The design search on the real model: a small bilayer campaign (order x thickness
// split x porosities) finds the better order that a direct sweep shows, improves on
// its first population, and a killed campaign resumes to the same population.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "host/cpu_backend.hpp"
#include "host/results_store.hpp"
#include "host/scenario_loader.hpp"
#include "host/simulate.hpp"
#include "optimizer/campaign.hpp"
#include "optimizer/engine_evaluator.hpp"
#include "optimizer/optimize_command.hpp"
#include "tests/unit/design_helpers.hpp"
#include "tests/unit/process_helpers.hpp"

using namespace strata;
using namespace strata::test;

namespace {

// scenarios/design_bilayer.toml made cheaper: a 0.5C reference charge and a smaller
// budget; nodes_per_layer > 0 sets the resolution (the kill test's run must outlast
// the first write of rows, 0.5 s after the start: optimizer/engine_evaluator.hpp).
fs::path small_campaign(const fs::path& dir, long budget, int nodes_per_layer = 0) {
  std::string text = slurp(std::string(STRATA_SOURCE_DIR) + "/scenarios/design_bilayer.toml");
  auto set = [&](const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  };
  set("\"Charge at 0.1C until 3.6 V\"", "\"Charge at 0.5C until 3.6 V\"");
  set("\"Discharge at 0.1C until 2.3 V\"", "\"Discharge at 0.5C until 2.3 V\"");
  set("max_evaluations = 400", "max_evaluations = " + std::to_string(budget));
  set("initial_population = 32", "initial_population = 16");
  text += "\n[library]\npath = \"" + std::string(STRATA_SOURCE_DIR) + "/materials\"\n";
  if (nodes_per_layer > 0) text += "\n[numerics]\nnodes_per_layer = " + std::to_string(nodes_per_layer) + "\n";
  const fs::path p = dir / "campaign.toml";
  spit(p, text);
  return p;
}

// Runs `strata <args...> --out killed` and sends it `sig` (SIGKILL, or SIGINT as Ctrl-C
// does) once part of its designs are in the file (fewer than total, the rows of an
// uninterrupted run).
bool kill_part_way(const std::vector<std::string>& args, const std::string& killed, int64_t total,
                   int sig = SIGKILL) {
  KillDelaySearch search;
  for (int wait_ms; search.next(wait_ms);) {
    fs::remove(killed);
    std::vector<std::string> argv = {kBinary};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const char* a : {"--out", killed.c_str(), "--quiet", "--threads", "1"}) argv.push_back(a);
    const pid_t pid = spawn(argv);
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    int st = 0;
    const bool finished = waitpid(pid, &st, WNOHANG) == pid;  // on its own, before the kill
    if (!finished) {
      kill(pid, sig);
      wait_exit(pid);
    }
    const int64_t n = fs::exists(killed) ? ResultsStore::open_read(killed).rows() : 0;
    if (finished && n < total) {
      ADD_FAILURE() << "the run ended on its own with " << n << " of " << total << " rows (exit status " << st << ")";
      return false;
    }
    if (n == 0) {
      search.too_early();
    } else if (n >= total) {
      search.too_late();
    } else {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST(OptimizeCampaign, FindsTheBetterOrderAndImprovesOnTheFirstPopulation) {
  TempDir tmp;
  const fs::path scen = small_campaign(tmp.path(), 160);
  const Scenario base = load_scenario(scen.string());
  // The known answer: a direct sweep of both orders over the thickness split at the
  // mid porosities.
  double best_sweep[2] = {-1, -1};
  {
    std::vector<DesignPoint> points;
    for (int c = 0; c < 2; ++c)
      for (int i = 0; i <= 12; ++i) points.push_back(DesignPoint{c, {0.2 + 0.05 * i, 0.4, 0.4}, "sweep"});
    const std::vector<VariantResult> rs = simulate_design_points(base, points);
    for (size_t k = 0; k < rs.size(); ++k) {
      const double ret = objective_values(base.objectives, rs[k])[0];
      best_sweep[k / 13] = std::max(best_sweep[k / 13], ret);
    }
  }
  const int better_order = best_sweep[1] > best_sweep[0] ? 1 : 0;

  const std::string out = (tmp.path() / "c.h5").string();
  const CampaignResult r = run_campaign_into(base, out);
  // The better order wins, and the search beats every design of its first population.
  EXPECT_EQ(r.best.choice, better_order) << best_sweep[0] << " vs " << best_sweep[1];
  EXPECT_GT(r.best.objective, test::first_population_best(out, "retention_3C"));
  const ResultsStore rd = ResultsStore::open_read(out);
  const auto obj = h5::read_float64(rd.file(), "population/objective/retention_3C");
  EXPECT_GE(r.best.objective, std::max(best_sweep[0], best_sweep[1]) - 1e-3);
  EXPECT_EQ((long)obj.size(), r.evaluations);
  // The layers as simulated, by position from the collector: the thickness fraction
  // of the 100 um total in metres, and the porosities the design asked for.
  const auto frac = h5::read_float64(rd.file(), "population/var/layers[0].thickness_fraction");
  const auto eps0 = h5::read_float64(rd.file(), "population/var/layers[0].porosity");
  const auto eps1 = h5::read_float64(rd.file(), "population/var/layers[1].porosity");
  const auto thick = h5::read_float64(rd.file(), "population/layer_thickness_m");
  const auto poro = h5::read_float64(rd.file(), "population/layer_porosity");
  ASSERT_EQ(thick.size(), 2 * frac.size());
  ASSERT_EQ(poro.size(), 2 * frac.size());
  for (size_t k = 0; k < frac.size(); ++k) {
    EXPECT_NEAR(thick[2 * k], frac[k] * 100e-6, 1e-15) << k;
    EXPECT_NEAR(thick[2 * k] + thick[2 * k + 1], 100e-6, 1e-15) << k;
    EXPECT_NEAR(poro[2 * k], eps0[k], 1e-14) << k;
    EXPECT_NEAR(poro[2 * k + 1], eps1[k], 1e-14) << k;
  }
}

TEST(OptimizeCampaign, KilledCampaignResumesToTheSamePopulation) {
  TempDir tmp;
  const fs::path scen = small_campaign(tmp.path(), 120, 32);
  const std::string full = (tmp.path() / "full.h5").string(), killed = (tmp.path() / "killed.h5").string();
  ASSERT_EQ(run_strata("optimize " + sh_quote(scen.string()) + " --out " + sh_quote(full) + " --quiet --threads 1",
                       tmp.path()).exit_code, 0);
  // Kill a second run part-way (retrying until it is caught between batches).
  ASSERT_TRUE(kill_part_way({"optimize", scen.string()}, killed, ResultsStore::open_read(full).rows()))
      << "could not kill the campaign part-way";
  const RunResult resumed =
      run_strata("optimize " + sh_quote(scen.string()) + " --resume " + sh_quote(killed) + " --quiet --threads 1", tmp.path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const ResultsStore a = ResultsStore::open_read(full), b = ResultsStore::open_read(killed);
  EXPECT_EQ(h5::read_int64(a.file(), "population/design_id"), h5::read_int64(b.file(), "population/design_id"));
  EXPECT_EQ(h5::read_float64(a.file(), "population/step/capacity_mAh_g"),
            h5::read_float64(b.file(), "population/step/capacity_mAh_g"));
  EXPECT_EQ(h5::read_float64(a.file(), "population/var/layers[0].thickness_fraction"),
            h5::read_float64(b.file(), "population/var/layers[0].thickness_fraction"));
  EXPECT_EQ(h5::read_float64(a.file(), "optimizer/0/objective"), h5::read_float64(b.file(), "optimizer/0/objective"));
  // `strata info` reads n_designs of a campaign as its budget, not as a batch left unfinished.
  const RunResult info = run_strata("info " + sh_quote(full), tmp.path());
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const std::string evaluated = fmt::format("designs:   {} evaluated (budget 120 evaluations)",
                                            h5::read_int64(a.file(), "population/design_id").size());
  EXPECT_NE(info.out.find(evaluated), std::string::npos) << info.out;
}

// Ctrl-C writes the optimisers' trajectories as far as they got (group attribute
// end = "interrupted"); the resumed campaign replays its search from the start and
// replaces them with the whole trajectories of an uninterrupted run (they were kept
// as interrupted: one iteration each where the run had 19 to 71).
TEST(OptimizeCampaign, InterruptedCampaignResumesToTheWholeOptimiserTrajectories) {
  TempDir tmp;
  const fs::path scen = small_campaign(tmp.path(), 120, 32);
  const std::string full = (tmp.path() / "full.h5").string(), stopped = (tmp.path() / "stopped.h5").string();
  ASSERT_EQ(run_strata("optimize " + sh_quote(scen.string()) + " --out " + sh_quote(full) + " --quiet --threads 1",
                       tmp.path()).exit_code, 0);
  ASSERT_TRUE(kill_part_way({"optimize", scen.string()}, stopped, ResultsStore::open_read(full).rows(), SIGINT))
      << "could not interrupt the campaign part-way";
  bool cut_short = false;
  {
    const ResultsStore b = ResultsStore::open_read(stopped);
    if (h5::exists(b.file(), "optimizer/0")) {
      h5::Handle g = h5::open_group(b.file(), "optimizer/0");
      EXPECT_EQ(h5::get_attr_string(g.id(), "end"), "interrupted");
      cut_short = true;
    }
  }
  const RunResult resumed =
      run_strata("optimize " + sh_quote(scen.string()) + " --resume " + sh_quote(stopped) + " --quiet --threads 1",
                 tmp.path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const ResultsStore a = ResultsStore::open_read(full), b = ResultsStore::open_read(stopped);
  h5::Handle ga = h5::open_group(a.file(), "optimizer");
  hsize_t groups = 0;
  H5Gget_num_objs(ga.id(), &groups);
  ASSERT_GT(groups, 0u);
  for (hsize_t k = 0; k < groups; ++k) {
    const std::string g = "optimizer/" + std::to_string(k);
    ASSERT_TRUE(h5::exists(b.file(), g)) << g;
    for (const char* d : {"/objective", "/best_objective", "/point"})
      EXPECT_EQ(h5::read_float64(a.file(), g + d), h5::read_float64(b.file(), g + d)) << g << d;
    EXPECT_EQ(h5::read_int64(a.file(), g + "/design_id"), h5::read_int64(b.file(), g + "/design_id")) << g;
    h5::Handle gb = h5::open_group(b.file(), g);
    EXPECT_NE(h5::get_attr_string(gb.id(), "end"), "interrupted") << g;
  }
  RecordProperty("interrupted_file_had_optimiser_groups", cut_short ? "yes" : "no");
}

// The calibration resumes like the design search: a killed `strata fit` continued with
// --resume ends with the population and the report of an uninterrupted run.
TEST(OptimizeCampaign, KilledFitResumesToTheSameResult) {
  TempDir tmp;
  std::string text = slurp(std::string(STRATA_TEST_DATA_DIR) + "/fit_full.toml");
  const size_t lib = text.find("path = \"../../materials\"");
  ASSERT_NE(lib, std::string::npos);
  text.replace(lib, 24, "path = \"" + std::string(STRATA_SOURCE_DIR) + "/materials\"");
  const fs::path scen = tmp.path() / "fit.toml";
  spit(scen, text);
  const std::string full = (tmp.path() / "full.h5").string(), killed = (tmp.path() / "killed.h5").string();
  ASSERT_EQ(run_strata("fit " + sh_quote(scen.string()) + " --out " + sh_quote(full) + " --quiet --threads 1", tmp.path())
                .exit_code, 0);
  const int64_t total = ResultsStore::open_read(full).rows();
  ASSERT_TRUE(kill_part_way({"fit", scen.string()}, killed, total))
      << "could not kill the fit part-way";
  const RunResult resumed =
      run_strata("fit " + sh_quote(scen.string()) + " --resume " + sh_quote(killed) + " --quiet --threads 1", tmp.path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const ResultsStore a = ResultsStore::open_read(full), b = ResultsStore::open_read(killed);
  EXPECT_EQ(h5::read_int64(a.file(), "population/design_id"), h5::read_int64(b.file(), "population/design_id"));
  EXPECT_EQ(h5::read_float64(a.file(), "population/objective/misfit"),
            h5::read_float64(b.file(), "population/objective/misfit"));
  h5::Handle fa = h5::open_group(a.file(), "fit"), fb = h5::open_group(b.file(), "fit");
  double ca = 0, cb = 0;
  H5Aread(h5::Handle(H5Aopen(fa.id(), "chi2", H5P_DEFAULT)).id(), H5T_NATIVE_DOUBLE, &ca);
  H5Aread(h5::Handle(H5Aopen(fb.id(), "chi2", H5P_DEFAULT)).id(), H5T_NATIVE_DOUBLE, &cb);
  EXPECT_EQ(ca, cb);
}

namespace {
// Overwrites one value of a float64 population dataset in place (row `row`).
void overwrite_value(const std::string& file, const std::string& dataset, size_t row, double value) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  ASSERT_GE(d, 0) << dataset;
  const hid_t space = H5Dget_space(d);
  const hsize_t start = row, count = 1;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  const hid_t mem = H5Screate_simple(1, &count, nullptr);
  EXPECT_GE(H5Dwrite(d, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, &value), 0);
  H5Sclose(mem);
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(f);
}
}  // namespace

// The calibration refuses, like the design search, a file whose stored parameter
// points are not the ones its search asks for.
TEST(OptimizeCampaign, FitResumeRefusesAFileWhosePointsDiffer) {
  TempDir tmp;
  std::string text = slurp(std::string(STRATA_TEST_DATA_DIR) + "/fit_full.toml");
  text.replace(text.find("path = \"../../materials\""), 24, "path = \"" + std::string(STRATA_SOURCE_DIR) + "/materials\"");
  const fs::path scen = tmp.path() / "fit.toml";
  spit(scen, text);
  const std::string file = (tmp.path() / "fit.h5").string();
  ASSERT_EQ(run_strata("fit " + sh_quote(scen.string()) + " --out " + sh_quote(file) + " --quiet --threads 1", tmp.path())
                .exit_code, 0);
  std::vector<std::string> vars;
  size_t row0 = 0;  // the row of design 0: the first point, first electrode
  {  // closed again before the file is opened for writing
    const ResultsStore st = ResultsStore::open_read(file);
    h5::Handle var = h5::open_group(st.file(), "population/var");
    h5::list_datasets(var.id(), "population/var", vars);
    const std::vector<int64_t> ids = h5::read_int64(st.file(), "population/design_id");
    row0 = std::find(ids.begin(), ids.end(), 0) - ids.begin();
    ASSERT_LT(row0, ids.size());
  }
  ASSERT_FALSE(vars.empty());
  overwrite_value(file, vars.front(), row0, 0.123456);
  const RunResult resumed =
      run_strata("fit " + sh_quote(scen.string()) + " --resume " + sh_quote(file) + " --quiet --threads 1", tmp.path());
  EXPECT_EQ(resumed.exit_code, 3) << resumed.err;
  EXPECT_NE(resumed.err.find("is not the parameter point this fit asks for"), std::string::npos) << resumed.err;
}

// A campaign file whose designs are not the ones this campaign asks for (written by a
// strata whose campaign visits designs in another order; here one stored design
// value is changed) is refused on resume with a message, not read back as if it were
// the design asked for. The error is raised on the gate's thread, in the optimiser
// phase, and ends the command cleanly (exit 3), the optimiser threads stopped.
TEST(OptimizeCampaign, ResumeRefusesAFileWhoseDesignsDifferFromTheCampaigns) {
  TempDir tmp;
  const fs::path scen = small_campaign(tmp.path(), 60);
  const std::string file = (tmp.path() / "c.h5").string();
  ASSERT_EQ(run_strata("optimize " + sh_quote(scen.string()) + " --out " + sh_quote(file) + " --quiet --threads 1",
                       tmp.path()).exit_code, 0);
  size_t last = 0;
  {
    const ResultsStore st = ResultsStore::open_read(file);
    const std::vector<int64_t> ids = h5::read_int64(st.file(), "population/design_id");
    last = std::max_element(ids.begin(), ids.end()) - ids.begin();
    ASSERT_GE(ids[last], 16) << "the last design must come from the optimiser phase";
  }
  overwrite_value(file, "population/var/layers[0].porosity", last, 0.123456);
  const RunResult resumed =
      run_strata("optimize " + sh_quote(scen.string()) + " --resume " + sh_quote(file) + " --quiet --threads 1", tmp.path());
  EXPECT_EQ(resumed.exit_code, 3) << resumed.err;
  EXPECT_NE(resumed.err.find("is not the design this campaign asks for"), std::string::npos) << resumed.err;
}

// `strata info` on a constrained campaign names as best only designs that meet the
// constraints, as the search does. The loading bound is raised in the file above the
// best-retention design's loading, which must then drop out of the list.
TEST(OptimizeCampaign, InfoRanksOnlyTheDesignsThatMeetTheConstraints) {
  TempDir tmp;
  const fs::path scen = small_campaign(tmp.path(), 40);
  const std::string file = (tmp.path() / "c.h5").string();
  ASSERT_EQ(run_strata("optimize " + sh_quote(scen.string()) + " --out " + sh_quote(file) + " --quiet --threads 1",
                       tmp.path()).exit_code, 0);
  std::vector<int64_t> ids;
  std::vector<double> retention, loading;
  {
    const ResultsStore st = ResultsStore::open_read(file);
    ids = h5::read_int64(st.file(), "population/design_id");
    retention = h5::read_float64(st.file(), "population/objective/retention_3C");
    loading = h5::read_float64(st.file(), "population/constraint/loading");
  }
  size_t best = 0;
  for (size_t r = 0; r < ids.size(); ++r)
    if (retention[r] > retention[best]) best = r;
  const double new_min = loading[best] + 1e-6;
  {
    const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hid_t d = H5Dopen2(f, "population/constraint/loading", H5P_DEFAULT);
    const hid_t a = H5Aopen(d, "min", H5P_DEFAULT);
    EXPECT_GE(H5Awrite(a, H5T_NATIVE_DOUBLE, &new_min), 0);
    H5Aclose(a);
    H5Dclose(d);
    H5Fclose(f);
  }
  // What info must say: the best retention among the designs at or above the new bound.
  long meet = 0;
  int64_t expected = -1;
  double expected_value = -1.0;
  for (size_t r = 0; r < ids.size(); ++r) {
    if (!(loading[r] >= new_min)) continue;
    ++meet;
    if (std::isfinite(retention[r]) && retention[r] > expected_value) {
      expected_value = retention[r];
      expected = ids[r];
    }
  }
  ASSERT_GE(expected, 0) << "no design above the raised bound: the test needs one";
  const RunResult info = run_strata("info " + sh_quote(file), tmp.path());
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find(fmt::format("constraints: {} of {} designs meet loading >= {:g} mg/cm2", meet, ids.size(),
                                      new_min)),
            std::string::npos)
      << info.out;
  const size_t at = info.out.find("objective retention_3C");
  ASSERT_NE(at, std::string::npos) << info.out;
  const size_t line = info.out.find('\n', at) + 1;
  // The summary of a search states the objective's unit.
  const RunResult capacity = run_strata("optimize " + sh_quote(scen.string()) + " --objective capacity_3C --out " +
                                            sh_quote((tmp.path() / "q.h5").string()) + " --threads 1",
                                        tmp.path());
  ASSERT_EQ(capacity.exit_code, 0) << capacity.err;
  EXPECT_NE(capacity.out.find(" mAh/g order "), std::string::npos) << capacity.out;
  const std::string first = fmt::format("  design {:>6}  ", expected);
  EXPECT_EQ(info.out.substr(line, first.size()), first)
      << "the first design listed\n" << info.out << "\nbest of all (breaks the bound): design " << ids[best];
}
