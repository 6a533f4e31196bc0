#include "host/committed_h5_file.hpp"

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <utility>

#include "host/thread_affinity.hpp"

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

// File access properties of both copies: H5Fclose fails while an object of the file
// is still open (HDF5's default would keep the file open, and the published copy
// with it); HDF5's own file locking is off, since the working copy carries a
// FileClaim (host/writer_lock.hpp), which HDF5's lock would collide with.
h5::Handle access_properties(hid_t fapl) {
  h5::Handle p(h5::check(H5Pcopy(fapl), "copying file access properties"));
  h5::check_status(H5Pset_fclose_degree(p.id(), H5F_CLOSE_SEMI), "setting the file close degree");
  h5::check_status(H5Pset_file_locking(p.id(), false, true), "turning HDF5's file locking off");
  return p;
}

void close_file(h5::Handle& file, const std::string& what) {
  h5::check_status(H5Fclose(file.id()), "closing " + what);
  file.release();
}

// A new inode for a working copy: the old one may be open in a reader.
void remove_or_throw(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) throw h5::H5Error("cannot remove " + path + ": " + ec.message());
}

// The working copy and its claim, open for writing.
struct Working {
  h5::Handle file;
  FileClaim claim;
};

// The claim on the fresh file at part (made by this run: nobody else holds it).
FileClaim claim_fresh(const std::string& part) {
  FileClaim::Outcome outcome;
  FileClaim claim = FileClaim::take(part, outcome);
  if (outcome == FileClaim::Outcome::HeldByAnother)
    throw h5::H5Error("cannot claim " + part + ": another process holds a lock on it");
  return claim;
}

// Opens the fresh file at part as the working copy.
Working open_fresh(const std::string& part, hid_t fapl) {
  Working w;
  w.claim = claim_fresh(part);
  w.file = h5::Handle(h5::check(H5Fopen(part.c_str(), H5F_ACC_RDWR, fapl), "cannot open " + part));
  return w;
}

// A copy of the file at path as the working copy at part.
Working copy_to_fresh(const std::string& path, const std::string& part, hid_t fapl) {
  remove_or_throw(part);
  copy_over(path, part);
  return open_fresh(part, fapl);
}

}  // namespace

std::string CommittedH5File::aside_path(const std::string& path) {
  return prev_path(WriterLock::resolved_path(path));
}

CommittedH5File CommittedH5File::create(const std::string& path, hid_t fapl) {
  CommittedH5File c;
  c.path_ = WriterLock::resolved_path(path);
  c.lock_ = WriterLock::acquire(c.path_);
  c.fapl_ = access_properties(fapl);
  const std::string part = part_path(c.path_);
  remove_quietly(prev_path(c.path_));  // left by a killed run (the caller checked it is not the only copy)
  remove_or_throw(part);
  c.work_ = h5::Handle(h5::check(H5Fcreate(part.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, c.fapl_.id()), "cannot create " + part));
  c.claim_ = claim_fresh(part);
  c.open_ = true;
  return c;
}

CommittedH5File CommittedH5File::open(const std::string& path, hid_t fapl) {
  CommittedH5File c;
  c.path_ = WriterLock::resolved_path(path);
  c.lock_ = WriterLock::acquire(c.path_);
  c.fapl_ = access_properties(fapl);
  const std::string part = part_path(c.path_), prev = prev_path(c.path_);
  // A kill between moving the published file aside and the rename (only where the
  // file system has no hard links) leaves the last commit at prev alone.
  if (!fs::exists(c.path_) && fs::exists(prev)) rename_or_throw(prev, c.path_);
  h5::Handle(h5::check(H5Fopen(c.path_.c_str(), H5F_ACC_RDONLY, c.fapl_.id()), "cannot open " + c.path_));
  c.published_ = true;
  remove_quietly(prev);
  Working w = copy_to_fresh(c.path_, part, c.fapl_.id());
  c.work_ = std::move(w.file);
  c.claim_ = std::move(w.claim);
  c.open_ = true;
  return c;
}

