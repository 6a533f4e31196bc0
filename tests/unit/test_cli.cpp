// The `strata simulate` command line, run as a separate process: exit codes, error
// messages for bad scenario files, the results CSV, and that the memory layout and the
// thread count do not change the results. Fixtures: tests/data/cli_*.toml.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/process_helpers.hpp"

namespace {

using namespace strata::test;
namespace fs = std::filesystem;

const std::string kData = STRATA_TEST_DATA_DIR;
const std::string kSource = STRATA_SOURCE_DIR;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

#define EXPECT_HAS(text, part) EXPECT_TRUE(contains((text), (part))) << "expected \"" << (part) << "\" in:\n" << (text)

// ---------------------------------------------------------------------------
// CSV reading (RFC 4180 quoting: the labels contain commas).

using CsvRow = std::vector<std::string>;

std::vector<CsvRow> parse_csv(const std::string& text) {
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    any = true;
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\n') {
      row.push_back(field);
      field.clear();
      rows.push_back(row);
      row.clear();
      any = false;
    } else {
      field += c;
    }
  }
  if (any) {
    row.push_back(field);
    rows.push_back(row);
  }
  return rows;
}

double to_double(const std::string& s) {
  size_t n = 0;
  double v = std::nan("");
  try {
    v = std::stod(s, &n);
  } catch (...) {
    return std::nan("");
  }
  return n == s.size() ? v : std::nan("");
}

// ---------------------------------------------------------------------------
// 1. Bad scenario files: exit 2 and a message naming the file, the key and the value.

struct BadCase {
  std::string name;                   // test name
  std::string fixture;                // tests/data/<fixture>
  std::vector<std::string> expected;  // parts of the message besides the file name
  std::string bad, fixed;             // the edit that makes the fixture valid again
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.fixture; }

const BadCase kBadCases[] = {
    {"unknown_key",
     "cli_unknown_key.toml",
     {"unknown key", "separator.wettability", "0.75", "allowed keys in separator", "bruggeman_exponent"},
     "wettability = 0.75\n",
     ""},
    {"porosity_out_of_range",
     "cli_porosity.toml",
     {"layers[1].porosity", "1.3", "out of range", "0 < porosity < 1"},
     "\nporosity = 1.3",
     "\nporosity = 0.45"},
    {"missing_material",
     "cli_missing_material.toml",
     {"layers[0].materials[0].name", "\"unobtainium\"", "not found", "test_sloping", "test_plateau"},
     "\"unobtainium\"",
     "\"test_sloping\""},
    {"wrong_unit",
     "cli_wrong_unit.toml",
     {"layers[0].thickness_um", "= 40", "use thickness_m", "layers[0].thickness_m"},
     "thickness_um = 40",
     "thickness_m = 40e-6"},
    {"bad_protocol_step",
     "cli_bad_protocol.toml",
     {"protocol.steps[1]", "\"Charge quickly\"", "not a valid protocol step", "Charge|Discharge at"},
     "\"Charge quickly\"",
     "\"Rest for 30 seconds\""},
    {"variant_override_out_of_range",
     "cli_bad_variant.toml",
     {"variant \"too porous\"", "layers[0].porosity", "1.3", "0 < porosity < 1"},
     "\"layers[0].porosity\" = 1.3",
     "\"layers[0].porosity\" = 0.5"},
};

class CliBadScenario : public ::testing::TestWithParam<BadCase> {};

TEST_P(CliBadScenario, ExitsWithErrorNamingFileKeyAndValue) {
  const BadCase& c = GetParam();
  TempDir tmp;
  const std::string scenario = kData + "/" + c.fixture;
  ASSERT_TRUE(fs::exists(scenario)) << scenario;
  const fs::path out = tmp.path() / "out";
  const RunResult r = simulate(scenario, out, tmp.path());
  EXPECT_EQ(r.exit_code, 2) << "stderr:\n" << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << "stderr:\n" << r.err;
  EXPECT_HAS(r.err, c.fixture);
  for (const std::string& part : c.expected) EXPECT_HAS(r.err, part);
  // One error, on one line, and nothing simulated or written.
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(fs::exists(out)) << "the results directory was created for a rejected scenario";
}

