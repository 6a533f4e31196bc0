// MPI mode on one machine (mpirun --oversubscribe, OMP_NUM_THREADS=1 from the test's
// environment): 1, 2 and 3 ranks give bit-identical populations for a sweep and a
// design campaign; a worker rank killed with SIGKILL mid-run leaves a readable file
// that --resume (with another rank count) completes to the same population.
// Skipped, saying why, when MPI mode is not built or mpirun is missing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <system_error>
#include <thread>

#include "host/cuda_runner.hpp"
#include "host/h5_file.hpp"
#include "host/results_store.hpp"
#include "tests/unit/population_compare.hpp"
#include "tests/unit/process_helpers.hpp"

using namespace strata;
using namespace strata::test;

namespace {

const std::string kMpirun = STRATA_MPIRUN;

// Skips the test unless MPI mode is built and mpirun runs.
#define REQUIRE_MPI()                                                                          \
  do {                                                                                         \
    if (!STRATA_MPI_BUILT) GTEST_SKIP() << "MPI mode is not built (no MPI library at configure time)"; \
    if (kMpirun.empty() || access(kMpirun.c_str(), X_OK) != 0)                                 \
      GTEST_SKIP() << "mpirun not found (install openmpi-bin: scripts/install_deps.sh)";       \
  } while (0)

// "mpirun --oversubscribe -n P strata" (P = 1: plain strata, no MPI at all).
std::string strata_on(int ranks) {
  if (ranks == 1) return sh_quote(kBinary);
  return sh_quote(kMpirun) + " --oversubscribe --bind-to none -n " + std::to_string(ranks) + " " + sh_quote(kBinary);
}

RunResult run_shell(const std::string& cmd, const fs::path& dir) {
  const fs::path out = dir / "stdout.txt", err = dir / "stderr.txt";
  const int st = std::system((cmd + " >" + sh_quote(out.string()) + " 2>" + sh_quote(err.string()) + " </dev/null").c_str());
  RunResult r;
  if (st != -1 && WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

std::string library_line() { return "\n[library]\npath = \"" + std::string(STRATA_SOURCE_DIR) + "/materials\"\n"; }

// The coarse single-layer cell of the CLI tests with a sweep of n designs.
fs::path write_sweep(const fs::path& dir, int n, int batch, const std::string& extra = "") {
  std::string text = slurp(std::string(STRATA_TEST_DATA_DIR) + "/cli_good.toml");
  text.replace(text.find("path = \"../../materials\""), 24, "path = \"" + std::string(STRATA_SOURCE_DIR) + "/materials\"");
  text.erase(text.find("[[batch.variants]]"));
  text += "[batch.sweep]\n\"layers[0].porosity\" = { from = 0.30, to = 0.45, count = " + std::to_string(n / 10) +
          " }\n\"layers[0].thickness_m\" = { from = 20e-6, to = 60e-6, count = 10 }\n"
          "[output]\nbatch_size = " + std::to_string(batch) + "\n" + extra;
  const fs::path p = dir / "sweep.toml";
  spit(p, text);
  return p;
}

// scenarios/design_bilayer.toml made small: 0.5C reference, coarse grid, 40 evaluations.
fs::path write_campaign(const fs::path& dir, int budget = 40) {
  std::string text = slurp(std::string(STRATA_SOURCE_DIR) + "/scenarios/design_bilayer.toml");
  auto set = [&](const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    if (at == std::string::npos) throw std::runtime_error("design_bilayer.toml has no " + from);
    text.replace(at, from.size(), to);
  };
  set("\"Charge at 0.1C until 3.6 V\"", "\"Charge at 0.5C until 3.6 V\"");
  set("\"Discharge at 0.1C until 2.3 V\"", "\"Discharge at 0.5C until 2.3 V\"");
  set("max_evaluations = 400", "max_evaluations = " + std::to_string(budget));
  set("initial_population = 32", "initial_population = 12");
  const fs::path p = dir / "campaign.toml";
  spit(p, text + library_line());
  return p;
}

const std::set<std::string> kNoSkip;

}  // namespace

TEST(MpiRuns, SweepGivesTheSamePopulationOnOneTwoAndThreeRanks) {
  REQUIRE_MPI();
  TempDir tmp;
  const std::string scen = sh_quote(write_sweep(tmp.path(), 30, 8).string());
  std::map<std::string, std::string> reference;
  for (int ranks : {1, 2, 3}) {
    const std::string out = (tmp.path() / ("r" + std::to_string(ranks) + ".h5")).string();
    const RunResult r = run_shell(strata_on(ranks) + " simulate " + scen + " --threads 1 --out " + sh_quote(out), tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    if (ranks > 1) {
      EXPECT_NE(r.out.find("MPI: " + std::to_string(ranks) + " ranks"), std::string::npos) << r.out;
      EXPECT_NE(r.out.find("communication"), std::string::npos) << r.out;
    }
    const auto pop = dataset_bytes(out, "population", kNoSkip);
    EXPECT_EQ(ResultsStore::open_read(out).rows(), 30);
    if (ranks == 1) reference = pop;
    else EXPECT_EQ(pop, reference) << ranks << " ranks";
  }
}

// --device in MPI mode: every rank decides on its own node. Without a GPU (or without
// the CUDA backend) auto runs every rank on the CPU and says so, and cuda ends the job
// with exit 2 naming rank 0 and why; on a GPU node each rank takes the GPU of its local
// rank and the population is the CPU's to round-off (a gpu test, scripts/gpu_check.sh).
TEST(MpiRuns, DeviceIsChosenPerRank) {
  REQUIRE_MPI();
  if (cuda_backend_built() && cuda_device_info().count > 0) GTEST_SKIP() << "a CUDA device is visible: --device cuda would run";
  TempDir tmp;
  const std::string scen = sh_quote(write_sweep(tmp.path(), 20, 10).string());
  const std::string out = (tmp.path() / "auto.h5").string();
  const RunResult a = run_shell(strata_on(2) + " simulate " + scen + " --threads 1 --device auto --out " + sh_quote(out),
                                tmp.path());
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("device: CPU (--device auto: "), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("every MPI rank decides on its own node"), std::string::npos) << a.out;
  EXPECT_EQ(ResultsStore::open_read(out).rows(), 20);
  {  // every rank's device, from the start-up exchange: the two ranks' CPUs alike
    const ResultsStore f = ResultsStore::open_read(out);
    const h5::Handle meta = h5::open_group(f.file(), "meta");
    const std::string device = h5::get_attr_string(meta.id(), "device");
    EXPECT_EQ(device.rfind("MPI: 2 ranks; ranks 0-1: CPU: ", 0), 0u) << device;
  }
  const RunResult c = run_shell("timeout -k 5 120 " + strata_on(2) + " simulate " + scen +
                                    " --threads 1 --device cuda --out " + sh_quote((tmp.path() / "cuda.h5").string()),
                                tmp.path());
  EXPECT_EQ(c.exit_code, 2) << c.err;
  EXPECT_NE(c.err.find("error: rank 0: --device cuda: "), std::string::npos) << c.err;
  // A worker that cannot run (here rank 1 alone asked for cuda: mpirun's MPMD form) ends
  // the job at the start, naming it, before a results file is made.
  const std::string worker_out = (tmp.path() / "worker.h5").string();
  const std::string args = " simulate " + scen + " --threads 1 --out " + sh_quote(worker_out);
  const RunResult w = run_shell("timeout -k 5 120 " + sh_quote(kMpirun) + " --oversubscribe --bind-to none -n 1 " +
                                    sh_quote(kBinary) + args + " --device auto : -n 1 " + sh_quote(kBinary) + args +
                                    " --device cuda",
                                tmp.path());
  EXPECT_EQ(w.exit_code, 2) << w.err;
  EXPECT_NE(w.err.find("error: MPI: not every rank can run: rank 1: --device cuda: "), std::string::npos) << w.err;
  EXPECT_FALSE(fs::exists(worker_out));
}

// An error on rank 0 while the workers are sending their results (out of memory; here
// injected) ends the whole job with the reason, exit 5; until 2026-12-07 rank 0 left and
// the workers waited in the exchange until the job's time limit.
TEST(MpiRuns, AnErrorOnRankZeroMidBatchEndsTheJob) {
  REQUIRE_MPI();
  TempDir tmp;
  const std::string scen = sh_quote(write_sweep(tmp.path(), 30, 8).string());
  const std::string out = (tmp.path() / "fault.h5").string();
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r = run_shell("STRATA_TEST_FAULT=rank0_exchange timeout -k 5 120 " + strata_on(3) + " simulate " +
                                    scen + " --threads 1 --out " + sh_quote(out),
                                tmp.path());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(r.exit_code, 124) << "the job hung until timeout ended it";
  EXPECT_NE(r.exit_code, 0);
  EXPECT_LT(s, 60.0);
  EXPECT_NE(r.err.find("rank 0 failed while the other ranks were sending their results (injected fault"),
            std::string::npos)
      << r.err;
}

TEST(MpiRuns, CampaignGivesTheSamePopulationOnOneTwoAndThreeRanks) {
  REQUIRE_MPI();
  TempDir tmp;
  const std::string scen = sh_quote(write_campaign(tmp.path()).string());
  std::map<std::string, std::string> reference, reference_opt;
  for (int ranks : {1, 2, 3}) {
    const std::string out = (tmp.path() / ("c" + std::to_string(ranks) + ".h5")).string();
    const RunResult r = run_shell(strata_on(ranks) + " optimize " + scen + " --threads 1 --out " + sh_quote(out), tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto pop = dataset_bytes(out, "population", kNoSkip);
    const auto opt = dataset_bytes(out, "optimizer", kNoSkip);
    EXPECT_EQ(ResultsStore::open_read(out).rows(), 40);
    if (ranks == 1) {
      reference = pop;
      reference_opt = opt;
      ASSERT_FALSE(reference_opt.empty());
    } else {
      EXPECT_EQ(pop, reference) << ranks << " ranks";
      EXPECT_EQ(opt, reference_opt) << ranks << " ranks: the optimisers saw other values";
    }
  }
}

namespace {

// The pid of the strata process that mpirun (pid launcher) started as this rank.
// The state letter and parent of the process whose /proc directory is dir; false when
// it is gone.
bool proc_stat(const fs::path& dir, char& state, int& ppid) {
  const std::string stat = slurp(dir / "stat");
  const size_t close = stat.rfind(')');
  return close != std::string::npos && std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) == 2;
}

pid_t rank_pid(pid_t launcher, int rank) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    int ppid = 0;
    char state = 0;
    if (!proc_stat(e.path(), state, ppid) || ppid != launcher) continue;
    const std::string env = slurp(e.path() / "environ");
    if (env.find(std::string("OMPI_COMM_WORLD_RANK=") + std::to_string(rank) + '\0') != std::string::npos)
      return static_cast<pid_t>(std::stoi(name));
  }
  return -1;
}

// Waits (up to 20 s) until process pid has exited (gone, or a zombie).
void wait_gone(pid_t pid) {
  if (pid <= 0) return;
  for (int k = 0; k < 1000; ++k) {
    int ppid = 0;
    char state = 0;
    if (!proc_stat(fs::path("/proc") / std::to_string(pid), state, ppid) || state == 'Z') return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

TEST(MpiRuns, KilledWorkerRankLeavesAFileThatResumeCompletes) {
  REQUIRE_MPI();
  TempDir tmp;
  const int designs = 300, batch = 30;
  const fs::path scen = write_sweep(tmp.path(), designs, batch);
  const std::string full = (tmp.path() / "full.h5").string();
  ASSERT_EQ(run_shell(strata_on(1) + " simulate " + sh_quote(scen.string()) + " --quiet --threads 1 --out " + sh_quote(full),
                      tmp.path()).exit_code, 0);
  std::string killed;
  int64_t partial = 0;
  KillDelaySearch search;
  for (int wait_ms; search.next(wait_ms);) {
    const std::string out = (tmp.path() / ("killed_" + std::to_string(wait_ms) + ".h5")).string();
    fs::remove(out);
    const pid_t launcher = spawn({kMpirun, "--oversubscribe", "--bind-to", "none", "-n", "2", kBinary, "simulate",
                                  scen.string(), "--quiet", "--threads", "1", "--out", out});
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    const pid_t leader = rank_pid(launcher, 0), worker = rank_pid(launcher, 1);
    if (worker > 0) kill(worker, SIGKILL);
    const int code = wait_exit(launcher);
    // mpirun can return before rank 0 has exited; until it has, it may commit and holds the writer lock.
    wait_gone(leader);
    if (!fs::exists(out)) {
      search.too_early();
      continue;
    }
    try {  // rank 0 taken down at any moment leaves a readable file (host/committed_h5_file.hpp)
      partial = ResultsStore::open_read(out).rows();
    } catch (const std::exception& e) {
      FAIL() << "killed at " << wait_ms << " ms, the file does not open: " << e.what();
    }
    if (partial == designs) {  // finished before the kill (its ranks may be gone already)
      search.too_late();
      continue;
    }
    if (worker <= 0 || partial == 0) {
      search.too_early();
      continue;
    }
    EXPECT_NE(code, 0) << "mpirun reports the lost rank";
    killed = out;
    break;
  }
  ASSERT_FALSE(killed.empty()) << "could not kill a worker rank part-way";
  EXPECT_EQ(partial % batch, 0) << "rank 0 writes whole batches only";
  {
    const ResultsStore st = ResultsStore::open_read(killed);
    h5::Handle meta = h5::open_group(st.file(), "meta");
    EXPECT_EQ(h5::get_attr_string(meta.id(), "status"), "running");
    for (const auto& [path, bytes] : dataset_bytes(killed, "population", kNoSkip)) EXPECT_FALSE(path.empty());
  }
  // Resume on another rank count: the population of the uninterrupted run.
  const RunResult resumed = run_shell(strata_on(3) + " simulate " + sh_quote(scen.string()) +
                                          " --quiet --threads 1 --resume " + sh_quote(killed), tmp.path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const std::set<std::string> skip = {"population/batch"};  // batch numbers continue in the resumed file
  EXPECT_EQ(dataset_bytes(killed, "population", skip), dataset_bytes(full, "population", skip));
}

TEST(MpiRuns, KilledWorkerRankOfACampaignResumesOnAnotherRankCount) {
  REQUIRE_MPI();
  TempDir tmp;
  const int budget = 120;
  const fs::path scen = write_campaign(tmp.path(), budget);
  const std::string full = (tmp.path() / "full.h5").string();
  ASSERT_EQ(run_shell(strata_on(1) + " optimize " + sh_quote(scen.string()) + " --quiet --threads 1 --out " + sh_quote(full),
                      tmp.path()).exit_code, 0);
  std::string killed;
  // The campaign takes about a second, so a fixed delay misses it on an idle machine:
  // kill the worker as soon as the results file grows past its freshly created size
  // (rank 0 has flushed its first rows), a little later on each retry.
  for (int attempt = 0; attempt < 6 && killed.empty(); ++attempt) {
    const std::string out = (tmp.path() / ("killed_" + std::to_string(attempt) + ".h5")).string();
    const pid_t launcher = spawn({kMpirun, "--oversubscribe", "--bind-to", "none", "-n", "3", kBinary, "optimize",
                                  scen.string(), "--quiet", "--threads", "1", "--out", out});
    pid_t worker = -1, leader = -1;
    std::uintmax_t created_size = 0;
    int polls_since_created = 0;
    bool exited = false;
    for (int k = 0; k < 6000 && !exited; ++k) {  // at most about 30 s
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      int st = 0;
      exited = waitpid(launcher, &st, WNOHANG) == launcher;
      if (exited) break;
      if (worker <= 0) worker = rank_pid(launcher, 2);
      if (leader <= 0) leader = rank_pid(launcher, 0);
      std::error_code ec;
      const std::uintmax_t size = fs::file_size(out, ec);
      if (ec || size == 0) continue;
      // The size of the new file once its groups exist (20 polls after it appeared).
      if (++polls_since_created < 20) continue;
      if (created_size == 0) created_size = size;
      if (size > created_size && worker > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
        kill(worker, SIGKILL);
        break;
      }
    }
    if (!exited) wait_exit(launcher);
    wait_gone(leader);  // it may commit and holds the writer lock until it has exited
    if (worker <= 0 || !fs::exists(out)) continue;
    int64_t rows = 0;
    try {  // rank 0 taken down at any moment leaves a readable file (host/committed_h5_file.hpp)
      rows = ResultsStore::open_read(out).rows();
    } catch (const std::exception& e) {
      FAIL() << "killed in attempt " << attempt << ", the file does not open: " << e.what();
    }
    if (rows == 0 || rows >= budget) continue;
    killed = out;
  }
  ASSERT_FALSE(killed.empty()) << "could not kill a worker rank of the campaign part-way";
  // Resume on 2 ranks (the killed run had 3): the uninterrupted run's population and
  // optimiser trajectories.
  const RunResult resumed = run_shell(strata_on(2) + " optimize " + sh_quote(scen.string()) +
                                          " --quiet --threads 1 --resume " + sh_quote(killed), tmp.path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const std::set<std::string> skip = {"population/batch"};
  EXPECT_EQ(dataset_bytes(killed, "population", skip), dataset_bytes(full, "population", skip));
  EXPECT_EQ(dataset_bytes(killed, "optimizer", kNoSkip), dataset_bytes(full, "optimizer", kNoSkip));
}
