#pragma once
// Whole results files compared bit for bit: every /population dataset (and every
// trajectory's time series) read into bytes keyed by its path, so two runs that must
// give the same population can be compared with one EXPECT_EQ.
#include <hdf5.h>

#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "host/results_store.hpp"

namespace strata::test {

// Dataset path (under group, e.g. "population") -> its contents as bytes (strings
// joined with NUL), for every dataset but those in skip.
inline std::map<std::string, std::string> dataset_bytes(const std::string& file, const std::string& group,
                                                        const std::set<std::string>& skip = {}) {
  const ResultsStore st = ResultsStore::open_read(file);
  std::map<std::string, std::string> out;
  if (!h5::exists(st.file(), group)) return out;
  std::vector<std::string> paths;
  {
    h5::Handle g = h5::open_group(st.file(), group);
    h5::list_datasets(g.id(), group, paths);
  }
  for (const std::string& p : paths) {
    if (skip.count(p)) continue;
    h5::Handle d(H5Dopen2(st.file(), p.c_str(), H5P_DEFAULT));
    h5::Handle t(H5Dget_type(d.id()));
    const H5T_class_t cls = H5Tget_class(t.id());
    std::string bytes;
    auto raw = [&](const auto& v) {
      bytes.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(v[0]));
    };
    if (cls == H5T_STRING) {
      for (const std::string& s : h5::read_strings(st.file(), p)) bytes += s + '\0';
    } else if (cls == H5T_FLOAT) {
      raw(h5::read_float64(st.file(), p));
    } else if (H5Tget_size(t.id()) == 8) {
      raw(h5::read_int64(st.file(), p));
    } else {
      raw(h5::read_int32(st.file(), p));
    }
    out[p] = bytes;
  }
  return out;
}

}  // namespace strata::test
