#pragma once
// `strata merge OUT FILES...`: the results files of a sharded sweep (`strata simulate
// SCENARIO --shard i/N`, e.g. one per job-array task) combined into one ordinary
// results file: the population rows of every shard in design_id order, the
// trajectories of every shard, /meta of the first shard (status and command of the
// merge, the shard attributes replaced by merged_from).
#include <string>
#include <vector>

namespace strata {

struct MergeOptions {
  std::string out;                 // the merged file
  std::vector<std::string> files;  // shard files, any order
  bool allow_partial = false;      // merge an incomplete set (missing or unfinished shards)
  bool overwrite = false;          // replace an existing OUT
  bool quiet = false;
  std::string command;             // for /meta command
};

// Returns 0 when merged; 2 (with a message naming the file and the problem) when a
// file is unreadable or not a shard file, the files come from different scenarios or
// shard counts, shards overlap or repeat, or (without allow_partial) shards are
// missing or unfinished; 3 when OUT cannot be written.
int run_merge(const MergeOptions& opt);

}  // namespace strata
