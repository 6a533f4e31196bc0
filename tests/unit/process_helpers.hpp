#pragma once
// Running the strata binary from tests: temp directories, shell quoting, captured
// output and exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace strata::test {

namespace fs = std::filesystem;

inline const std::string kBinary = STRATA_BINARY;

// When to stop a run part-way (some batches in its file, not all), for the kill
// tests. How long a run takes differs between machines by more than any fixed ladder
// of delays covers (a 120-evaluation campaign took 0.9 s on one machine and 0.6 s on
// another, where rows reach the file only every 0.5 s), so the delay is searched:
// doubled from first_ms while the run is caught too early, then bisected between the
// longest delay found too early and the shortest found too late. It gives up after
// `tries`, when the delay would pass max_ms (a run that never writes a row), or when
// the bracket has closed to a millisecond.
//   KillDelaySearch search;
//   for (int ms; search.next(ms);) { ...run, kill after ms...; then search.too_early(),
//                                    search.too_late(), or return }
class KillDelaySearch {
 public:
  explicit KillDelaySearch(int first_ms = 150, int tries = 14, int max_ms = 20000)
      : next_ms_(first_ms), tries_left_(tries), max_ms_(max_ms) {}
  // The next delay to try; false once the search is over.
  bool next(int& delay_ms) {
    if (tries_left_-- <= 0 || next_ms_ > max_ms_ || (late_ms_ >= 0 && late_ms_ - early_ms_ <= 1)) return false;
    delay_ms = next_ms_;
    return true;
  }
  void too_early() {
    early_ms_ = next_ms_;
    next_ms_ = late_ms_ >= 0 ? (early_ms_ + late_ms_) / 2 : 2 * early_ms_;
  }
  void too_late() {
    late_ms_ = next_ms_;
    next_ms_ = (early_ms_ + late_ms_) / 2;
  }

 private:
  int next_ms_, tries_left_, max_ms_;
  int early_ms_ = 0, late_ms_ = -1;  // -1: no delay found too late yet
};

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A word for /bin/sh: single-quoted.
inline std::string sh_quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "_" + info->name() : "cli";
    for (char& c : name)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    path_ = fs::temp_directory_path() /
            ("strata_cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + name);
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct RunResult {
  int exit_code = -1;  // -1: did not exit normally
  std::string out, err;
};

// Runs `strata <args>` (args already shell-quoted) with stdout and stderr captured to
// files in dir.
inline RunResult run_strata(const std::string& args, const fs::path& dir) {
  const fs::path out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string cmd = sh_quote(kBinary) + " " + args + " >" + sh_quote(out.string()) + " 2>" +
                          sh_quote(err.string()) + " </dev/null";
  const int st = std::system(cmd.c_str());
  RunResult r;
  if (st != -1 && WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

inline RunResult simulate(const std::string& scenario, const fs::path& out_dir, const fs::path& io_dir,
                   const std::string& extra = "") {
  return run_strata("simulate " + sh_quote(scenario) + " --csv --out " + sh_quote(out_dir.string()) +
                        (extra.empty() ? "" : " " + extra),
                    io_dir);
}

// Starts the program args[0] with stdout and stderr discarded.
inline pid_t spawn(const std::vector<std::string>& args, const std::string& stderr_path = "/dev/null") {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    freopen(stderr_path.c_str(), "w", stderr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Waits for pid; its exit code (-1 if killed), and the killing signal in signal_out.
inline int wait_exit(pid_t pid, int* signal_out = nullptr) {
  int st = 0;
  waitpid(pid, &st, 0);
  if (signal_out) *signal_out = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace strata::test
