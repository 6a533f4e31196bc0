#pragma once
// One writer per results file. The results file itself is left free for readers
// (host/committed_h5_file.hpp: the writer never holds the published file open), so
// the writer takes an advisory lock (flock) on `<file>.lock` for its whole life,
// with a line naming it (pid, host, start time). A second run writing the same file
// is refused with that line, and `strata info` reads it to say a run is going on.
// A killed writer's lock goes with its process; the file it leaves is taken over.
// Both work on the file a path names: through a symbolic link, the link's target.
#include <optional>
#include <stdexcept>
#include <string>

namespace strata {

// Another process holds the lock.
class FileInUse : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An exclusive flock on an existing file, held while this object lives: a writer's
// lock file (WriterLock below), and the working copy of host/committed_h5_file.hpp,
// so that a reader that found that file at the path just before it was renamed away
// is refused (and opens again), not shown a file being written.
class FileClaim {
 public:
  enum class Outcome { Taken, HeldByAnother, NoLocksHere };
  // Throws std::runtime_error when the file does not open for writing.
  static FileClaim take(const std::string& path, Outcome& outcome);

  FileClaim() = default;
  FileClaim(FileClaim&& o) noexcept;
  FileClaim& operator=(FileClaim&& o) noexcept;
  FileClaim(const FileClaim&) = delete;
  FileClaim& operator=(const FileClaim&) = delete;
  ~FileClaim() { release(); }
  bool held() const { return fd_ >= 0; }
  void release() noexcept;

 private:
  friend class WriterLock;
  explicit FileClaim(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The writer's lock on `<file>.lock` (the top of this file).
class WriterLock {
 public:
  // Takes the lock for the results file at `path`. Throws FileInUse naming the
  // holder, std::runtime_error when the lock file cannot be made. Where the file
  // system has no flock, no lock is taken (as HDF5's own locking there).
  static WriterLock acquire(const std::string& path);
  // The holder's line ("pid 123 on node7 since 2026-12-07T16:40:00Z") while a
  // writer holds the lock of `path`; nothing otherwise.
  static std::optional<std::string> holder(const std::string& path);
  static std::string lock_path(const std::string& path) { return resolved_path(path) + ".lock"; }
  // The path of the file `path` names, symbolic links resolved (the file need not
  // exist): the same file reached by two spellings gets one lock.
  static std::string resolved_path(const std::string& path);

  WriterLock() = default;
  WriterLock(WriterLock&& o) noexcept = default;
  WriterLock& operator=(WriterLock&& o) noexcept;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock() { release(); }

  // Removes the lock file and lets go.
  void release() noexcept;

 private:
  std::string lock_path_;
  FileClaim claim_;  // the flock on lock_path_
};

}  // namespace strata
