// Job-array sharding: `simulate --shard i/N` runs disjoint parts of a sweep, and
// `strata merge` combines them into the file an unsharded run writes (population rows
// in global order, trajectories of every shard), refusing files of another scenario,
// repeated shards and incomplete sets unless --allow-partial.
#include <gtest/gtest.h>

#include <cmath>

#include "host/results_store.hpp"
#include "tests/unit/population_compare.hpp"
#include "tests/unit/process_helpers.hpp"

using namespace strata;
using namespace strata::test;

namespace {

// A coarse single-layer sweep of 10 designs in batches of 3, every trajectory kept;
// its material library is the source tree's unless `library` names another.
fs::path write_sweep(const fs::path& dir, const std::string& extra = "",
                     const fs::path& library = fs::path(STRATA_SOURCE_DIR) / "materials") {
  std::string text = slurp(std::string(STRATA_TEST_DATA_DIR) + "/cli_good.toml");
  text.replace(text.find("path = \"../../materials\""), 24, "path = \"" + library.string() + "\"");
  text.erase(text.find("[[batch.variants]]"));
  text += "[batch.sweep]\n\"layers[0].porosity\" = { from = 0.30, to = 0.45, count = 10 }\n"
          "[output]\nbatch_size = 3\ntrajectories = \"all\"\n" + extra;
  const fs::path p = dir / "sweep.toml";
  spit(p, text);
  return p;
}

int run(const std::string& args, const fs::path& dir, RunResult* out = nullptr) {
  RunResult r = run_strata(args, dir);
  if (out) *out = r;
  return r.exit_code;
}

std::string meta_attr(const std::string& file, const std::string& name) {
  const ResultsStore st = ResultsStore::open_read(file);
  h5::Handle meta = h5::open_group(st.file(), "meta");
  return h5::get_attr_string(meta.id(), name);
}

}  // namespace

