#include "host/committed_h5_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <utility>

namespace strata {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string part_path(const std::string& path) { return path + ".part"; }
std::string prev_path(const std::string& path) { return path + ".prev"; }

// Fault injection for the tests of this file's promise (tests/unit/test_run_safety.cpp):
// STRATA_FAULT_KILL_IN_COMMIT="<n>:<stage>" sends the process SIGKILL in its n-th
// commit (1-based) at one stage: "flushed" (working copy flushed, nothing renamed),
// "linked" (old file linked aside), "published" (working copy renamed to the path),
// "updating" (the other copy half replayed or wholly copied, then overwritten with
// garbage to stand for a kill that damaged it).
struct FaultPlan {
  int commit = 0;
  std::string stage;
};

const FaultPlan& fault_plan() {
  static const FaultPlan plan = [] {
    FaultPlan p;
    const char* v = std::getenv("STRATA_FAULT_KILL_IN_COMMIT");
    if (!v) return p;
    const std::string s(v);
    const size_t colon = s.find(':');
    if (colon == std::string::npos) return p;
    p.commit = std::atoi(s.substr(0, colon).c_str());
    p.stage = s.substr(colon + 1);
    return p;
  }();
  return plan;
}

bool fault_at(int commit, const char* stage) { return fault_plan().commit == commit && fault_plan().stage == stage; }

void fault_point(int commit, const char* stage) {
  if (fault_at(commit, stage)) raise(SIGKILL);
}

void garble_and_die(const std::string& path) {
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    const std::string garbage(4096, '\xA5');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  raise(SIGKILL);
}

void flush(hid_t file, const std::string& what) {
  h5::check_status(H5Fflush(file, H5F_SCOPE_GLOBAL), "flushing " + what);
}

void remove_quietly(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
}

void copy_over(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) throw h5::H5Error("cannot copy " + from + " to " + to + ": " + ec.message());
}

void rename_or_throw(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) throw h5::H5Error("cannot rename " + from + " to " + to + ": " + ec.message());
}

// STRATA_COMMIT_UPDATE=copy|replay fixes how the other copy is brought up to date
// (tests of both ways; a file system where one of them is slow); unset: the cheaper.
CommittedH5File::Update forced_update() {
  static const CommittedH5File::Update forced = [] {
    const char* v = std::getenv("STRATA_COMMIT_UPDATE");
    const std::string s = v ? v : "";
    return s == "copy"     ? CommittedH5File::Update::Copy
           : s == "replay" ? CommittedH5File::Update::Replay
                           : CommittedH5File::Update::None;
  }();
  return forced;
}

bool hdf5_is_threadsafe() {
  hbool_t ts = false;
  return H5is_library_threadsafe(&ts) >= 0 && ts;
}

// True when some process holds a lock on the file at `path` (a reader with HDF5's
// file locking takes one). Our own test, so that it holds when this process has
// HDF5's locking turned off. Where flock is not implemented: false (nothing known).
bool locked_by_another(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // lets go of the lock, if taken
  return held;
}

// File access properties of both copies: H5Fclose fails while an object of the file
// is still open (HDF5's default would keep the file open, and the published copy
// with it).
h5::Handle access_properties(hid_t fapl) {
  h5::Handle p(h5::check(H5Pcopy(fapl), "copying file access properties"));
  h5::check_status(H5Pset_fclose_degree(p.id(), H5F_CLOSE_SEMI), "setting the file close degree");
  return p;
}

void close_file(h5::Handle& file, const std::string& what) {
  h5::check_status(H5Fclose(file.id()), "closing " + what + " (an object of it still open?)");
  file.release();
}

}  // namespace

CommittedH5File CommittedH5File::create(const std::string& path, hid_t fapl) {
  CommittedH5File c;
  c.path_ = path;
  c.lock_ = WriterLock::acquire(path);
  c.fapl_ = access_properties(fapl);
  remove_quietly(prev_path(path));  // left by a killed run
  remove_quietly(part_path(path));
  c.work_ = h5::Handle(h5::check(H5Fcreate(part_path(path).c_str(), H5F_ACC_EXCL, H5P_DEFAULT, c.fapl_.id()),
                                 "cannot create " + part_path(path)));
  return c;
}

CommittedH5File CommittedH5File::open(const std::string& path, hid_t fapl) {
  CommittedH5File c;
  c.path_ = path;
  c.lock_ = WriterLock::acquire(path);
  c.fapl_ = access_properties(fapl);
  h5::Handle(h5::check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, c.fapl_.id()), "cannot open " + path));
  c.published_ = true;
  remove_quietly(prev_path(path));
  remove_quietly(part_path(path));  // a new file: a reader may hold the old one
  copy_over(path, part_path(path));
  c.work_ = h5::Handle(
      h5::check(H5Fopen(part_path(path).c_str(), H5F_ACC_RDWR, c.fapl_.id()), "cannot open " + part_path(path)));
  return c;
}

CommittedH5File& CommittedH5File::operator=(CommittedH5File&& o) noexcept {
  if (this != &o) {
    release();
    path_ = std::move(o.path_);
    fapl_ = std::move(o.fapl_);
    lock_ = std::move(o.lock_);
    work_ = std::move(o.work_);
    published_ = o.published_;
    pending_ = std::move(o.pending_);
    update_ = std::move(o.update_);
    edit_s_ = o.edit_s_;
    copy_s_per_byte_ = o.copy_s_per_byte_;
    last_update_ = o.last_update_;
    broken_ = o.broken_;
    commits_ = o.commits_;
  }
  return *this;
}

