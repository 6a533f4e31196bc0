// A run's results file against faults: SIGKILL mid-run leaves a readable file with
// every finished batch; SIGINT stops cleanly; --resume completes either to the same
// population as an uninterrupted run; existing files are not overwritten silently.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <cstdlib>
#include <thread>

#include "host/results_store.hpp"
#include "tests/unit/process_helpers.hpp"

using namespace strata;
using namespace strata::test;

namespace {

constexpr int kDesigns = 400;
constexpr int kBatch = 40;  // long batches keep the flush window (about 1 ms) a small share of the run

// A coarse single-layer scenario with a 400-design sweep in batches of 40.
fs::path write_sweep_scenario(const fs::path& dir) {
  std::string text = slurp(std::string(STRATA_TEST_DATA_DIR) + "/cli_good.toml");
  text.replace(text.find("path = \"../../materials\""), 24,
               "path = \"" + std::string(STRATA_SOURCE_DIR) + "/materials\"");
  text.erase(text.find("[[batch.variants]]"));
  text += "[batch.sweep]\n\"layers[0].porosity\" = { from = 0.30, to = 0.45, count = 20 }\n"
          "\"layers[0].thickness_m\" = { from = 20e-6, to = 60e-6, count = 20 }\n"
          "[output]\nbatch_size = 40\n";
  const fs::path p = dir / "sweep.toml";
  spit(p, text);
  return p;
}

// Design id -> capacity of every step, read from a results file.
std::map<int64_t, std::vector<double>> population(const std::string& path) {
  const ResultsStore st = ResultsStore::open_read(path);
  const auto ids = h5::read_int64(st.file(), "population/design_id");
  const auto cap = h5::read_float64(st.file(), "population/step/capacity_mAh_g");
  const size_t ns = ids.empty() ? 0 : cap.size() / ids.size();
  std::map<int64_t, std::vector<double>> out;
  for (size_t r = 0; r < ids.size(); ++r) out[ids[r]] = std::vector<double>(cap.begin() + r * ns, cap.begin() + (r + 1) * ns);
  return out;
}

std::string meta_status(const std::string& path) {
  const ResultsStore st = ResultsStore::open_read(path);
  h5::Handle meta = h5::open_group(st.file(), "meta");
  return h5::get_attr_string(meta.id(), "status");
}

// Every population dataset has the same number of rows.
void expect_consistent_rows(const std::string& path, int64_t rows) {
  const ResultsStore st = ResultsStore::open_read(path);
  for (const char* d : {"population/label", "population/status", "population/reason", "population/batch",
                        "population/step/capacity_mAh_g", "population/var/layers[0].porosity"}) {
    h5::Handle ds(H5Dopen2(st.file(), d, H5P_DEFAULT));
    ASSERT_TRUE(ds.valid()) << d;
    EXPECT_EQ((int64_t)h5::rows(ds.id()), rows) << d;
  }
}

// Starts a run and signals it once it has been going for a while, so that some but
// not all batches are done; retries with a longer or shorter wait (KillDelaySearch). With
// `times` = 2 the signal is sent twice 2 ms apart, as GNU timeout and a terminal do
// (to the process, then to its group). What the run printed on stderr goes to *stderr_text.
std::string interrupted_run(const fs::path& dir, const fs::path& scenario, int sig, int times = 1,
                            std::string* stderr_text = nullptr) {
  KillDelaySearch search;
  for (int wait_ms; search.next(wait_ms);) {
    const std::string out = (dir / ("run_" + std::to_string(sig) + "_" + std::to_string(wait_ms) + ".h5")).string();
    fs::remove(out);
    const fs::path err = dir / "stderr.txt";
    const pid_t pid = spawn({kBinary, "simulate", scenario.string(), "--out", out, "--quiet", "--threads", "1"}, err);
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    for (int k = 0; k < times; ++k) {
      if (k > 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // not merged as one pending signal
      kill(pid, sig);
    }
    int got_signal = 0;
    const int code = wait_exit(pid, &got_signal);
    const auto pop = fs::exists(out) ? population(out) : std::map<int64_t, std::vector<double>>{};
    if (pop.empty()) {
      search.too_early();
      continue;
    }
    if ((int)pop.size() == kDesigns) {
      search.too_late();
      continue;
    }
    if (sig == SIGKILL) {
      EXPECT_EQ(got_signal, SIGKILL);
    } else {
      EXPECT_EQ(code, 130);
    }
    if (stderr_text) *stderr_text = slurp(err);
    return out;
  }
  ADD_FAILURE() << "could not interrupt a run between batches";
  return "";
}

}  // namespace

TEST(RunSafety, SigkillLeavesReadableFileAndResumeMatchesUninterruptedRun) {
  TempDir tmp;
  const fs::path scenario = write_sweep_scenario(tmp.path());
  const std::string killed = interrupted_run(tmp.path(), scenario, SIGKILL);
  ASSERT_FALSE(killed.empty());
  const auto partial = population(killed);
  EXPECT_EQ(partial.size() % kBatch, 0u) << "a SIGKILL leaves whole batches only";
  expect_consistent_rows(killed, partial.size());
  EXPECT_EQ(meta_status(killed), "running");
  const RunResult info = run_strata("info " + sh_quote(killed), tmp.path());
  EXPECT_NE(info.out.find("running when last written: killed"), std::string::npos) << info.out;

  // Resume, and compare with a run that was never interrupted.
  const std::string full = (tmp.path() / "full.h5").string();
  ASSERT_EQ(wait_exit(spawn({kBinary, "simulate", scenario.string(), "--out", full, "--quiet", "--csv"})), 0);
  ASSERT_EQ(wait_exit(spawn({kBinary, "simulate", scenario.string(), "--resume", killed, "--quiet", "--csv"})), 0);
  const auto resumed = population(killed), reference = population(full);
  ASSERT_EQ(resumed.size(), (size_t)kDesigns);
  expect_consistent_rows(killed, kDesigns);
  EXPECT_EQ(resumed, reference);
  EXPECT_EQ(meta_status(killed), "complete");
  // The resumed run's CSV holds the designs of before the kill too.
  const std::string resumed_csv = slurp(fs::path(killed).replace_extension(".csv"));
  EXPECT_EQ(std::count(resumed_csv.begin(), resumed_csv.end(), '\n'), 1 + 2 * kDesigns);
  EXPECT_EQ(resumed_csv, slurp(fs::path(full).replace_extension(".csv")));
}

// The file at every stage of a commit (host/committed_h5_file.hpp), killed there by a
// SIGKILL the run sends itself (STRATA_FAULT_KILL_IN_COMMIT), with the other copy
// brought up to date each way (STRATA_COMMIT_UPDATE). Commit 1 writes the skeleton
// and commit k + 1 batch k, so a kill in commit 4 leaves batches 0 and 1 before the
// rename that publishes batch 2 and batches 0 to 2 after it; "updating" also leaves
// the working copy overwritten with garbage. Every file opens, holds whole batches,
// and --resume completes it to the uninterrupted run's population.
TEST(RunSafety, KillAtEveryStageOfACommitLeavesTheLastCommit) {
  TempDir tmp;
  const fs::path scenario = write_sweep_scenario(tmp.path());
  const std::string full = (tmp.path() / "full.h5").string();
  ASSERT_EQ(wait_exit(spawn({kBinary, "simulate", scenario.string(), "--out", full, "--quiet"})), 0);
  const auto reference = population(full);
  ASSERT_EQ(reference.size(), (size_t)kDesigns);
  for (const std::string update : {"copy", "replay"})
    for (const auto& [stage, batches] : std::vector<std::pair<std::string, int>>{
             {"flushed", 2}, {"linked", 2}, {"published", 3}, {"updating", 3}}) {
      SCOPED_TRACE(update + ", " + stage);
      const std::string out = (tmp.path() / ("killed_" + update + "_" + stage + ".h5")).string();
      setenv("STRATA_COMMIT_UPDATE", update.c_str(), 1);
      setenv("STRATA_FAULT_KILL_IN_COMMIT", ("4:" + stage).c_str(), 1);
      int got_signal = 0;
      wait_exit(spawn({kBinary, "simulate", scenario.string(), "--out", out, "--quiet", "--threads", "1"}), &got_signal);
      unsetenv("STRATA_FAULT_KILL_IN_COMMIT");
      EXPECT_EQ(got_signal, SIGKILL);
      const auto partial = population(out);
      EXPECT_EQ(partial.size(), (size_t)(batches * kBatch));
      expect_consistent_rows(out, partial.size());
      EXPECT_EQ(meta_status(out), "running");
      for (const auto& [id, caps] : partial) EXPECT_EQ(caps, reference.at(id)) << id;
      ASSERT_EQ(wait_exit(spawn({kBinary, "simulate", scenario.string(), "--resume", out, "--quiet"})), 0);
      unsetenv("STRATA_COMMIT_UPDATE");
      EXPECT_EQ(population(out), reference);
      EXPECT_EQ(meta_status(out), "complete");
      EXPECT_FALSE(fs::exists(out + ".part"));
      EXPECT_FALSE(fs::exists(out + ".prev"));
    }
}

TEST(RunSafety, SigintStopsCleanlyAndResumeCompletes) {
  TempDir tmp;
  const fs::path scenario = write_sweep_scenario(tmp.path());
  std::string said;
  const std::string stopped = interrupted_run(tmp.path(), scenario, SIGINT, 1, &said);
  ASSERT_FALSE(stopped.empty());
  EXPECT_EQ(meta_status(stopped), "interrupted");
  const auto partial = population(stopped);
  expect_consistent_rows(stopped, partial.size());
  // The message counts what the file holds (it once said 0: the rows were counted
  // after being moved into the store).
  EXPECT_NE(said.find(": " + std::to_string(partial.size()) + " designs of " + std::to_string(kDesigns) + " are in"),
            std::string::npos)
      << said;
  ASSERT_EQ(wait_exit(spawn({kBinary, "simulate", scenario.string(), "--resume", stopped, "--quiet"})), 0);
  const auto resumed = population(stopped);
  EXPECT_EQ(resumed.size(), (size_t)kDesigns);  // no duplicated or missing design
  for (const auto& [id, caps] : partial) EXPECT_EQ(resumed.at(id), caps);
}

TEST(RunSafety, SigintDeliveredTwiceAtOnceIsOneRequest) {
  TempDir tmp;
  const fs::path scenario = write_sweep_scenario(tmp.path());
  const std::string stopped = interrupted_run(tmp.path(), scenario, SIGINT, 2);  // expects exit 130
  ASSERT_FALSE(stopped.empty());
  EXPECT_EQ(meta_status(stopped), "interrupted");
  expect_consistent_rows(stopped, population(stopped).size());
}

TEST(RunSafety, ExistingFileIsRefusedWithoutResumeOrOverwrite) {
  TempDir tmp;
  const std::string scenario = std::string(STRATA_TEST_DATA_DIR) + "/cli_good.toml";
  const std::string out = (tmp.path() / "r.h5").string();
  ASSERT_EQ(run_strata("simulate " + sh_quote(scenario) + " --out " + sh_quote(out) + " --quiet", tmp.path()).exit_code, 0);
  const RunResult again = run_strata("simulate " + sh_quote(scenario) + " --out " + sh_quote(out) + " --quiet", tmp.path());
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("--overwrite"), std::string::npos) << again.err;
  EXPECT_EQ(run_strata("simulate " + sh_quote(scenario) + " --out " + sh_quote(out) + " --overwrite --quiet", tmp.path())
                .exit_code,
            0);
  // A file of another scenario is refused on resume, naming both.
  const std::string other = std::string(STRATA_SOURCE_DIR) + "/scenarios/default.toml";
  const RunResult foreign = run_strata("simulate " + sh_quote(other) + " --resume " + sh_quote(out) + " --quiet", tmp.path());
  EXPECT_EQ(foreign.exit_code, 2);
  EXPECT_NE(foreign.err.find("cli_good"), std::string::npos) << foreign.err;
  EXPECT_NE(foreign.err.find("default.toml"), std::string::npos) << foreign.err;
  // strata info reads the file; a file that is not HDF5 is refused clearly.
  const RunResult info = run_strata("info " + sh_quote(out), tmp.path());
  EXPECT_EQ(info.exit_code, 0);
  EXPECT_NE(info.out.find("designs:   2 of 2"), std::string::npos) << info.out;
  spit(tmp.path() / "junk.h5", "junk");
  const RunResult junk = run_strata("info " + sh_quote((tmp.path() / "junk.h5").string()), tmp.path());
  EXPECT_EQ(junk.exit_code, 2);
  EXPECT_NE(junk.err.find("junk.h5"), std::string::npos) << junk.err;
}
