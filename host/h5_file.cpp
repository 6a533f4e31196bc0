#include "host/h5_file.hpp"

#include <algorithm>
#include <numeric>

namespace strata::h5 {

namespace {

hid_t file_type(Type t) {
  switch (t) {
    case Type::Float64: return H5T_IEEE_F64LE;
    case Type::Int64: return H5T_STD_I64LE;
    case Type::Int32: return H5T_STD_I32LE;
    default: return -1;
  }
}
hid_t mem_type(Type t) {
  switch (t) {
    case Type::Float64: return H5T_NATIVE_DOUBLE;
    case Type::Int64: return H5T_NATIVE_INT64;
    case Type::Int32: return H5T_NATIVE_INT32;
    default: return -1;
  }
}

// Variable-length UTF-8 string type (caller closes).
Handle string_type() {
  hid_t t = check(H5Tcopy(H5T_C_S1), "H5Tcopy");
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return Handle(t);
}

std::string object_name(hid_t obj) {
  char buf[512];
  const ssize_t n = H5Iget_name(obj, buf, sizeof buf);
  return n > 0 ? std::string(buf) : std::string("?");
}

// HDF5 prints its own error stack by default; strata reports errors itself.
struct SilenceHdf5 {
  SilenceHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
} silence_hdf5;

}  // namespace

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    this->~Handle();
    id_ = o.id_;
    o.id_ = -1;
  }
  return *this;
}

Handle::~Handle() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
  }
  id_ = -1;
}

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) throw H5Error("HDF5: " + what + " failed");
  return id;
}
void check_status(herr_t st, const std::string& what) {
  if (st < 0) throw H5Error("HDF5: " + what + " failed");
}

void list_datasets(hid_t loc, const std::string& prefix, std::vector<std::string>& out) {
  H5G_info_t gi;
  check_status(H5Gget_info(loc, &gi), "listing " + prefix);
  for (hsize_t k = 0; k < gi.nlinks; ++k) {
    char name[1024];
    check_status(H5Lget_name_by_idx(loc, ".", H5_INDEX_NAME, H5_ITER_INC, k, name, sizeof name, H5P_DEFAULT) < 0
                     ? -1 : 0,
                 "listing " + prefix);
    H5O_info_t oi;
    check_status(H5Oget_info_by_name(loc, name, &oi, H5P_DEFAULT), "listing " + prefix + "/" + name);
    const std::string path = prefix + "/" + name;
    if (oi.type == H5O_TYPE_GROUP) {
      Handle g = open_group(loc, name);
      list_datasets(g.id(), path, out);
    } else if (oi.type == H5O_TYPE_DATASET) {
      out.push_back(path);
    }
  }
}

bool exists(hid_t loc, const std::string& path) {
  size_t pos = 0;
  while (true) {
    const size_t next = path.find('/', pos);
    const std::string prefix = path.substr(0, next);
    if (!prefix.empty() && H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (next == std::string::npos) return true;
    pos = next + 1;
  }
}

Handle open_group(hid_t loc, const std::string& path) {
  return Handle(check(H5Gopen2(loc, path.c_str(), H5P_DEFAULT), "opening group " + path));
}

Handle create_group(hid_t loc, const std::string& path) {
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.id(), 1);
  return Handle(check(H5Gcreate2(loc, path.c_str(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT), "creating group " + path));
}

Handle require_group(hid_t loc, const std::string& path) {
  return exists(loc, path) ? open_group(loc, path) : create_group(loc, path);
}

namespace {
Handle fresh_attr(hid_t obj, const std::string& name, hid_t type, hid_t space) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  return Handle(check(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                      "creating attribute " + name + " on " + object_name(obj)));
}
}  // namespace

void set_attr(hid_t obj, const std::string& name, const std::string& value) {
  // Short strings as fixed-length (kept in the object header; a variable-length
  // string would take a global-heap block per attribute), long ones variable-length.
  if (value.size() < 256) {
    Handle t(check(H5Tcopy(H5T_C_S1), "H5Tcopy"));
    H5Tset_size(t.id(), std::max<size_t>(value.size(), 1));
    H5Tset_strpad(t.id(), H5T_STR_NULLPAD);
    H5Tset_cset(t.id(), H5T_CSET_UTF8);
    Handle space(H5Screate(H5S_SCALAR));
    Handle a = fresh_attr(obj, name, t.id(), space.id());
    std::string buf = value;
    buf.resize(std::max<size_t>(value.size(), 1), '\0');
    check_status(H5Awrite(a.id(), t.id(), buf.data()), "writing attribute " + name);
    return;
  }
  Handle t = string_type();
  Handle space(H5Screate(H5S_SCALAR));
  Handle a = fresh_attr(obj, name, t.id(), space.id());
  const char* p = value.c_str();
  check_status(H5Awrite(a.id(), t.id(), &p), "writing attribute " + name);
}

