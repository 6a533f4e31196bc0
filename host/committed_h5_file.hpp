#pragma once
// An HDF5 file that a kill at any moment leaves readable, holding every commit.
//
// HDF5 (1.10, without SWMR) writes a flush as many separate writes; a SIGKILL
// between them leaves a file whose metadata points at what was never written. So
// two copies are kept: the published file at `path`, which is never written while
// it is published, and a working copy `path.part` that takes every edit at once
// (and is read back). A commit flushes the working copy and makes it the published
// file with one rename (after hard-linking the old one aside, so that `path` always
// names a complete file), then replays the commit's edits on the old copy, which
// becomes the next working copy. Every edit is written twice; nothing else is copied
// after the first commit.
//
// A kill leaves `path` as of the last commit (or the commit in flight, once its
// rename is done) and perhaps a damaged `path.part` / `path.prev`, which the next
// create or open replaces.
#include <hdf5.h>

#include <functional>
#include <string>
#include <vector>

#include "host/h5_file.hpp"

namespace strata {

class CommittedH5File {
 public:
  using Edit = std::function<void(hid_t file)>;

  // A new, empty file for `path`; it appears at `path` (replacing a file there) at
  // the first commit. fapl: the file access properties (format bounds).
  static CommittedH5File create(const std::string& path, hid_t fapl);
  // An existing file to continue: edits go to a copy until the first commit.
  // Throws h5::H5Error when it does not open.
  static CommittedH5File open(const std::string& path, hid_t fapl);

  CommittedH5File() = default;
  CommittedH5File(CommittedH5File&&) noexcept = default;
  CommittedH5File& operator=(CommittedH5File&&) noexcept;
  CommittedH5File(const CommittedH5File&) = delete;
  CommittedH5File& operator=(const CommittedH5File&) = delete;
  // Commits what is pending (unless an edit failed) and closes.
  ~CommittedH5File();

  bool is_open() const { return work_.valid(); }
  const std::string& path() const { return path_; }
  // The working copy, current with every edit: for reading back.
  hid_t work() const { return work_.id(); }

  // Applies the edit to the working copy and keeps it for the other copy. An edit
  // that throws leaves the copies different: nothing is committed after it.
  void edit(Edit e);
  // Publishes every edit so far (see above). Nothing to do when nothing changed.
  void commit();
  // Commits and closes, leaving one file at `path`.
  void close();

 private:
  void replay_on_other();
  void release() noexcept;
  std::string path_;
  h5::Handle fapl_;
  h5::Handle work_, other_;  // other_: the published copy (invalid until it is opened)
  std::vector<Edit> pending_;
  bool published_ = false;  // a complete file of ours is at path_
  bool broken_ = false;
  int commits_ = 0;
};

}  // namespace strata
