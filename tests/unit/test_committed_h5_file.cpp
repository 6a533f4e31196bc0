// CommittedH5File: the file at the path holds exactly the committed edits, is never
// written between commits, and a failed edit stops further commits. Kills at each
// stage of a commit are tested on the strata binary (test_run_safety.cpp).
#include <gtest/gtest.h>

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

// HDF5 1.10 refuses to open a file twice in one process with different intent, so
// the published file is inspected through a copy.
std::vector<std::string> published_groups(const std::string& path) {
  const std::string copy = path + ".inspect";
  fs::copy_file(path, copy, fs::copy_options::overwrite_existing);
  auto out = groups_in(copy);
  fs::remove(copy);
  return out;
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
  CommittedH5File f = CommittedH5File::create(path, v18().id());
  f.edit(add_group("a"));
  f.commit();
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
    CommittedH5File f = CommittedH5File::create(path, v18().id());
    f.edit(add_group("a"));
    f.commit();
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
