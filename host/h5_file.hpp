#pragma once
// Thin RAII helpers over the HDF5 C API: handles, attributes, and extendable
// chunked/compressed datasets that grow along their first axis. Errors throw
// H5Error naming the file and object.
#include <hdf5.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace strata::h5 {

struct H5Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Owns one hid_t and closes it with the right H5*close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(o.id_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept;
  ~Handle();
  hid_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Gives up ownership: the id, no longer closed by this handle.
  hid_t release() {
    const hid_t id = id_;
    id_ = -1;
    return id;
  }

 private:
  hid_t id_ = -1;
};

// Throws H5Error(what) when id < 0.
hid_t check(hid_t id, const std::string& what);
void check_status(herr_t st, const std::string& what);

bool exists(hid_t loc, const std::string& path);
// Appends the paths of the datasets under loc, recursively, each as prefix + "/" +
// its path below loc (e.g. prefix "population" gives "population/step/duration_s").
void list_datasets(hid_t loc, const std::string& prefix, std::vector<std::string>& out);
Handle open_group(hid_t loc, const std::string& path);
Handle create_group(hid_t loc, const std::string& path);  // intermediate groups too
Handle require_group(hid_t loc, const std::string& path);

// Attributes (replaced if present).
void set_attr(hid_t obj, const std::string& name, const std::string& value);
void set_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values);
void set_attr(hid_t obj, const std::string& name, int64_t value);
void set_attr(hid_t obj, const std::string& name, double value);
void set_attr(hid_t obj, const std::string& name, const std::vector<double>& values);
std::string get_attr_string(hid_t obj, const std::string& name);
std::vector<std::string> get_attr_strings(hid_t obj, const std::string& name);
int64_t get_attr_int(hid_t obj, const std::string& name);
double get_attr_double(hid_t obj, const std::string& name);

enum class Type { Float64, Int64, Int32, String };

// An extendable dataset of shape [0, inner...] with the given chunk rows, deflate 4
// and shuffle; attributes units and description.
Handle create_table(hid_t loc, const std::string& name, Type type, const std::vector<hsize_t>& inner,
                    hsize_t chunk_rows, const std::string& units, const std::string& description);

// A fixed-size dataset (no chunking; compact when small), for trajectories and
// profiles. An empty description writes no description attribute.
void write_array(hid_t loc, const std::string& name, Type type, const std::vector<hsize_t>& dims,
                 const void* data, const std::string& units, const std::string& description);
void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values,
                   const std::string& description);

// Appends rows to a dataset of shape [rows, inner...]: data holds n_rows * prod(inner) values.
void append_rows(hid_t dset, Type type, hsize_t n_rows, const void* data);
void append_strings(hid_t dset, const std::vector<std::string>& values);

hsize_t rows(hid_t dset);
std::vector<hsize_t> dims(hid_t dset);  // the extent along every axis
std::vector<int64_t> read_int64(hid_t loc, const std::string& path);
std::vector<int32_t> read_int32(hid_t loc, const std::string& path);
std::vector<double> read_float64(hid_t loc, const std::string& path);  // flattened
std::vector<std::string> read_strings(hid_t loc, const std::string& path);

}  // namespace strata::h5
