// CommittedH5File: the file at the path holds exactly the committed edits, is never
// written between commits (nor is a copy a reader holds), a failed edit stops
// further commits, and one writer at a time. Kills at each
// stage of a commit are tested on the strata binary (test_run_safety.cpp).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "host/committed_h5_file.hpp"
#include "tests/unit/process_helpers.hpp"

using namespace strata;
using strata::test::TempDir;
using strata::test::slurp;

namespace {

namespace fs = std::filesystem;

h5::Handle v18() {
  h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_V18, H5F_LIBVER_V18);
  return fapl;
}

CommittedH5File::Edit add_group(const std::string& name) {
  return [name](hid_t f) { h5::create_group(f, name); };
}

// The groups at the root of the file at path, opened by a separate handle.
std::vector<std::string> groups_in(const std::string& path) {
  h5::Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  std::vector<std::string> out;
  if (!f.valid()) return {"<unreadable>"};
  for (const char* g : {"a", "b", "c"})
    if (h5::exists(f.id(), g)) out.push_back(g);
  return out;
}

// The writer does not hold the published file open: it opens as any file does.
std::vector<std::string> published_groups(const std::string& path) { return groups_in(path); }

// A new file at path with group "a" committed.
CommittedH5File with_a_committed(const std::string& path) {
  CommittedH5File f = CommittedH5File::create(path, v18().id());
  f.edit(add_group("a"));
  f.commit();
  return f;
}

}  // namespace