TEST(ShardMerge, MergedShardsEqualTheUnshardedRun) {
  TempDir tmp;
  const std::string scen = sh_quote(write_sweep(tmp.path()).string());
  const fs::path d = tmp.path();
  ASSERT_EQ(run("simulate " + scen + " --quiet --threads 1 --out " + sh_quote((d / "full.h5").string()), d), 0);
  std::string shards;
  for (int i = 2; i >= 0; --i) {  // any order
    const std::string f = (d / ("s" + std::to_string(i) + ".h5")).string();
    ASSERT_EQ(run("simulate " + scen + " --quiet --threads 1 --shard " + std::to_string(i) + "/3 --out " + sh_quote(f), d), 0);
    EXPECT_EQ(ResultsStore::open_read(f).rows(), i == 2 ? 4 : 3) << "shard " << i << " holds its part only";
    shards += " " + sh_quote(f);
  }
  const std::string merged = (d / "merged.h5").string();
  RunResult r;
  ASSERT_EQ(run("merge " + sh_quote(merged) + shards, d, &r), 0) << r.err;
  // Bit for bit: the population (batch numbers are per shard) and every trajectory.
  const std::set<std::string> skip = {"population/batch"};
  EXPECT_EQ(dataset_bytes(merged, "population", skip), dataset_bytes((d / "full.h5").string(), "population", skip));
  const auto traj = dataset_bytes(merged, "trajectories");
  EXPECT_EQ(traj, dataset_bytes((d / "full.h5").string(), "trajectories"));
  EXPECT_GE(traj.size(), 10u * 6u) << "the trajectories of all 10 designs";
  EXPECT_EQ(meta_attr(merged, "status"), "complete");
  EXPECT_EQ(meta_attr(merged, "scenario_text"), meta_attr((d / "full.h5").string(), "scenario_text"));
  // A merged file is an ordinary results file: strata info reads it.
  EXPECT_EQ(run("info " + sh_quote(merged), d, &r), 0);
  EXPECT_NE(r.out.find("10 of 10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("merged:    from 3 shard file(s)"), std::string::npos) << r.out;
  EXPECT_EQ(run("info " + sh_quote((d / "s1.h5").string()), d, &r), 0);
  EXPECT_NE(r.out.find("shard:     1/3"), std::string::npos) << r.out;
}

TEST(ShardMerge, RefusesMixedRepeatedOrIncompleteShards) {
  TempDir tmp;
  const fs::path d = tmp.path();
  const std::string scen = sh_quote(write_sweep(d).string());
  auto shard = [&](int i, const std::string& scenario, const std::string& name) {
    const std::string f = (d / name).string();
    EXPECT_EQ(run("simulate " + scenario + " --quiet --threads 1 --shard " + std::to_string(i) + "/3 --out " + sh_quote(f), d), 0);
    return sh_quote(f);
  };
  const std::string s0 = shard(0, scen, "s0.h5"), s2 = shard(2, scen, "s2.h5");
  RunResult r;
  // Missing shard 1/3: named, exit 2, nothing written.
  EXPECT_EQ(run("merge " + sh_quote((d / "m.h5").string()) + " " + s0 + " " + s2, d, &r), 2);
  EXPECT_NE(r.err.find("missing shard(s) 1/3"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d / "m.h5"));
  // The same shard twice.
  EXPECT_EQ(run("merge " + sh_quote((d / "m.h5").string()) + " " + s0 + " " + s0 + " " + s2, d, &r), 2);
  EXPECT_NE(r.err.find("given twice"), std::string::npos) << r.err;
  // A shard of another scenario (its text differs by one comment).
  fs::create_directories(d / "other");
  const fs::path other = write_sweep(d / "other", "# another sweep\n");
  const std::string s1_other = shard(1, sh_quote(other.string()), "s1_other.h5");
  EXPECT_EQ(run("merge " + sh_quote((d / "m.h5").string()) + " " + s0 + " " + s1_other + " " + s2, d, &r), 2);
  EXPECT_NE(r.err.find("s1_other.h5"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("differs"), std::string::npos) << r.err;
  // An unsharded file is not a shard.
  const std::string full = sh_quote((d / "full.h5").string());
  ASSERT_EQ(run("simulate " + scen + " --quiet --threads 1 --out " + full, d), 0);
  EXPECT_EQ(run("merge " + sh_quote((d / "m.h5").string()) + " " + s0 + " " + full, d, &r), 2);
  EXPECT_NE(r.err.find("not a shard file"), std::string::npos) << r.err;
  // --allow-partial merges what is there and says so in /meta status.
  ASSERT_EQ(run("merge --allow-partial " + sh_quote((d / "m.h5").string()) + " " + s0 + " " + s2, d, &r), 0) << r.err;
  EXPECT_EQ(ResultsStore::open_read((d / "m.h5").string()).rows(), 3 + 4);
  EXPECT_EQ(meta_attr((d / "m.h5").string(), "status"), "partial");
  // Resuming a shard file as another shard is refused.
  EXPECT_EQ(run("simulate " + scen + " --quiet --shard 1/3 --resume " + s0, d, &r), 2);
  EXPECT_NE(r.err.find("shard 0/3"), std::string::npos) << r.err;
}

// Shards written by different strata versions (one without the c_e range datasets)
// are refused with what to do, not merged into a file that silently lacks a dataset
// or failed on a bare HDF5 error; resuming the older shard brings it up to date (its
// earlier rows NaN in the new datasets), and the merge then goes through.
TEST(ShardMerge, ShardsOfDifferentVersionsAreRefusedUntilResumed) {
  TempDir tmp;
  const std::string scen = sh_quote(write_sweep(tmp.path()).string());
  const fs::path d = tmp.path();
  std::string files;
  for (int i = 0; i < 2; ++i) {
    const std::string f = (d / ("s" + std::to_string(i) + ".h5")).string();
    ASSERT_EQ(run("simulate " + scen + " --quiet --threads 1 --shard " + std::to_string(i) + "/2 --out " + sh_quote(f), d), 0);
    files += " " + sh_quote(f);
  }
  const std::string old = (d / "s1.h5").string();
  {
    const hid_t f = H5Fopen(old.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    ASSERT_GE(H5Ldelete(f, "population/step/max_ce_mol_m3", H5P_DEFAULT), 0);
    H5Fclose(f);
  }
  RunResult r;
  EXPECT_EQ(run("merge " + sh_quote((d / "m.h5").string()) + files, d, &r), 2);
  EXPECT_NE(r.err.find("population/step/max_ce_mol_m3 only in"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d / "m.h5"));
  ASSERT_EQ(run("simulate " + scen + " --quiet --threads 1 --shard 1/2 --resume " + sh_quote(old), d, &r), 0) << r.err;
  ASSERT_EQ(run("merge " + sh_quote((d / "m.h5").string()) + files, d, &r), 0) << r.err;
  const ResultsStore m = ResultsStore::open_read((d / "m.h5").string());
  const std::vector<double> ce = h5::read_float64(m.file(), "population/step/max_ce_mol_m3");
  ASSERT_EQ(ce.size(), 10u * 2u);
  EXPECT_GT(ce.front(), 1000.0);        // shard 0's first design, written with the dataset
  EXPECT_TRUE(std::isnan(ce.back()));   // shard 1's last design, written before it
}

// A material file edited between the shards of a sweep, or between a run and its
// resume, would leave one results file with two sets of physics: merge and --resume
// refuse, naming the file; with the text restored the resume goes through.
TEST(ShardMerge, ShardsOrAResumeWithEditedMaterialDataAreRefused) {
  TempDir tmp;
  const fs::path d = tmp.path();
  fs::copy(fs::path(STRATA_SOURCE_DIR) / "materials", d / "mat");
  const std::string scen = sh_quote(write_sweep(d, "", d / "mat").string());
  const std::string s0 = sh_quote((d / "s0.h5").string()), s1 = sh_quote((d / "s1.h5").string());
  ASSERT_EQ(run("simulate " + scen + " --quiet --threads 1 --shard 0/2 --out " + s0, d), 0);
  const fs::path edited = d / "mat" / "test_sloping.toml";
  const std::string original = slurp(edited);
  std::string changed = original;  // the solid diffusivity ten times higher
  const size_t at = changed.find("diffusivity_m2_s = 1.0e-14");
  ASSERT_NE(at, std::string::npos);
  changed.replace(at, 26, "diffusivity_m2_s = 1.0e-13");
  spit(edited, changed);
  ASSERT_EQ(run("simulate " + scen + " --quiet --threads 1 --shard 1/2 --out " + s1, d), 0);
  RunResult r;
  EXPECT_EQ(run("merge " + sh_quote((d / "m.h5").string()) + " " + s0 + " " + s1, d, &r), 2);
  EXPECT_NE(r.err.find("different material data"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("test_sloping.toml"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d / "m.h5"));
  // Shard 0 resumed with the edited file: refused, naming it.
  EXPECT_EQ(run("simulate " + scen + " --quiet --threads 1 --shard 0/2 --resume " + s0, d, &r), 2);
  EXPECT_NE(r.err.find("test_sloping.toml"), std::string::npos) << r.err;
  // Restored: the resume is accepted (nothing left to run), the merge still refused.
  spit(edited, original);
  EXPECT_EQ(run("simulate " + scen + " --quiet --threads 1 --shard 0/2 --resume " + s0, d, &r), 0) << r.err;
}