// Control: with the one fault undone (and the library path made absolute, since the copy
// lives in a temp directory) the same file runs, so the error above is for that fault.
TEST_P(CliBadScenario, FixtureWithFaultUndoneRuns) {
  const BadCase& c = GetParam();
  TempDir tmp;
  std::string text = slurp(kData + "/" + c.fixture);
  auto replace_once = [&text](const std::string& from, const std::string& to) {
    const size_t pos = text.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    text.replace(pos, from.size(), to);
    EXPECT_EQ(text.find(from, pos + to.size()), std::string::npos) << "more than one " << from;
  };
  replace_once(c.bad, c.fixed);
  replace_once("path = \"../../materials\"", "path = \"" + kSource + "/materials\"");
  const fs::path copy = tmp.path() / c.fixture;
  spit(copy, text);
  const fs::path out = tmp.path() / "out";
  const RunResult r = simulate(copy.string(), out, tmp.path(), "--quiet");
  EXPECT_EQ(r.exit_code, 0) << "stderr:\n" << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(fs::exists(out / "cli_bad.csv") || fs::exists(out / "cli_bad_variant.csv"));
}

INSTANTIATE_TEST_SUITE_P(Cli, CliBadScenario, ::testing::ValuesIn(kBadCases),
                         [](const ::testing::TestParamInfo<BadCase>& i) { return i.param.name; });