CommittedH5File::~CommittedH5File() { release(); }

void CommittedH5File::release() noexcept {
  if (is_open()) {
    try {
      if (!broken_) close();
    } catch (...) {
    }
    try {
      wait_update();
    } catch (...) {
    }
    work_ = h5::Handle();
    remove_quietly(part_path(path_));  // the working copy: equal to the published file, or damaged
    remove_quietly(prev_path(path_));
  }
  lock_.release();
}

void CommittedH5File::wait_update() const {
  if (!update_.valid()) return;
  try {
    const Updated u = update_.get();
    work_ = h5::Handle(u.file);
    last_update_ = u.how;
    if (u.copy_s_per_byte > 0.0) copy_s_per_byte_ = u.copy_s_per_byte;
  } catch (...) {
    broken_ = true;  // the published file is whole; the working copy is not
    throw;
  }
}

void CommittedH5File::edit(Edit e) {
  wait_update();
  if (broken_) throw h5::H5Error(path_ + ": not written, since an earlier write to it failed");
  const auto t0 = Clock::now();
  try {
    e(work_.id());
  } catch (...) {
    broken_ = true;
    throw;
  }
  edit_s_ += seconds_since(t0);
  pending_.push_back(std::move(e));
}

// Closes the working copy and renames it over the path (a commit's steps 1 to 4).
void CommittedH5File::publish(int n) {
  const std::string part = part_path(path_), prev = prev_path(path_);
  close_file(work_, part);
  fault_point(n, "flushed");
  if (published_) {  // keep the published file at a second name until the rename
    std::error_code ec;
    fs::remove(prev, ec);
    fs::create_hard_link(path_, prev, ec);
    if (ec) rename_or_throw(path_, prev);  // a file system without hard links
  }
  fault_point(n, "linked");
  rename_or_throw(part, path_);  // the commit: atomic on POSIX file systems
  fault_point(n, "published");
  if (published_) rename_or_throw(prev, part);
  published_ = true;
}

void CommittedH5File::commit() {
  // Nothing new: no need to wait for the last commit's update (it runs on beside the
  // caller's next batch).
  if (!broken_ && (!is_open() || (pending_.empty() && published_))) return;
  wait_update();
  if (broken_) throw h5::H5Error(path_ + ": not committed, since an earlier write to it failed");
  const int n = ++commits_;
  const bool first = !published_;
  try {
    publish(n);
  } catch (...) {
    broken_ = true;
    throw;
  }

  // The old copy (now at part; none at a new file's first commit) becomes the working
  // copy: the same edits again, or a copy of the published file, whichever costs less.
  const std::string part = part_path(path_);
  const bool copy = first || (forced_update() == Update::None
                                  ? static_cast<double>(fs::file_size(path_)) * copy_s_per_byte_ < edit_s_
                                  : forced_update() == Update::Copy);
  auto edits = std::make_shared<const std::vector<Edit>>(std::move(pending_));
  pending_.clear();
  edit_s_ = 0.0;
  const bool threaded = hdf5_is_threadsafe();
  auto task = [edits, copy, threaded, path = path_, part, fapl = fapl_.id(), n]() -> Updated {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // HDF5's error printing is per thread
    const bool fault = fault_at(n, "updating");
    // A reader that found the old copy at the path just before the rename has opened
    // it but may not yet hold its lock: give it a moment (off the critical path), so
    // that its lock is seen below rather than the reader refused by ours.
    if (threaded && !copy) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    // A reader holding the old copy keeps it as it is.
    const hid_t old = copy || locked_by_another(part) ? -1 : H5Fopen(part.c_str(), H5F_ACC_RDWR, fapl);
    if (old >= 0) {
      h5::Handle stale(old);
      for (size_t k = 0; k < edits->size(); ++k) {
        if (fault && 2 * k + 1 >= edits->size()) {
          flush(stale.id(), part);
          garble_and_die(part);
        }
        (*edits)[k](stale.id());
      }
      flush(stale.id(), part);
      return {stale.release(), Update::Replay, -1.0};
    }
    const auto t0 = Clock::now();
    remove_quietly(part);  // a new file: the old one may be open in a reader
    copy_over(path, part);
    // The rate of a copy of a megabyte or more (smaller ones measure the fixed cost).
    const double bytes = static_cast<double>(fs::file_size(part));
    const double s_per_byte = bytes >= 1e6 ? seconds_since(t0) / bytes : -1.0;
    if (fault) garble_and_die(part);
    return {h5::check(H5Fopen(part.c_str(), H5F_ACC_RDWR, fapl), "cannot open " + part), Update::Copy, s_per_byte};
  };
  if (threaded) {
    update_ = std::async(std::launch::async, std::move(task));
    return;
  }
  std::promise<Updated> done;  // no second thread: HDF5 calls may not overlap
  try {
    done.set_value(task());
  } catch (...) {
    done.set_exception(std::current_exception());
  }
  update_ = done.get_future();
  wait_update();
}

void CommittedH5File::close() {
  if (!is_open()) return;
  wait_update();
  if (broken_) throw h5::H5Error(path_ + ": not committed, since an earlier write to it failed");
  // The working copy, closed cleanly, is the last file published: no update after it.
  if (!pending_.empty() || !published_) {
    try {
      publish(++commits_);
    } catch (...) {
      broken_ = true;
      throw;
    }
    pending_.clear();
  } else {
    close_file(work_, part_path(path_));
  }
  remove_quietly(part_path(path_));
  lock_.release();
}

}  // namespace strata
