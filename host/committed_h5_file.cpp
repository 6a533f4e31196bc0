#include "host/committed_h5_file.hpp"

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <utility>

namespace strata {

namespace fs = std::filesystem;

namespace {

std::string part_path(const std::string& path) { return path + ".part"; }
std::string prev_path(const std::string& path) { return path + ".prev"; }

// Fault injection for the tests of this file's promise (tests/unit/test_run_safety.cpp):
// STRATA_FAULT_KILL_IN_COMMIT="<n>:<stage>" sends the process SIGKILL in its n-th
// commit (1-based) at one stage: "flushed" (working copy flushed, nothing renamed),
// "linked" (old file linked aside), "published" (working copy renamed to the path),
// "replaying" (half the edits replayed on the other copy, which is then overwritten
// with garbage to stand for a kill that damaged it).
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

void fault_point(int commit, const char* stage) {
  const FaultPlan& p = fault_plan();
  if (p.commit == commit && p.stage == stage) raise(SIGKILL);
}

void scribble(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  const std::string garbage(4096, '\xA5');
  f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
}

void flush(hid_t file, const std::string& what) {
  h5::check_status(H5Fflush(file, H5F_SCOPE_GLOBAL), "flushing " + what);
}

void remove_quietly(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
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
  c.published_ = true;
  remove_quietly(prev_path(path));
  std::error_code ec;
  fs::copy_file(path, part_path(path), fs::copy_options::overwrite_existing, ec);
  if (ec) throw h5::H5Error("cannot copy " + path + " to " + part_path(path) + ": " + ec.message());
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
    published_ = o.published_;
    broken_ = o.broken_;
    commits_ = o.commits_;
  }
  return *this;
}

CommittedH5File::~CommittedH5File() { release(); }

void CommittedH5File::release() noexcept {
  if (!work_.valid()) return;
  try {
    if (!broken_) commit();
  } catch (...) {
  }
  work_ = h5::Handle();
  other_ = h5::Handle();
  remove_quietly(part_path(path_));  // the working copy: equal to the published file, or damaged
  remove_quietly(prev_path(path_));
}

void CommittedH5File::edit(Edit e) {
  if (broken_) throw h5::H5Error(path_ + ": not written, since an earlier write to it failed");
  try {
    e(work_.id());
  } catch (...) {
    broken_ = true;
    throw;
  }
  pending_.push_back(std::move(e));
}

void CommittedH5File::commit() {
  if (broken_) throw h5::H5Error(path_ + ": not committed, since an earlier write to it failed");
  if (!work_.valid() || (pending_.empty() && published_)) return;
  const int n = ++commits_;
  const std::string part = part_path(path_), prev = prev_path(path_);
  flush(work_.id(), part);
  fault_point(n, "flushed");
  bool linked = false;
  if (other_.valid()) {  // keep the published file at a second name until the rename
    std::error_code ec;
    fs::remove(prev, ec);
    fs::create_hard_link(path_, prev, ec);
    linked = !ec;  // a file system without hard links: renamed below instead
    if (!linked) {
      fs::rename(path_, prev, ec);
      if (ec) throw h5::H5Error("cannot rename " + path_ + " to " + prev + ": " + ec.message());
    }
  }
  fault_point(n, "linked");
  std::error_code ec;
  fs::rename(part, path_, ec);  // the commit: atomic on POSIX file systems
  if (ec) throw h5::H5Error("cannot rename " + part + " to " + path_ + ": " + ec.message());
  published_ = true;
  fault_point(n, "published");
  if (other_.valid()) {
    fs::rename(prev, part, ec);
    if (ec) throw h5::H5Error("cannot rename " + prev + " to " + part + ": " + ec.message());
    replay_on_other();
  } else {  // the first commit of a new file: its other copy starts as a copy
    fs::copy_file(path_, part, fs::copy_options::overwrite_existing, ec);
    if (ec) throw h5::H5Error("cannot copy " + path_ + " to " + part + ": " + ec.message());
    if (fault_plan().commit == n && fault_plan().stage == "replaying") {
      scribble(part);
      raise(SIGKILL);
    }
    other_ = h5::Handle(h5::check(H5Fopen(part.c_str(), H5F_ACC_RDWR, fapl_.id()), "cannot open " + part));
  }
  pending_.clear();
  std::swap(work_, other_);
}

void CommittedH5File::replay_on_other() {
  const std::string part = part_path(path_);
  try {
    const bool fault = fault_plan().commit == commits_ && fault_plan().stage == "replaying";
    for (size_t k = 0; k < pending_.size(); ++k) {
      if (fault && 2 * k + 1 >= pending_.size()) {
        flush(other_.id(), part);
        scribble(part);
        raise(SIGKILL);
      }
      pending_[k](other_.id());
    }
    flush(other_.id(), part);
  } catch (...) {
    broken_ = true;  // the published file is whole; the working copy is not
    throw;
  }
}

void CommittedH5File::close() {
  if (!work_.valid()) return;
  commit();
  // The working copy, equal to the published one, closed first and renamed over it:
  // the file left at the path is one HDF5 closed cleanly.
  work_ = h5::Handle();
  std::error_code ec;
  fs::rename(part_path(path_), path_, ec);
  other_ = h5::Handle();
  if (ec) throw h5::H5Error("cannot rename " + part_path(path_) + " to " + path_ + ": " + ec.message());
}

}  // namespace strata