TEST(CliBadInvocation, NonexistentScenarioPath) {
  TempDir tmp;
  const std::string missing = (tmp.path() / "no_such_scenario.toml").string();
  const fs::path out = tmp.path() / "out";
  const RunResult r = simulate(missing, out, tmp.path());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, -1);
  EXPECT_HAS(r.err, "no_such_scenario.toml");
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliBadInvocation, NoSubcommandAndBadOptionsFail) {
  TempDir tmp;
  const std::string good = kData + "/cli_good.toml";
  const fs::path out = tmp.path() / "out";
  EXPECT_NE(run_strata("", tmp.path()).exit_code, 0);
  EXPECT_NE(simulate(good, out, tmp.path(), "--layout diagonal").exit_code, 0);
  EXPECT_NE(simulate(good, out, tmp.path(), "--threads -1").exit_code, 0);
  // A bad invocation exits 2, as a bad scenario does (not CLI11's own codes, 105 and up).
  EXPECT_EQ(simulate(good, out, tmp.path(), "--no-such-option").exit_code, 2);
  EXPECT_EQ(run_strata("--help", tmp.path()).exit_code, 0);
  for (const char* scale : {"abc", "0", "1e9"}) {
    const RunResult r = run_strata("optimize " + sh_quote(good) + " --scale " + scale, tmp.path());
    EXPECT_EQ(r.exit_code, 2) << scale;
    EXPECT_HAS(r.err, std::string(scale) == "abc" ? "'abc' is not a number; give the factor on the campaign's budgets"
                                                  : " is outside 0.01 .. 1000; give the factor");
  }
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliBadInvocation, InfoOnAMissingFileSaysSo) {
  TempDir tmp;
  const std::string missing = (tmp.path() / "nowhere.h5").string();
  const RunResult r = run_strata("info " + sh_quote(missing), tmp.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_HAS(r.err, "cannot open " + missing + ": no such file");
}

// A bad count says what is allowed, not CLI11's range (0 to 1.79769e+308); an --out
// that names a CSV or a scenario is refused before anything is written; an .hdf5
// name is a file, not a directory.
TEST(CliBadInvocation, BadThreadsAndOutSayWhatIsAllowed) {
  TempDir tmp;
  const std::string good = kData + "/cli_good.toml";
  const RunResult threads = simulate(good, tmp.path() / "out", tmp.path(), "--threads -1");
  EXPECT_NE(threads.exit_code, 0);
  EXPECT_HAS(threads.err, "-1 is below 0; give a number of threads, or 0 for all cores");
  EXPECT_FALSE(contains(threads.err, "e+308")) << threads.err;
  EXPECT_HAS(simulate(good, tmp.path() / "out", tmp.path(), "--threads two").err, "'two' is not a whole number");
  const RunResult csv = run_strata("simulate " + sh_quote(good) + " --out " + sh_quote((tmp.path() / "r.CSV").string()),
                                   tmp.path());
  EXPECT_NE(csv.exit_code, 0);
  EXPECT_HAS(csv.err, "looks like a csv file; give a directory or a file ending in .h5");
  EXPECT_FALSE(fs::exists(tmp.path() / "r.CSV"));
  EXPECT_FALSE(fs::exists(tmp.path() / "out"));
  const fs::path hdf5 = tmp.path() / "named.HDF5";
  const RunResult named =
      run_strata("simulate " + sh_quote(good) + " --quiet --csv --out " + sh_quote(hdf5.string()), tmp.path());
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_TRUE(fs::is_regular_file(hdf5));
  EXPECT_TRUE(fs::is_regular_file(tmp.path() / "named.csv"));
  // Profiles with no trajectory to hold them were once dropped without a word.
  std::string no_traj = slurp(good);
  no_traj.replace(no_traj.find("path = \"../../materials\""), 24,
                  "path = \"" + std::string(STRATA_SOURCE_DIR) + "/materials\"");
  no_traj += "\n[output]\nprofiles = [{ step = 0, at = \"end\" }]\n";
  spit(tmp.path() / "no_traj.toml", no_traj);
  const RunResult dropped = run_strata("simulate " + sh_quote((tmp.path() / "no_traj.toml").string()) + " --quiet --out " + sh_quote((tmp.path() / "nt.h5").string()),
                                       tmp.path());
  EXPECT_EQ(dropped.exit_code, 2);
  EXPECT_HAS(dropped.err, "output.profiles asks for 1 profile(s), but output.trajectories = \"none\"");
  EXPECT_FALSE(fs::exists(tmp.path() / "nt.h5"));
  // --resume writes into the file it continues: an --out beside it was once ignored.
  const fs::path other = tmp.path() / "other.h5";
  const RunResult both = run_strata("simulate " + sh_quote(good) + " --quiet --resume " + sh_quote(hdf5.string()) +
                                        " --out " + sh_quote(other.string()),
                                    tmp.path());
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_HAS(both.err, "--out excludes --resume");
  EXPECT_FALSE(fs::exists(other));
}

// `strata bench` runs the benchmark program with the arguments that follow.
TEST(CliBadInvocation, BenchSubcommandRunsTheBenchmarkProgram) {
  TempDir tmp;
  const RunResult help = run_strata("bench --help", tmp.path());
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_HAS(help.out, "strata_bench: throughput of batched DFN variants");
  EXPECT_HAS(help.out, "--no-solve-bench");
  EXPECT_FALSE(contains(help.out, "{false}")) << help.out;
  const RunResult bad = run_strata("bench --variants 0", tmp.path());
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_HAS(bad.err, "0 is below 1; give the number of variants in the CPU batch");
  // Designs of two shapes (cells in proportion to thickness: 40 and 20 um) are refused
  // with a message, not thrown out of main.
  std::string text = slurp(kData + "/cli_good.toml");
  text.replace(text.find("[numerics]\nnodes_per_layer = 6\n"), 30, "[numerics]\ncell_size_m = 5e-6\n");
  text.replace(text.find("path = \"../../materials\""), 24, "path = \"" + std::string(STRATA_SOURCE_DIR) + "/materials\"");
  const fs::path scen = tmp.path() / "two_shapes.toml";
  spit(scen, text);
  const RunResult shapes =
      run_strata("bench --scenario " + sh_quote(scen.string()) + " --variants 4 --no-solve-bench --device cpu", tmp.path());
  EXPECT_EQ(shapes.exit_code, 2) << shapes.err;
  EXPECT_HAS(shapes.err, "different discretisation shapes");
}

// ---------------------------------------------------------------------------
// 2. A good run: exit 0, the table, and the CSV.

constexpr int kVariants = 2;
const char* const kLabels[kVariants] = {"base", "thin, porous"};
const char* const kSteps[] = {"Charge at 1C until 3.6 V", "Discharge at 1C until 2.3 V"};
constexpr int kNumSteps = 2;

TEST(CliSimulate, GoodScenarioPrintsTableAndWritesCsv) {
  TempDir tmp;
  const fs::path out = tmp.path() / "results";
  const RunResult r = simulate(kData + "/cli_good.toml", out, tmp.path());
  ASSERT_EQ(r.exit_code, 0) << "stderr:\n" << r.err << "\nstdout:\n" << r.out;
  EXPECT_EQ(r.err, "");  // no progress bar when stderr is not a terminal
  EXPECT_HAS(r.out, "cli_good");
  EXPECT_HAS(r.out, "2 variants (0 already in the file), 2 protocol steps");
  EXPECT_HAS(r.out, "2 variants in 1 batch(es) (2 ok, 0 failed)");
  for (const char* l : kLabels) EXPECT_HAS(r.out, l);
  for (const char* s : kSteps) EXPECT_HAS(r.out, s);
  EXPECT_FALSE(contains(r.out, "FAIL")) << r.out;
  const fs::path csv = out / "cli_good.csv";
  EXPECT_HAS(r.out, "csv: " + csv.string());
  ASSERT_TRUE(fs::exists(csv));

  const std::vector<CsvRow> rows = parse_csv(slurp(csv));
  ASSERT_EQ(rows.size(), 1u + kVariants * kNumSteps);
  const CsvRow& head = rows[0];
  std::map<std::string, size_t> col;
  for (size_t k = 0; k < head.size(); ++k) col[head[k]] = k;
  const char* const first[] = {"variant_id", "label", "status", "reason", "active_mass_mg_cm2", "step", "step_text",
                               "capacity_mAh_g"};
  for (size_t k = 0; k < std::size(first); ++k) {
    ASSERT_LT(k, head.size());
    EXPECT_EQ(head[k], first[k]);
  }
  for (const char* name : {"capacity_mAh_cm2", "end_potential_V", "end_reason", "charge_test_sloping_mAh_g",
                           "charge_test_plateau_mAh_g", "charge_layer0_mAh_g"})
    EXPECT_TRUE(col.count(name)) << name;
  EXPECT_FALSE(col.count("charge_layer1_mAh_g"));  // a single layer
  ASSERT_TRUE(col.count("end_potential_V") && col.count("end_reason") && col.count("capacity_mAh_cm2"));

  double mass[kVariants] = {0, 0};
  for (size_t i = 1; i < rows.size(); ++i) {
    const CsvRow& row = rows[i];
    SCOPED_TRACE("CSV row " + std::to_string(i));
    ASSERT_EQ(row.size(), head.size());
    const int v = static_cast<int>((i - 1) / kNumSteps), k = static_cast<int>((i - 1) % kNumSteps);
    EXPECT_EQ(row[col["variant_id"]], std::to_string(v));
    EXPECT_EQ(row[col["label"]], kLabels[v]);
    EXPECT_EQ(row[col["status"]], "0");
    EXPECT_EQ(row[col["reason"]], "ok");
    EXPECT_EQ(row[col["step"]], std::to_string(k));
    EXPECT_EQ(row[col["step_text"]], kSteps[k]);
    EXPECT_EQ(row[col["end_reason"]], "limit");  // both steps end at their voltage cut-off
    const double q = to_double(row[col["capacity_mAh_g"]]);
    EXPECT_TRUE(std::isfinite(q) && q > 1.0 && q < 1000.0) << row[col["capacity_mAh_g"]];
    mass[v] = to_double(row[col["active_mass_mg_cm2"]]);
    EXPECT_TRUE(mass[v] > 0.0) << row[col["active_mass_mg_cm2"]];
    // The layer as simulated: 40 um at porosity 0.35, the second variant 20 um at 0.5.
    EXPECT_NEAR(to_double(row[col["thickness_layer0_m"]]), v == 0 ? 40e-6 : 20e-6, 1e-15);
    EXPECT_NEAR(to_double(row[col["porosity_layer0"]]), v == 0 ? 0.35 : 0.5, 1e-12);
    // The design variables, last, as /population/var holds them (NaN: not set).
    ASSERT_TRUE(col.count("layers[0].thickness_m"));
    if (v == 0) EXPECT_EQ(row[col["layers[0].thickness_m"]], "nan");
    else EXPECT_EQ(to_double(row[col["layers[0].thickness_m"]]), 20e-6);
    // mAh/cm2 = mAh/g * mg/cm2 / 1000 (the CSV rounds the mass to 6 digits).
    EXPECT_NEAR(to_double(row[col["capacity_mAh_cm2"]]), q * mass[v] / 1000.0, 1e-5 * q * mass[v] / 1000.0);
    EXPECT_NEAR(to_double(row[col["end_potential_V"]]), k == 0 ? 3.6 : 2.3, 1e-3);
  }
  // The override took effect: "thin, porous" has (20 um x 0.5 solid) / (40 um x 0.65 solid)
  // of the base's active mass.
  EXPECT_NEAR(mass[1] / mass[0], (20.0 * 0.5) / (40.0 * 0.65), 1e-4);
}

// With objectives, the table's columns are the objectives under their whole names,
// each explained below the header with its unit, its sense and the steps it names.
TEST(CliSimulate, ObjectiveColumnsSayWhatTheyAre) {
  TempDir tmp;
  std::string text = slurp(kData + "/cli_good.toml");
  const std::string lib = "path = \"../../materials\"";
  ASSERT_NE(text.find(lib), std::string::npos);
  text.replace(text.find(lib), lib.size(), "path = \"" + std::string(STRATA_SOURCE_DIR) + "/materials\"");
  text += "\n[[objectives]]\nname = \"discharge_capacity_at_1C\"\nkind = \"capacity_mAh_g\"\nstep = 1\n"
          "\n[[objectives]]\nname = \"round_trip\"\nstep = 1\nreference_step = 0\n";
  const fs::path scen = tmp.path() / "objectives.toml";
  spit(scen, text);
  const RunResult r = simulate(scen.string(), tmp.path() / "out", tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.out, "  discharge_capacity_at_1C  ");  // not cut to 14 characters
  EXPECT_HAS(r.out, "  discharge_capacity_at_1C (mAh/g, maximize): capacity_mAh_g of s1\n");
  EXPECT_HAS(r.out, "  round_trip (-, maximize): capacity of s1 / capacity of s0\n");
  EXPECT_HAS(r.out, "  s0: Charge at 1C until 3.6 V\n");
  EXPECT_HAS(r.out, "  s1: Discharge at 1C until 2.3 V\n");
}

// A failed design's row names the protocol step it failed in.
TEST(CliSimulate, AFailedRowNamesItsStep) {
  TempDir tmp;
  std::string text = slurp(kData + "/cli_good.toml");
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"path = \"../../materials\"", "path = \"" + std::string(STRATA_SOURCE_DIR) + "/materials\""},
           {"\"Discharge at 1C until 2.3 V\"", "\"Charge at 1C for 3 hours\""}}) {  // past the full cathode
    ASSERT_NE(text.find(from), std::string::npos) << from;
    text.replace(text.find(from), from.size(), to);
  }
  const fs::path scen = tmp.path() / "overcharge.toml";
  spit(scen, text);
  const RunResult r = simulate(scen.string(), tmp.path() / "out", tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.out, "FAIL");
  EXPECT_HAS(r.out, " (in s1: Charge at 1C for 3 hours)\n");
  // Every design failed: said on stderr (a run with designs that finish says nothing
  // there, CliSimulate.QuietPrintsNothingButWritesCsv), and still exit 0.
  EXPECT_HAS(r.err, "warning: all " + std::to_string(kVariants) + " designs run failed (each row gives the reason)");
}

