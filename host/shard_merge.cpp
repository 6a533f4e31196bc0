#include "host/shard_merge.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <numeric>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "host/results_store.hpp"
#include "host/writer_lock.hpp"

namespace strata {

namespace {

struct ShardFile {
  std::string path;
  ResultsStore store;
  std::string scenario_text, scenario_name, status;
  std::vector<std::string> material_files, material_texts;  // empty: written before they were recorded
  int64_t index = 0, count = 0;
  std::vector<int64_t> design_ids;
};

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::vector<std::string> child_names(hid_t loc) {
  H5G_info_t gi;
  H5Gget_info(loc, &gi);
  std::vector<std::string> out;
  for (hsize_t k = 0; k < gi.nlinks; ++k) {
    char name[1024];
    H5Lget_name_by_idx(loc, ".", H5_INDEX_NAME, H5_ITER_INC, k, name, sizeof name, H5P_DEFAULT);
    out.push_back(name);
  }
  return out;
}

// Concatenates one population dataset over the shards, reorders its rows by perm
// (perm[k] = the source row of output row k) and writes it over out's copy.
template <class T>
void merge_rows(hid_t out_file, const std::string& path, const std::vector<ShardFile>& shards,
                const std::vector<size_t>& perm, h5::Type type, std::vector<T> (*read)(hid_t, const std::string&)) {
  std::vector<T> all;
  for (const ShardFile& s : shards) {
    std::vector<T> part = read(s.store.file(), path);
    all.insert(all.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  const size_t rows = perm.size(), width = rows ? all.size() / rows : 0;
  if (rows && all.size() != rows * width)
    throw h5::H5Error(path + ": rows differ between datasets of the population (a damaged shard file)");
  std::vector<T> sorted;
  sorted.reserve(all.size());
  for (size_t k = 0; k < rows; ++k)
    for (size_t j = 0; j < width; ++j) sorted.push_back(all[perm[k] * width + j]);
  h5::Handle d(h5::check(H5Dopen2(out_file, path.c_str(), H5P_DEFAULT), "opening " + path));
  h5::Handle space(H5Dget_space(d.id()));
  std::vector<hsize_t> dims(H5Sget_simple_extent_ndims(space.id()));
  H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr);
  dims[0] = 0;
  h5::check_status(H5Dset_extent(d.id(), dims.data()), "emptying " + path);
  if constexpr (std::is_same_v<T, std::string>) {
    h5::append_strings(d.id(), sorted);
  } else {
    h5::append_rows(d.id(), type, rows, sorted.data());
  }
}

// The first population dataset one shard has and the other has not ("" when both
// hold the same ones).
std::string population_difference(const ShardFile& a, const ShardFile& b) {
  std::vector<std::string> da, db;
  h5::Handle pa = h5::open_group(a.store.file(), "population"), pb = h5::open_group(b.store.file(), "population");
  h5::list_datasets(pa.id(), "population", da);
  h5::list_datasets(pb.id(), "population", db);
  std::sort(da.begin(), da.end());
  std::sort(db.begin(), db.end());
  for (const std::string& d : da)
    if (!std::binary_search(db.begin(), db.end(), d)) return d + " only in " + a.path;
  for (const std::string& d : db)
    if (!std::binary_search(da.begin(), da.end(), d)) return d + " only in " + b.path;
  return "";
}

std::vector<std::string> strings_reader(hid_t loc, const std::string& path) { return h5::read_strings(loc, path); }

void merge_dataset(hid_t out_file, const std::string& path, const std::vector<ShardFile>& shards,
                   const std::vector<size_t>& perm) {
  h5::Handle d(h5::check(H5Dopen2(out_file, path.c_str(), H5P_DEFAULT), "opening " + path));
  h5::Handle t(H5Dget_type(d.id()));
  const H5T_class_t cls = H5Tget_class(t.id());
  const size_t size = H5Tget_size(t.id());
  d = h5::Handle();
  if (cls == H5T_STRING) return merge_rows<std::string>(out_file, path, shards, perm, h5::Type::String, strings_reader);
  if (cls == H5T_FLOAT) return merge_rows<double>(out_file, path, shards, perm, h5::Type::Float64, h5::read_float64);
  if (cls == H5T_INTEGER && size == 8)
    return merge_rows<int64_t>(out_file, path, shards, perm, h5::Type::Int64, h5::read_int64);
  if (cls == H5T_INTEGER && size == 4)
    return merge_rows<int32_t>(out_file, path, shards, perm, h5::Type::Int32, h5::read_int32);
  throw h5::H5Error(path + ": a dataset type merge does not know");
}

void copy_object(hid_t from, const std::string& src, hid_t to, const std::string& dst) {
  h5::check_status(H5Ocopy(from, src.c_str(), to, dst.c_str(), H5P_DEFAULT, H5P_DEFAULT), "copying " + src);
}

// /meta attribute by attribute (H5Ocopy of a group whose many variable-length string
// attributes sit in dense storage crashes HDF5 1.10).
void copy_meta(hid_t from, hid_t to) {
  h5::Handle src = h5::open_group(from, "meta");
  h5::Handle dst = h5::create_group(to, "meta");
  H5O_info_t oi;
  h5::check_status(H5Oget_info(src.id(), &oi), "reading /meta");
  for (hsize_t k = 0; k < oi.num_attrs; ++k) {
    h5::Handle a(h5::check(H5Aopen_by_idx(src.id(), ".", H5_INDEX_NAME, H5_ITER_INC, k, H5P_DEFAULT, H5P_DEFAULT),
                           "opening a /meta attribute"));
    char name[512];
    H5Aget_name(a.id(), sizeof name, name);
    h5::Handle t(H5Aget_type(a.id())), space(H5Aget_space(a.id()));
    const bool scalar = H5Sget_simple_extent_type(space.id()) == H5S_SCALAR;
    const hssize_t n = H5Sget_simple_extent_npoints(space.id());
    a = h5::Handle();
    switch (H5Tget_class(t.id())) {
      case H5T_STRING:
        if (scalar) h5::set_attr(dst.id(), name, h5::get_attr_string(src.id(), name));
        else h5::set_attr(dst.id(), name, h5::get_attr_strings(src.id(), name));
        break;
      case H5T_INTEGER:
        h5::set_attr(dst.id(), name, h5::get_attr_int(src.id(), name));
        break;
      case H5T_FLOAT: {
        std::vector<double> v(static_cast<size_t>(std::max<hssize_t>(n, 1)));
        h5::Handle ar(H5Aopen(src.id(), name, H5P_DEFAULT));
        h5::check_status(H5Aread(ar.id(), H5T_NATIVE_DOUBLE, v.data()), std::string("reading /meta ") + name);
        if (scalar) h5::set_attr(dst.id(), name, v[0]);
        else h5::set_attr(dst.id(), name, v);
        break;
      }
      default:
        throw h5::H5Error(std::string("/meta attribute ") + name + " has a type merge does not copy");
    }
  }
}

std::string shard_name(int64_t i, int64_t n) { return fmt::format("{}/{}", i, n); }

}  // namespace

int run_merge(const MergeOptions& opt) {
  // 1. Read and check every shard file.
  std::vector<ShardFile> shards;
  for (const std::string& path : opt.files) {
    try {
      ShardFile s{path, ResultsStore::open_read(path), "", "", "", {}, {}, 0, 0, {}};
      h5::Handle meta = h5::open_group(s.store.file(), "meta");
      if (!has_attr(meta.id(), "shard_count")) {
        std::cerr << "error: " << path << " is not a shard file (no /meta shard_count: it was not written by "
                  << "strata simulate --shard i/N)\n";
        return 2;
      }
      s.scenario_text = h5::get_attr_string(meta.id(), "scenario_text");
      s.scenario_name = h5::get_attr_string(meta.id(), "scenario_name");
      s.status = h5::get_attr_string(meta.id(), "status");
      if (has_attr(meta.id(), "material_files") && has_attr(meta.id(), "material_texts")) {
        s.material_files = h5::get_attr_strings(meta.id(), "material_files");
        s.material_texts = h5::get_attr_strings(meta.id(), "material_texts");
      }
      s.index = h5::get_attr_int(meta.id(), "shard_index");
      s.count = h5::get_attr_int(meta.id(), "shard_count");
      s.design_ids = h5::read_int64(s.store.file(), "population/design_id");
      shards.push_back(std::move(s));
    } catch (const std::exception& e) {
      std::cerr << "error: cannot merge " << path << ": " << e.what() << "\n";
      return 2;
    }
  }
  if (shards.empty()) {
    std::cerr << "error: strata merge needs at least one shard file\n";
    return 2;
  }
  const ShardFile& first = shards[0];
  std::map<int64_t, const ShardFile*> by_index;
  std::map<int64_t, const ShardFile*> owner;  // design id -> file
  for (const ShardFile& s : shards) {
    if (s.scenario_text != first.scenario_text) {
      std::cerr << "error: " << s.path << " was written for scenario '" << s.scenario_name
                << "' whose text differs from that of " << first.path << " ('" << first.scenario_name
                << "'); merge only the shards of one sweep\n";
      return 2;
    }
    if (!first.material_files.empty()) {
      h5::Handle meta = h5::open_group(s.store.file(), "meta");
      if (const std::string d =
              material_data_difference(meta.id(), first.material_files, first.material_texts, first.path, s.path);
          !d.empty()) {
        std::cerr << "error: " << s.path << " and " << first.path << " were run with different material data: " << d
                  << "; merge only shards run with the same data files\n";
        return 2;
      }
    }
    if (s.count != first.count) {
      std::cerr << "error: " << s.path << " is shard " << shard_name(s.index, s.count) << " but " << first.path
                << " is shard " << shard_name(first.index, first.count) << ": the shard counts differ\n";
      return 2;
    }
    if (const std::string odd = population_difference(s, first); !odd.empty()) {
      std::cerr << "error: " << s.path << " and " << first.path << " hold different population datasets (" << odd
                << "): they were written by different strata versions. Bring the older one up to date with "
                   "strata simulate SCENARIO --shard i/N --resume FILE (it adds the missing datasets), then merge\n";
      return 2;
    }
    const auto [it, fresh] = by_index.insert({s.index, &s});
    if (!fresh) {
      std::cerr << "error: shard " << shard_name(s.index, s.count) << " is given twice: " << it->second->path
                << " and " << s.path << "\n";
      return 2;
    }
    for (int64_t id : s.design_ids) {
      const auto [o, new_id] = owner.insert({id, &s});
      if (!new_id) {
        std::cerr << "error: design " << id << " is in both " << o->second->path << " and " << s.path
                  << ": the shards overlap\n";
        return 2;
      }
    }
  }
  std::vector<std::string> missing, unfinished;
  for (int64_t i = 0; i < first.count; ++i)
    if (!by_index.count(i)) missing.push_back(shard_name(i, first.count));
  for (const ShardFile& s : shards) {
    if (s.status == "complete") continue;
    const std::optional<std::string> writer = WriterLock::holder(s.path);  // still running: not to be resumed
    unfinished.push_back(writer ? fmt::format("{} ({}, being written now by {})", shard_name(s.index, s.count), s.path,
                                              *writer)
                                : fmt::format("{} ({}, status '{}')", shard_name(s.index, s.count), s.path, s.status));
  }
  if ((!missing.empty() || !unfinished.empty()) && !opt.allow_partial) {
    if (!missing.empty())
      std::cerr << fmt::format("error: missing shard(s) {} of the {} shards of scenario '{}'\n",
                               fmt::join(missing, ", "), first.count, first.scenario_name);
    if (!unfinished.empty())
      std::cerr << fmt::format("error: unfinished shard(s): {} (wait for those being written; continue the others "
                               "with strata simulate SCENARIO --shard i/N --resume FILE)\n",
                               fmt::join(unfinished, ", "));
    std::cerr << "(--allow-partial merges what is there)\n";
    return 2;
  }
  if (std::filesystem::exists(opt.out) && !opt.overwrite) {
    std::cerr << "error: " << opt.out << " exists; pass --overwrite to replace it\n";
    return 2;
  }
  for (const ShardFile& s : shards)
    if (std::filesystem::exists(opt.out) && std::filesystem::equivalent(opt.out, s.path)) {
      std::cerr << "error: the merged file " << opt.out << " is one of the shard files\n";
      return 2;
    }

  // 2. Write: /meta, /optimizer and the population's structure from the first shard,
  // every population dataset refilled in design_id order, every shard's trajectories.
  std::vector<size_t> perm;
  std::vector<int64_t> ids;
  for (const ShardFile& s : shards) ids.insert(ids.end(), s.design_ids.begin(), s.design_ids.end());
  perm.resize(ids.size());
  std::iota(perm.begin(), perm.end(), size_t{0});
  std::stable_sort(perm.begin(), perm.end(), [&](size_t a, size_t b) { return ids[a] < ids[b]; });
  try {
    const auto parent = std::filesystem::path(opt.out).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_V18, H5F_LIBVER_V18);
    const std::string tmp = opt.out + ".merging";
    {
      h5::Handle out(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()));
      if (!out.valid()) throw h5::H5Error("cannot create " + tmp);
      const hid_t src = first.store.file();
      copy_meta(src, out.id());
      for (const char* g : {"population", "optimizer"}) copy_object(src, g, out.id(), g);
      std::vector<std::string> datasets;
      {
        h5::Handle pop = h5::open_group(out.id(), "population");
        h5::list_datasets(pop.id(), "population", datasets);
      }
      for (const std::string& d : datasets) merge_dataset(out.id(), d, shards, perm);
      h5::Handle traj = h5::create_group(out.id(), "trajectories");
      h5::set_attr(traj.id(), "description", std::string("one subgroup per selected design, named by design_id"));
      for (const ShardFile& s : shards) {
        h5::Handle st = h5::open_group(s.store.file(), "trajectories");
        for (const std::string& name : child_names(st.id()))
          if (!h5::exists(traj.id(), name)) copy_object(st.id(), name, traj.id(), name);
      }
      h5::Handle meta = h5::open_group(out.id(), "meta");
      H5Adelete(meta.id(), "shard_index");
      H5Adelete(meta.id(), "shard_count");
      std::vector<std::string> from;
      for (const auto& [i, s] : by_index) from.push_back(fmt::format("{} {}", shard_name(i, s->count), s->path));
      h5::set_attr(meta.id(), "merged_from", from);
      h5::set_attr(meta.id(), "command", opt.command);
      h5::set_attr(meta.id(), "status", std::string(missing.empty() && unfinished.empty() ? "complete" : "partial"));
      h5::set_attr(meta.id(), "end_time", iso_time_now());
      h5::check_status(H5Fflush(out.id(), H5F_SCOPE_GLOBAL), "flushing " + tmp);
    }
    std::filesystem::rename(tmp, opt.out);
  } catch (const std::exception& e) {
    std::cerr << "error: writing " << opt.out << ": " << e.what() << "\n";
    return 3;
  }
  if (!opt.quiet) {
    fmt::print("merged {} shard(s) of {} of scenario '{}': {} designs -> {}\n", shards.size(), first.count,
               first.scenario_name, ids.size(), opt.out);
    if (!missing.empty()) fmt::print("missing shard(s): {}\n", fmt::join(missing, ", "));
    if (!unfinished.empty()) fmt::print("unfinished shard(s): {}\n", fmt::join(unfinished, ", "));
  }
  return 0;
}

}  // namespace strata
