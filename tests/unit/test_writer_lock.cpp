// WriterLock: one writer per results file, named to whoever asks; a lock left by a
// process that is gone does not stand in the way.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "host/writer_lock.hpp"
#include "tests/unit/process_helpers.hpp"

using namespace strata;
using strata::test::TempDir;

namespace fs = std::filesystem;

TEST(WriterLock, NamesItsHolderRefusesASecondAndGoesWithTheFile) {
  TempDir tmp;
  const std::string path = (tmp.path() / "r.h5").string();
  EXPECT_FALSE(WriterLock::holder(path));
  {
    WriterLock lock = WriterLock::acquire(path);
    const auto who = WriterLock::holder(path);
    ASSERT_TRUE(who);
    EXPECT_EQ(who->rfind("pid " + std::to_string(getpid()) + " on ", 0), 0u) << *who;
    EXPECT_THROW(WriterLock::acquire(path), FileInUse);
    EXPECT_TRUE(WriterLock::holder(path)) << "a refused writer does not take the lock away";
  }
  EXPECT_FALSE(fs::exists(WriterLock::lock_path(path)));
  EXPECT_FALSE(WriterLock::holder(path));
}

// A killed writer leaves its lock file, but not its lock.
TEST(WriterLock, ALockFileLeftByAKilledWriterIsTakenOver) {
  TempDir tmp;
  const std::string path = (tmp.path() / "r.h5").string();
  const pid_t child = fork();
  if (child == 0) {
    WriterLock lock = WriterLock::acquire(path);
    _exit(0);  // no destructor: the file stays, as after SIGKILL
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(fs::exists(WriterLock::lock_path(path)));
  EXPECT_FALSE(WriterLock::holder(path));
  WriterLock lock = WriterLock::acquire(path);
  EXPECT_TRUE(WriterLock::holder(path));
}