TEST(CliSimulate, QuietPrintsNothingButWritesCsv) {
  TempDir tmp;
  const fs::path out = tmp.path() / "nested" / "results";  // created as needed
  const RunResult r = simulate(kData + "/cli_good.toml", out, tmp.path(), "--quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(parse_csv(slurp(out / "cli_good.csv")).size(), 1u + kVariants * kNumSteps);
}

// ---------------------------------------------------------------------------
// 3. The results do not depend on the memory layout or the number of threads.

TEST(CliSimulate, LayoutAndThreadsGiveIdenticalCsv) {
  TempDir tmp;
  const std::string scenario = kData + "/cli_good.toml";
  auto run = [&](const std::string& name, const std::string& extra) {
    const fs::path out = tmp.path() / name;
    const RunResult r = simulate(scenario, out, tmp.path(), "--quiet" + (extra.empty() ? "" : " " + extra));
    EXPECT_EQ(r.exit_code, 0) << extra << ": " << r.err;
    return slurp(out / "cli_good.csv");
  };
  const std::string reference = run("default", "");
  ASSERT_EQ(parse_csv(reference).size(), 1u + kVariants * kNumSteps);
  EXPECT_EQ(run("blocked", "--layout blocked"), reference);
  EXPECT_EQ(run("interleaved", "--layout interleaved"), reference);
  EXPECT_EQ(run("threads1", "--threads 1"), reference);
  EXPECT_EQ(run("threads3", "--threads 3"), reference);
  EXPECT_EQ(run("interleaved_threads1", "--layout interleaved --threads 1"), reference);
}

}  // namespace

