#pragma once
// An HDF5 file that a kill at any moment leaves readable, holding every commit, and
// that other processes may read (h5py, strata info) while it is written.
//
// HDF5 (1.10, without SWMR) writes a flush as many separate writes; a SIGKILL
// between them leaves a file whose metadata points at what was never written. So
// two copies are kept: the published file at `path`, which the writer neither
// writes nor holds open, and a working copy `path.part` that takes every edit (and
// is read back). A commit closes the working copy and makes it the published file
// with one rename (after hard-linking the old one aside, so that `path` always
// names a complete file). The old copy then becomes the next working copy, brought
// up to date by whichever is cheaper: replaying the commit's edits on it, or copying
// the published file to a new `path.part` (edits that create many objects, such as
// trajectories, cost more than copying a file of tens of MB). A reader that still
// holds the old copy (HDF5's or any flock on it) forces the copy, so what a reader
// has open never changes under it. That update runs on a thread of its own while
// the caller goes on; the next edit or read waits for it.
//
// The working copy carries an exclusive flock (FileClaim) while it is written (until
// it is closed for its commit's rename), so a reader that found the old copy at the
// path just before a rename is refused, and opens again, rather than reading a file
// being written. One writer per path: the
// writer holds host/writer_lock.hpp's `path.lock`. Through a symbolic link, all of
// this is done at the link's target.
// A kill leaves `path` as of the last commit (or the commit in flight, once its
// rename is done) and perhaps a damaged `path.part` / `path.prev`, which the next
// create or open replaces.
#include <hdf5.h>

#include <functional>
#include <future>
#include <string>
#include <vector>

#include "host/h5_file.hpp"
#include "host/writer_lock.hpp"

namespace strata {

class CommittedH5File {
 public:
  using Edit = std::function<void(hid_t file)>;
  // How the last commit brought the other copy up to date.
  enum class Update { None, Copy, Replay };

  // A new, empty file for `path`; it appears at `path` (replacing a file there) at
  // the first commit. fapl: the file access properties (format bounds). Throws
  // FileInUse when another process writes `path`.
  static CommittedH5File create(const std::string& path, hid_t fapl);
  // An existing file to continue: edits go to a copy until the first commit.
  // Throws h5::H5Error when it does not open, FileInUse as create.
  static CommittedH5File open(const std::string& path, hid_t fapl);

  CommittedH5File() = default;
  CommittedH5File(CommittedH5File&&) noexcept = default;
  CommittedH5File& operator=(CommittedH5File&&) noexcept;
  CommittedH5File(const CommittedH5File&) = delete;
  CommittedH5File& operator=(const CommittedH5File&) = delete;
  // Commits what is pending (unless an edit failed) and closes.
  ~CommittedH5File();

  bool is_open() const { return open_; }
  const std::string& path() const { return path_; }
  // The working copy, current with every edit: for reading back.
  hid_t work() const {
    wait_update();
    return work_.id();
  }
  // How the last commit's update went (waits for it).
  Update last_update() const {
    wait_update();
    return last_update_;
  }

  // Applies the edit to the working copy and keeps it for the other copy. An edit
  // that throws leaves the copies different: nothing is committed after it.
  void edit(Edit e);
  // Publishes every edit so far (see above). Nothing to do when nothing changed.
  void commit();
  // Publishes what is pending and closes, leaving one file at `path`.
  void close();

  // Where a commit keeps the published file while it renames the working copy over
  // it: what a kill there leaves (alone, where the file system has no hard links,
  // and then open() takes it back).
  static std::string aside_path(const std::string& path);

 private:
  struct Updated {
    hid_t file = -1;
    FileClaim claim;
    Update how = Update::None;
    double copy_s_per_byte = -1.0;  // measured by a copy; -1: none made
  };
  void wait_update() const;  // rethrows a failed update
  void publish(int n);  // closes the working copy and renames it over path_
  void release() noexcept;
  std::string path_;
  h5::Handle fapl_;
  WriterLock lock_;
  mutable h5::Handle work_;    // invalid while an update runs
  mutable FileClaim claim_;    // on the working copy (host/writer_lock.hpp)
  bool open_ = false;          // from create/open until close
  bool published_ = false;     // a file of ours is at path_
  std::vector<Edit> pending_;
  mutable std::future<Updated> update_;  // the working copy being brought up to date
  double edit_s_ = 0.0;                  // time the pending edits took on the working copy
  mutable double copy_s_per_byte_ = 1e-9;  // measured by copies of 1 MB or more (first guess 1 GB/s)
  mutable Update last_update_ = Update::None;
  mutable bool broken_ = false;
  int commits_ = 0;
};

}  // namespace strata