void set_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values) {
  Handle t = string_type();
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr));
  Handle a = fresh_attr(obj, name, t.id(), space.id());
  std::vector<const char*> p;
  for (const auto& s : values) p.push_back(s.c_str());
  if (n) check_status(H5Awrite(a.id(), t.id(), p.data()), "writing attribute " + name);
}

void set_attr(hid_t obj, const std::string& name, int64_t value) {
  Handle space(H5Screate(H5S_SCALAR));
  Handle a = fresh_attr(obj, name, H5T_STD_I64LE, space.id());
  check_status(H5Awrite(a.id(), H5T_NATIVE_INT64, &value), "writing attribute " + name);
}

void set_attr(hid_t obj, const std::string& name, double value) {
  Handle space(H5Screate(H5S_SCALAR));
  Handle a = fresh_attr(obj, name, H5T_IEEE_F64LE, space.id());
  check_status(H5Awrite(a.id(), H5T_NATIVE_DOUBLE, &value), "writing attribute " + name);
}

void set_attr(hid_t obj, const std::string& name, const std::vector<double>& values) {
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr));
  Handle a = fresh_attr(obj, name, H5T_IEEE_F64LE, space.id());
  if (n) check_status(H5Awrite(a.id(), H5T_NATIVE_DOUBLE, values.data()), "writing attribute " + name);
}

std::string get_attr_string(hid_t obj, const std::string& name) {
  const std::vector<std::string> v = get_attr_strings(obj, name);
  return v.empty() ? std::string() : v[0];
}

std::vector<std::string> get_attr_strings(hid_t obj, const std::string& name) {
  Handle a(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "opening attribute " + name));
  Handle space(H5Aget_space(a.id()));
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  Handle ftype(H5Aget_type(a.id()));
  if (H5Tget_class(ftype.id()) == H5T_STRING && !H5Tis_variable_str(ftype.id())) {
    const size_t len = H5Tget_size(ftype.id());
    std::string buf(len * (n > 0 ? n : 0), '\0');
    if (n > 0) check_status(H5Aread(a.id(), ftype.id(), buf.data()), "reading attribute " + name);
    std::vector<std::string> out;
    for (hssize_t k = 0; k < n; ++k) {
      std::string s = buf.substr(k * len, len);
      s.erase(std::find(s.begin(), s.end(), '\0'), s.end());
      out.push_back(s);
    }
    return out;
  }
  Handle t = string_type();
  std::vector<char*> buf(n > 0 ? n : 0, nullptr);
  std::vector<std::string> out;
  if (n <= 0) return out;
  check_status(H5Aread(a.id(), t.id(), buf.data()), "reading attribute " + name);
  for (char* p : buf) {
    out.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  return out;
}

int64_t get_attr_int(hid_t obj, const std::string& name) {
  Handle a(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "opening attribute " + name));
  int64_t v = 0;
  check_status(H5Aread(a.id(), H5T_NATIVE_INT64, &v), "reading attribute " + name);
  return v;
}

double get_attr_double(hid_t obj, const std::string& name) {
  Handle a(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "opening attribute " + name));
  double v = 0.0;
  check_status(H5Aread(a.id(), H5T_NATIVE_DOUBLE, &v), "reading attribute " + name);
  return v;
}

Handle create_table(hid_t loc, const std::string& name, Type type, const std::vector<hsize_t>& inner,
                    hsize_t chunk_rows, const std::string& units, const std::string& description) {
  std::vector<hsize_t> dims = {0}, maxdims = {H5S_UNLIMITED}, chunk = {chunk_rows};
  for (hsize_t d : inner) {
    dims.push_back(d);
    maxdims.push_back(d);
    chunk.push_back(std::max<hsize_t>(d, 1));
  }
  Handle space(H5Screate_simple((int)dims.size(), dims.data(), maxdims.data()));
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl.id(), (int)chunk.size(), chunk.data());
  if (type != Type::String) H5Pset_shuffle(dcpl.id());
  H5Pset_deflate(dcpl.id(), 4);
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.id(), 1);
  Handle st;
  hid_t ft = file_type(type);
  if (type == Type::String) {
    st = string_type();
    ft = st.id();
  }
  Handle d(check(H5Dcreate2(loc, name.c_str(), ft, space.id(), lcpl.id(), dcpl.id(), H5P_DEFAULT),
                 "creating dataset " + name));
  set_attr(d.id(), "units", units);
  set_attr(d.id(), "description", description);
  return d;
}