// ---------------------------------------------------------------------------
// Variants of different discretisation shapes (here: layer order moves two layers
// with different cell counts) run as separate batches and land in one CSV, in
// scenario order; a scenario name with path characters cannot escape --out.
// Two layer orders mesh differently (4 and 6 cells at the collector): one batch of
// the run, two kernel batches inside it, rows in design order.
TEST(CliSimulate, MixedShapesShareABatchOfTheRun) {
  TempDir tmp;
  std::string text = slurp(kData + "/cli_good.toml");
  const std::string layer2 = R"(
[[layers]]
thickness_m = 30e-6
porosity = 0.4
tortuosity = 2.0
conductivity_S_m = 10.0
nodes = 4
[[layers.materials]]
name = "test_plateau"
solid_volume_fraction = 0.8
particle_radius_m = 1e-6
)";
  text.replace(text.find("[numerics]"), 0, layer2 + "\n");
  text.replace(text.find("name = \"cli_good\""), 17, "name = \"../escaped/mixed\"");
  text.replace(text.find("set = {"), std::string::npos, "layer_order = [1, 0]\n");
  text.replace(text.find("path = \"../../materials\""), 24, "path = \"" + std::string(STRATA_SOURCE_DIR) + "/materials\"");
  const fs::path scen = tmp.path() / "mixed.toml";
  std::ofstream(scen) << text;
  const fs::path out = tmp.path() / "out";
  const RunResult r = simulate(scen.string(), out, tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_HAS(r.out, "2 variants in 1 batch(es)");
  EXPECT_HAS(r.out, "2 ok, 0 failed");
  const fs::path csv = out / "___escaped_mixed.csv";
  ASSERT_TRUE(fs::exists(csv)) << "files in out: " << r.out;
  const std::vector<CsvRow> rows = parse_csv(slurp(csv));
  ASSERT_EQ(rows.size(), 1u + 2 * 2);
  EXPECT_EQ(rows[1][0], "0");
  EXPECT_EQ(rows[3][0], "1");
  EXPECT_EQ(rows[3][1], "thin, porous");
}