CommittedH5File& CommittedH5File::operator=(CommittedH5File&& o) noexcept {
  if (this != &o) {
    release();
    path_ = std::move(o.path_);
    fapl_ = std::move(o.fapl_);
    lock_ = std::move(o.lock_);
    work_ = std::move(o.work_);
    claim_ = std::move(o.claim_);
    open_ = std::exchange(o.open_, false);
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
  if (open_) {
    try {
      if (!broken_) close();
    } catch (...) {
    }
  }
  if (open_) {  // close() failed, or an earlier write did: the published file stays as last committed
    try {
      wait_update();
    } catch (...) {
    }
    work_ = h5::Handle();
    claim_.release();
    remove_quietly(part_path(path_));  // the working copy: damaged, or short of the last edits
    if (fs::exists(path_)) remove_quietly(prev_path(path_));  // else the last commit, set aside
    open_ = false;
  }
  lock_.release();
}

void CommittedH5File::wait_update() const {
  if (!update_.valid()) return;
  try {
    Updated u = update_.get();
    work_ = h5::Handle(u.file);
    claim_ = std::move(u.claim);
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
// Throws with the path naming the last commit still (or again, where a failed rename
// is undone); the caller marks the pair broken.
void CommittedH5File::publish(int n) {
  const std::string part = part_path(path_), prev = prev_path(path_);
  close_file(work_, part);
  // Closed, the working copy is whole: a reader may lock it from now on. Released
  // before the rename, not after, so that the path never names a claimed file (a
  // writer preempted between the two would refuse every reader meanwhile).
  claim_.release();
  fault_point(n, "flushed");
  bool moved_aside = false;
  if (published_) {  // keep the published file at a second name until the rename
    std::error_code ec;
    fs::remove(prev, ec);
    fs::create_hard_link(path_, prev, ec);
    if (ec) {  // a file system without hard links: the path is empty until the rename
      rename_or_throw(path_, prev);
      moved_aside = true;
    }
  }
  fault_point(n, "linked");
  try {
    rename_or_throw(part, path_);  // the commit: atomic on POSIX file systems
  } catch (...) {
    std::error_code ec;
    if (moved_aside) fs::rename(prev, path_, ec);
    throw;
  }
  fault_point(n, "published");
  if (published_) rename_or_throw(prev, part);
  published_ = true;
}

void CommittedH5File::commit() {
  // Nothing new: no need to wait for the last commit's update (it runs on beside the
  // caller's next batch).
  if (!broken_ && (!open_ || (pending_.empty() && published_))) return;
  wait_update();
  if (broken_) throw h5::H5Error(path_ + ": not committed, since an earlier write to it failed");
  const int n = ++commits_;
  const std::string part = part_path(path_);
  bool copy = !published_;  // a new file's first commit leaves no old copy
  try {
    publish(n);
    // The old copy (now at part) becomes the working copy: the same edits again, or
    // a copy of the published file, whichever costs less.
    if (!copy)
      copy = forced_update() == Update::None
                 ? static_cast<double>(fs::file_size(path_)) * copy_s_per_byte_ < edit_s_
                 : forced_update() == Update::Copy;
  } catch (...) {
    broken_ = true;
    throw;
  }
  auto edits = std::make_shared<const std::vector<Edit>>(std::move(pending_));
  pending_.clear();
  edit_s_ = 0.0;
  const bool threaded = hdf5_is_threadsafe();
  auto task = [edits, copy, threaded, path = path_, part, fapl = fapl_.id(), n]() -> Updated {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // HDF5's error printing is per thread
    if (threaded) unpin_this_thread();              // a thread of its own: not the caller's core
    const bool fault = fault_at(n, "updating");
    Updated u;
    if (!copy) {
      // A reader that found the old copy at the path just before the rename has
      // opened it but may not yet hold its lock: give it a moment (off the critical
      // path), so that its lock is seen here rather than the reader refused by ours.
      if (threaded) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      FileClaim::Outcome outcome;
      FileClaim claim = FileClaim::take(part, outcome);
      // A reader holding the old copy keeps it as it is: copy to a new file instead.
      if (outcome != FileClaim::Outcome::HeldByAnother) {
        h5::Handle stale(h5::check(H5Fopen(part.c_str(), H5F_ACC_RDWR, fapl), "cannot open " + part));
        for (size_t k = 0; k < edits->size(); ++k) {
          if (fault && 2 * k + 1 >= edits->size()) {
            flush(stale.id(), part);
            garble_and_die(part);
          }
          (*edits)[k](stale.id());
        }
        flush(stale.id(), part);
        u.file = stale.release();
        u.claim = std::move(claim);
        u.how = Update::Replay;
        return u;
      }
    }
    const auto t0 = Clock::now();
    remove_or_throw(part);
    copy_over(path, part);
    // The rate of a copy of a megabyte or more (smaller ones measure the fixed cost).
    const double bytes = static_cast<double>(fs::file_size(part));
    u.copy_s_per_byte = bytes >= 1e6 ? seconds_since(t0) / bytes : -1.0;
    if (fault) garble_and_die(part);
    Working w = open_fresh(part, fapl);
    u.file = w.file.release();
    u.claim = std::move(w.claim);
    u.how = Update::Copy;
    return u;
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
  if (!open_) return;
  wait_update();
  if (broken_) throw h5::H5Error(path_ + ": not committed, since an earlier write to it failed");
  // The working copy, closed cleanly, is the last file published: no update after it.
  try {
    if (!pending_.empty() || !published_) {
      publish(++commits_);
      pending_.clear();
    } else {
      close_file(work_, part_path(path_));
      claim_.release();
    }
  } catch (...) {
    broken_ = true;
    throw;
  }
  remove_quietly(part_path(path_));
  open_ = false;
  lock_.release();
}

}  // namespace strata
