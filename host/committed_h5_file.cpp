#include "host/committed_h5_file.hpp"

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
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

}  // namespace

CommittedH5File CommittedH5File::create(const std::string& path, hid_t fapl) {
  CommittedH5File c;
  c.path_ = path;
  c.fapl_ = h5::Handle(h5::check(H5Pcopy(fapl), "copying file access properties"));
  remove_quietly(prev_path(path));  // left by a killed run
  c.work_ = h5::Handle(h5::check(H5Fcreate(part_path(path).c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, c.fapl_.id()),
                                 "cannot create " + part_path(path)));
  return c;
}

CommittedH5File CommittedH5File::open(const std::string& path, hid_t fapl) {
  CommittedH5File c;
  c.path_ = path;
  c.fapl_ = h5::Handle(h5::check(H5Pcopy(fapl), "copying file access properties"));
  // Opened for writing first: HDF5's lock on it refuses a second run continuing the
  // same file, and it is the published copy until the first commit.
  c.other_ = h5::Handle(h5::check(H5Fopen(path.c_str(), H5F_ACC_RDWR, c.fapl_.id()), "cannot open " + path));
  remove_quietly(prev_path(path));
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
    work_ = std::move(o.work_);
    other_ = std::move(o.other_);
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
  if (!is_open()) return;
  try {
    if (!broken_) commit();
  } catch (...) {
  }
  try {
    wait_update();
  } catch (...) {
  }
  work_ = h5::Handle();
  other_ = h5::Handle();
  remove_quietly(part_path(path_));  // the working copy: equal to the published file, or damaged
  remove_quietly(prev_path(path_));
}

void CommittedH5File::wait_update() const {
  if (!update_.valid()) return;
  try {
    const Updated u = update_.get();
    work_ = h5::Handle(u.file);
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

void CommittedH5File::commit() {
  // Nothing new: no need to wait for the last commit's update (it runs on beside the
  // caller's next batch).
  if (!broken_ && (!is_open() || (pending_.empty() && other_.valid()))) return;
  wait_update();
  if (broken_) throw h5::H5Error(path_ + ": not committed, since an earlier write to it failed");
  const int n = ++commits_;
  const std::string part = part_path(path_), prev = prev_path(path_);
  flush(work_.id(), part);
  fault_point(n, "flushed");
  if (other_.valid()) {  // keep the published file at a second name until the rename
    std::error_code ec;
    fs::remove(prev, ec);
    fs::create_hard_link(path_, prev, ec);
    if (ec) rename_or_throw(path_, prev);  // a file system without hard links
  }
  fault_point(n, "linked");
  rename_or_throw(part, path_);  // the commit: atomic on POSIX file systems
  fault_point(n, "published");
  if (other_.valid()) rename_or_throw(prev, part);

  // The old copy (now at part; none at a new file's first commit) becomes the working
  // copy: the same edits again, or a copy of the published file, whichever costs less.
  const bool copy = !other_.valid() || (forced_update() == Update::None
                                            ? static_cast<double>(fs::file_size(path_)) * copy_s_per_byte_ < edit_s_
                                            : forced_update() == Update::Copy);
  last_update_ = copy ? Update::Copy : Update::Replay;
  auto edits = std::make_shared<const std::vector<Edit>>(std::move(pending_));
  pending_.clear();
  edit_s_ = 0.0;
  const hid_t stale = other_.release();
  other_ = std::move(work_);
  auto task = [edits, stale, copy, path = path_, part, fapl = fapl_.id(), n]() -> Updated {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // HDF5's error printing is per thread
    const bool fault = fault_at(n, "updating");
    if (!copy) {
      for (size_t k = 0; k < edits->size(); ++k) {
        if (fault && 2 * k + 1 >= edits->size()) {
          flush(stale, part);
          garble_and_die(part);
        }
        (*edits)[k](stale);
      }
      flush(stale, part);
      return {stale, -1.0};
    }
    if (stale >= 0) h5::check_status(H5Fclose(stale), "closing " + part);
    const auto t0 = Clock::now();
    copy_over(path, part);
    // The rate of a copy of a megabyte or more (smaller ones measure the fixed cost).
    const double bytes = static_cast<double>(fs::file_size(part));
    const double s_per_byte = bytes >= 1e6 ? seconds_since(t0) / bytes : -1.0;
    if (fault) garble_and_die(part);
    return {h5::check(H5Fopen(part.c_str(), H5F_ACC_RDWR, fapl), "cannot open " + part), s_per_byte};
  };
  if (hdf5_is_threadsafe()) {
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
  commit();
  wait_update();
  // The working copy, equal to the published one, closed first and renamed over it:
  // the file left at the path is one HDF5 closed cleanly.
  work_ = h5::Handle();
  rename_or_throw(part_path(path_), path_);
  other_ = h5::Handle();
}

}  // namespace strata