// A step whose limit is already met when it starts ends at once with capacity about
// 0; simulate and info say so, naming the step, instead of ranking it silently.
TEST(CliSimulate, StepThatEndsAtOnceIsNamedBySimulateAndInfo) {
  TempDir tmp;
  std::string text = slurp(kData + "/cli_good.toml");
  const std::string steps = "steps = [\"Charge at 1C until 3.6 V\", \"Discharge at 1C until 2.3 V\"]";
  ASSERT_NE(text.find(steps), std::string::npos);
  text.replace(text.find(steps), steps.size(),
               "steps = [\"Charge at 1C until 3.6 V\", \"Charge at 1C until 3.5 V\"]");
  text.replace(text.find("path = \"../../materials\""), 24, "path = \"" + std::string(STRATA_SOURCE_DIR) + "/materials\"");
  const fs::path scen = tmp.path() / "at_start.toml";
  spit(scen, text);
  const fs::path file = tmp.path() / "at_start.h5";
  const RunResult r = run_strata("simulate " + sh_quote(scen.string()) + " --out " + sh_quote(file.string()), tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string note = "step 1 \"Charge at 1C until 3.5 V\" ended at once in 2 of 2 design(s)";
  EXPECT_HAS(r.out, note);
  EXPECT_FALSE(contains(r.out, "step 0 \"")) << r.out;
  const RunResult info = run_strata("info " + sh_quote(file.string()), tmp.path());
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_HAS(info.out, note);
}