void write_array(hid_t loc, const std::string& name, Type type, const std::vector<hsize_t>& dims, const void* data,
                 const std::string& units, const std::string& description) {
  Handle space(H5Screate_simple((int)dims.size(), dims.data(), nullptr));
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.id(), 1);
  const hsize_t n = std::accumulate(dims.begin(), dims.end(), hsize_t{1}, std::multiplies<hsize_t>());
  // Small arrays live in the object header (compact layout): no separate data block.
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (n * 8 <= 16384) H5Pset_layout(dcpl.id(), H5D_COMPACT);
  H5Pset_obj_track_times(dcpl.id(), 0);  // no per-object timestamps (the run's times are in /meta)
  Handle d(check(H5Dcreate2(loc, name.c_str(), file_type(type), space.id(), lcpl.id(), dcpl.id(), H5P_DEFAULT),
                 "creating dataset " + name));
  if (n) check_status(H5Dwrite(d.id(), mem_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "writing " + name);
  set_attr(d.id(), "units", units);
  if (!description.empty()) set_attr(d.id(), "description", description);
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values,
                   const std::string& description) {
  Handle t = string_type();
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr));
  Handle d(check(H5Dcreate2(loc, name.c_str(), t.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                 "creating dataset " + name));
  std::vector<const char*> p;
  for (const auto& s : values) p.push_back(s.c_str());
  if (n) check_status(H5Dwrite(d.id(), t.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()), "writing " + name);
  set_attr(d.id(), "units", std::string());
  set_attr(d.id(), "description", description);
}

namespace {
// Extends dset by n rows and returns (file space selecting them, memory space).
std::pair<Handle, Handle> grow(hid_t dset, hsize_t n) {
  Handle space(H5Dget_space(dset));
  const int rank = H5Sget_simple_extent_ndims(space.id());
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr);
  std::vector<hsize_t> start(rank, 0), count = dims;
  start[0] = dims[0];
  count[0] = n;
  dims[0] += n;
  check_status(H5Dset_extent(dset, dims.data()), "extending " + object_name(dset));
  Handle fspace(H5Dget_space(dset));
  H5Sselect_hyperslab(fspace.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  Handle mspace(H5Screate_simple(rank, count.data(), nullptr));
  return {std::move(fspace), std::move(mspace)};
}
}  // namespace

void append_rows(hid_t dset, Type type, hsize_t n_rows, const void* data) {
  if (n_rows == 0) return;
  auto [fspace, mspace] = grow(dset, n_rows);
  check_status(H5Dwrite(dset, mem_type(type), mspace.id(), fspace.id(), H5P_DEFAULT, data),
               "appending to " + object_name(dset));
}

void append_strings(hid_t dset, const std::vector<std::string>& values) {
  if (values.empty()) return;
  auto [fspace, mspace] = grow(dset, values.size());
  Handle t = string_type();
  std::vector<const char*> p;
  for (const auto& s : values) p.push_back(s.c_str());
  check_status(H5Dwrite(dset, t.id(), mspace.id(), fspace.id(), H5P_DEFAULT, p.data()),
               "appending to " + object_name(dset));
}

std::vector<hsize_t> dims(hid_t dset) {
  Handle space(H5Dget_space(dset));
  const int rank = H5Sget_simple_extent_ndims(space.id());
  std::vector<hsize_t> d(rank > 0 ? rank : 1, 0);
  H5Sget_simple_extent_dims(space.id(), d.data(), nullptr);
  return d;
}

hsize_t rows(hid_t dset) { return dims(dset)[0]; }

namespace {
template <class T>
std::vector<T> read_numeric(hid_t loc, const std::string& path, hid_t mtype) {
  Handle d(check(H5Dopen2(loc, path.c_str(), H5P_DEFAULT), "opening dataset " + path));
  Handle space(H5Dget_space(d.id()));
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  std::vector<T> out(n > 0 ? n : 0);
  if (n > 0) check_status(H5Dread(d.id(), mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "reading " + path);
  return out;
}
}  // namespace

std::vector<int64_t> read_int64(hid_t loc, const std::string& path) {
  return read_numeric<int64_t>(loc, path, H5T_NATIVE_INT64);
}
std::vector<int32_t> read_int32(hid_t loc, const std::string& path) {
  return read_numeric<int32_t>(loc, path, H5T_NATIVE_INT32);
}
std::vector<double> read_float64(hid_t loc, const std::string& path) {
  return read_numeric<double>(loc, path, H5T_NATIVE_DOUBLE);
}

std::vector<std::string> read_strings(hid_t loc, const std::string& path) {
  Handle d(check(H5Dopen2(loc, path.c_str(), H5P_DEFAULT), "opening dataset " + path));
  Handle space(H5Dget_space(d.id()));
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  std::vector<std::string> out;
  if (n <= 0) return out;
  Handle t = string_type();
  std::vector<char*> buf(n, nullptr);
  check_status(H5Dread(d.id(), t.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), "reading " + path);
  for (char* p : buf) {
    out.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  return out;
}

}  // namespace strata::h5
