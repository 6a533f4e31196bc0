// `--device auto|cpu|cuda` on the command line, on a machine with or without a CUDA
// device: cpu always runs on the CPU; cuda is refused (exit 2, saying why) when no
// device is visible or the backend is not built; auto falls back to the CPU and says so.
#include <gtest/gtest.h>

#include "host/cuda/cuda_api.hpp"
#include "process_helpers.hpp"

namespace strata {
namespace {

using test::RunResult;
using test::TempDir;
namespace fs = std::filesystem;

const std::string kGood = std::string(STRATA_TEST_DATA_DIR) + "/cli_good.toml";

bool device_visible() { return cuda_backend_built() && cuda_device_info().count > 0; }

TEST(CliDevice, CpuRunsOnTheCpuAndSaysSo) {
  TempDir tmp;
  const RunResult r = test::simulate(kGood, tmp.path() / "out", tmp.path(), "--device cpu");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("device: CPU (--device cpu)"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(tmp.path() / "out" / "cli_good.csv"));
}

TEST(CliDevice, CudaWithoutADeviceIsRefusedWithExit2) {
  if (device_visible()) GTEST_SKIP() << "a CUDA device is visible here: the refusal cannot happen";
  TempDir tmp;
  const RunResult r = test::simulate(kGood, tmp.path() / "out", tmp.path(), "--device cuda");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error: --device cuda: "), std::string::npos) << r.err;
  EXPECT_TRUE(r.err.find("no CUDA device is visible") != std::string::npos ||
              r.err.find("built without the CUDA backend") != std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "out"));
  // The same refusal for optimize and fit (before the scenario is even run).
  for (const char* cmd : {"optimize", "fit"}) {
    const RunResult o = test::run_strata(std::string(cmd) + " " + test::sh_quote(kGood) + " --device cuda --out " +
                                             test::sh_quote((tmp.path() / "o").string()),
                                         tmp.path());
    EXPECT_EQ(o.exit_code, 2) << cmd;
    EXPECT_NE(o.err.find("--device cuda"), std::string::npos) << cmd << ": " << o.err;
  }
}

TEST(CliDevice, AutoFallsBackToTheCpuAndSaysSo) {
  if (device_visible()) GTEST_SKIP() << "a CUDA device is visible here: auto picks it";
  TempDir tmp;
  const RunResult r = test::simulate(kGood, tmp.path() / "out", tmp.path(), "--device auto");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("device: CPU (--device auto: "), std::string::npos) << r.out;
  // The default is auto.
  const RunResult d = test::simulate(kGood, tmp.path() / "out2", tmp.path());
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_NE(d.out.find("device: CPU (--device auto: "), std::string::npos) << d.out;
}

// STRATA_CUDA_* settings concern CUDA runs: a bad one (a shared module file's) stops a
// run that would use CUDA, not one that falls back to the CPU.
TEST(CliDevice, CudaSettingsDoNotStopACpuRun) {
  if (device_visible()) GTEST_SKIP() << "a CUDA device is visible here: auto would use it and refuse the setting";
  TempDir tmp;
  setenv("STRATA_CUDA_BLOCK_SIZE", "100", 1);  // not a multiple of 32: refused by a CUDA run
  const RunResult r =
      test::run_strata("simulate " + test::sh_quote(kGood) + " --out " + test::sh_quote((tmp.path() / "out").string()),
                       tmp.path());
  unsetenv("STRATA_CUDA_BLOCK_SIZE");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("device: CPU (--device auto: "), std::string::npos) << r.out;
}

TEST(CliDevice, UnknownDeviceIsAUsageError) {
  TempDir tmp;
  const RunResult r = test::simulate(kGood, tmp.path() / "out", tmp.path(), "--device gpu");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("gpu"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strata