TEST(CommittedH5File, ThePathHoldsExactlyTheCommittedEdits) {
  TempDir tmp;
  const std::string path = (tmp.path() / "f.h5").string();
  {
    CommittedH5File f = CommittedH5File::create(path, v18().id());
    EXPECT_FALSE(fs::exists(path)) << "nothing is published before the first commit";
    f.edit(add_group("a"));
    f.commit();
    EXPECT_EQ(published_groups(path), std::vector<std::string>{"a"});
    f.edit(add_group("b"));
    EXPECT_TRUE(h5::exists(f.work(), "b")) << "edits are readable back at once";
    EXPECT_EQ(published_groups(path), std::vector<std::string>{"a"});
    f.commit();
    EXPECT_EQ(published_groups(path), (std::vector<std::string>{"a", "b"}));
    f.edit(add_group("c"));
    f.close();
  }
  EXPECT_EQ(groups_in(path), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(fs::exists(path + ".part"));
  EXPECT_FALSE(fs::exists(path + ".prev"));
  // Continued: both copies carry the old content and the new edits.
  {
    CommittedH5File f = CommittedH5File::open(path, v18().id());
    EXPECT_TRUE(h5::exists(f.work(), "c"));
    f.edit([](hid_t file) { h5::create_group(file, "d"); });
    f.commit();
    f.edit([](hid_t file) { h5::create_group(file, "e"); });
    f.commit();  // replays "e" on the copy that got "d" by replay
    EXPECT_TRUE(h5::exists(f.work(), "d"));
    EXPECT_TRUE(h5::exists(f.work(), "e"));
    f.close();
  }
  h5::Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  ASSERT_TRUE(f.valid());
  for (const char* g : {"a", "b", "c", "d", "e"}) EXPECT_TRUE(h5::exists(f.id(), g)) << g;
}

TEST(CommittedH5File, ThePublishedFileIsNotWrittenBetweenCommits) {
  TempDir tmp;
  const std::string path = (tmp.path() / "f.h5").string();
  CommittedH5File f = with_a_committed(path);
  f.edit(add_group("b"));
  f.commit();
  const std::string bytes = slurp(path);
  for (int k = 0; k < 50; ++k)
    f.edit([k](hid_t file) {
      h5::Handle g = h5::require_group(file, "c");
      h5::set_attr(g.id(), "k" + std::to_string(k), std::string(1000, 'x'));
    });
  EXPECT_EQ(slurp(path), bytes);
  f.commit();
  EXPECT_NE(slurp(path), bytes);
  f.close();
}

TEST(CommittedH5File, AFailedEditStopsCommitsAndKeepsTheLastCommit) {
  TempDir tmp;
  const std::string path = (tmp.path() / "f.h5").string();
  {
    CommittedH5File f = with_a_committed(path);
    f.edit(add_group("b"));
    EXPECT_THROW(f.edit([](hid_t file) { h5::open_group(file, "no/such/group"); }), h5::H5Error);
    EXPECT_THROW(f.commit(), h5::H5Error);
  }  // the destructor does not commit either
  EXPECT_EQ(groups_in(path), std::vector<std::string>{"a"});
  EXPECT_FALSE(fs::exists(path + ".part"));
}

TEST(CommittedH5File, ContinuingAFileThatIsNotHdf5Throws) {
  TempDir tmp;
  const std::string path = (tmp.path() / "f.h5").string();
  strata::test::spit(path, "not HDF5");
  EXPECT_THROW(CommittedH5File::open(path, v18().id()), h5::H5Error);
  EXPECT_EQ(slurp(path), "not HDF5");
}

// The other copy is brought up to date by the cheaper way: a small edit to a large
// file is replayed, an edit creating many objects in a small file is replaced by a
// copy of the file (the choice compares the edits' time with the file's size at the
// copy rate measured by the first commit's copy). Either way both copies end equal.
TEST(CommittedH5File, SmallEditsToALargeFileAreReplayedAndCostlyEditsToASmallOneCopied) {
  TempDir tmp;
  {
    const std::string path = (tmp.path() / "large.h5").string();
    CommittedH5File f = CommittedH5File::create(path, v18().id());
    const std::vector<double> big(8u << 20, 1.0);  // 64 MB
    f.edit([&big](hid_t file) { h5::write_array(file, "big", h5::Type::Float64, {big.size()}, big.data(), "", ""); });
    f.commit();
    EXPECT_EQ(f.last_update(), CommittedH5File::Update::Copy);  // the first commit always copies
    for (const char* g : {"a", "b"}) {
      f.edit(add_group(g));
      f.commit();
      EXPECT_EQ(f.last_update(), CommittedH5File::Update::Replay) << g;
    }
    EXPECT_TRUE(h5::exists(f.work(), "a"));
    f.close();
    EXPECT_EQ(groups_in(path), (std::vector<std::string>{"a", "b"}));
  }
  {
    const std::string path = (tmp.path() / "small.h5").string();
    CommittedH5File f = CommittedH5File::create(path, v18().id());
    f.edit(add_group("a"));
    f.commit();
    f.edit([](hid_t file) {
      for (int k = 0; k < 3000; ++k) h5::create_group(file, "many/" + std::to_string(k));
    });
    f.commit();
    EXPECT_EQ(f.last_update(), CommittedH5File::Update::Copy);
    EXPECT_TRUE(h5::exists(f.work(), "many/2999"));
    f.edit(add_group("b"));  // lands in the copy
    f.close();
    EXPECT_EQ(groups_in(path), (std::vector<std::string>{"a", "b"}));
    h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    EXPECT_TRUE(h5::exists(file.id(), "many/2999"));
  }
}

// A reader may hold the published file across commits (h5py, strata info): the old
// copy it holds is not replayed on (which would change it under the reader) but
// replaced by a copy of the new one, and the reader's view stays as it opened it.
TEST(CommittedH5File, AReaderHoldingThePublishedFileSeesItUnchanged) {
  TempDir tmp;
  const std::string path = (tmp.path() / "large.h5").string();
  CommittedH5File f = CommittedH5File::create(path, v18().id());
  const std::vector<double> big(8u << 20, 1.0);  // 64 MB: small edits are replayed
  f.edit([&big](hid_t file) { h5::write_array(file, "big", h5::Type::Float64, {big.size()}, big.data(), "", ""); });
  f.edit(add_group("a"));
  f.commit();
  f.edit(add_group("b"));
  f.commit();
  ASSERT_EQ(f.last_update(), CommittedH5File::Update::Replay);
  {
    h5::Handle reader(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    ASSERT_TRUE(reader.valid()) << "the published file opens while the writer goes on";
    f.edit(add_group("c"));
    f.commit();  // the old copy, held by the reader, becomes the working copy's place
    EXPECT_EQ(f.last_update(), CommittedH5File::Update::Copy);
    EXPECT_TRUE(h5::exists(f.work(), "c"));
    f.edit([](hid_t file) { h5::create_group(file, "d"); });
    f.commit();  // the copy the reader holds is no longer either copy: replayed again
    EXPECT_EQ(f.last_update(), CommittedH5File::Update::Replay);
    for (const char* g : {"a", "b"}) EXPECT_TRUE(h5::exists(reader.id(), g)) << g;
    for (const char* g : {"c", "d"}) EXPECT_FALSE(h5::exists(reader.id(), g)) << g;
  }
  f.close();
  EXPECT_EQ(groups_in(path), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(fs::exists(path + ".part"));
}

TEST(CommittedH5File, ASecondWriterIsRefusedWhileTheFirstWrites) {
  TempDir tmp;
  const std::string path = (tmp.path() / "f.h5").string();
  {
    CommittedH5File f = with_a_committed(path);
    for (int k = 0; k < 2; ++k) {
      try {
        if (k == 0)
          CommittedH5File::open(path, v18().id());
        else
          CommittedH5File::create(path, v18().id());
        ADD_FAILURE() << "a second writer was let in";
      } catch (const FileInUse& e) {
        EXPECT_NE(std::string(e.what()).find("pid " + std::to_string(getpid())), std::string::npos) << e.what();
      }
    }
    f.edit(add_group("b"));  // the refused writers left the first one's copies alone
    f.close();
  }
  EXPECT_EQ(groups_in(path), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(fs::exists(WriterLock::lock_path(path)));
  CommittedH5File again = CommittedH5File::open(path, v18().id());  // free once the first has closed
  again.close();
}

// Through a symbolic link the writer works at the link's target: the link stays a
// link to the committed file, and a second writer using the other spelling is refused.
TEST(CommittedH5File, ALinkedPathIsTheSameFileAndStaysALink) {
  TempDir tmp;
  const std::string real = (tmp.path() / "real.h5").string(), link = (tmp.path() / "latest.h5").string();
  with_a_committed(real).close();
  fs::create_symlink(real, link);
  {
    CommittedH5File f = CommittedH5File::open(link, v18().id());
    EXPECT_THROW(CommittedH5File::open(real, v18().id()), FileInUse);
    f.edit(add_group("b"));
    f.commit();
    EXPECT_TRUE(fs::is_symlink(link));
    EXPECT_EQ(groups_in(link), (std::vector<std::string>{"a", "b"}));
    f.close();
  }
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(groups_in(real), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(fs::exists(real + ".part"));
}

// Where the file system has no hard links a commit moves the published file aside
// before the rename: a kill there leaves the last commit at aside_path alone, which
// continuing the file takes back.
TEST(CommittedH5File, ALastCommitLeftAsideIsTakenBack) {
  TempDir tmp;
  const std::string path = (tmp.path() / "f.h5").string();
  with_a_committed(path).close();
  fs::rename(path, CommittedH5File::aside_path(path));
  CommittedH5File f = CommittedH5File::open(path, v18().id());
  EXPECT_TRUE(h5::exists(f.work(), "a"));
  f.close();
  EXPECT_EQ(groups_in(path), std::vector<std::string>{"a"});
  EXPECT_FALSE(fs::exists(CommittedH5File::aside_path(path)));
}
