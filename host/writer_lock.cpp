#include "host/writer_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <thread>
#include <utility>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace strata {

namespace {

// File systems that do not implement flock (some NFS and Lustre mounts).
bool no_locks_here(int err) { return err == ENOSYS || err == EOPNOTSUPP || err == ENOLCK; }

std::string read_all(int fd) {
  std::string text;
  char buf[256];
  for (off_t at = 0;;) {
    const ssize_t n = pread(fd, buf, sizeof buf, at);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    at += n;
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text.empty() ? "a process that has not yet said who it is" : text;
}

std::string this_writer() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return fmt::format("pid {} on {} since {:%Y-%m-%dT%H:%M:%SZ}\n", getpid(), host,
                     fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
}

std::string in_use_message(const std::string& path, const std::string& who, const std::string& lp) {
  return fmt::format("{} is being written by another run ({}; its lock: {})", path, who, lp);
}

// A lock file another user left opens read-only for us: held, FileInUse; left by a
// killed run, it goes (true: make it afresh). False: it does not open at all.
bool take_over_foreign_lock_file(const std::string& path, const std::string& lp) {
  const int fd = ::open(lp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const std::string who = read_all(fd);
    ::close(fd);
    throw FileInUse(in_use_message(path, who, lp));
  }
  const bool gone = unlink(lp.c_str()) == 0;
  ::close(fd);
  if (!gone)
    throw std::runtime_error(fmt::format("cannot take {}: a lock file another user's killed run left, which this "
                                         "user may not remove; remove it",
                                         lp));
  return true;
}

bool same_file(int fd, const std::string& path) {
  struct stat a {}, b {};
  return fstat(fd, &a) == 0 && stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

std::string WriterLock::resolved_path(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
  return ec || p.empty() ? path : p.string();
}

WriterLock WriterLock::acquire(const std::string& path) {
  WriterLock lock;
  const std::string lp = lock_path(path);
  // A reader asking who writes (holder) holds the lock shared for a moment: a few tries.
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int fd = ::open(lp.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EACCES && take_over_foreign_lock_file(path, lp)) continue;
    if (fd < 0) throw std::runtime_error(fmt::format("cannot create {}: {}", lp, std::strerror(errno)));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (no_locks_here(err)) {
        ::close(fd);
        return lock;
      }
      if (err != EWOULDBLOCK) {
        ::close(fd);
        throw std::runtime_error(fmt::format("cannot lock {}: {}", lp, std::strerror(err)));
      }
      if (attempt + 1 == 20) {
        const std::string who = read_all(fd);
        ::close(fd);
        throw FileInUse(in_use_message(path, who, lp));
      }
      ::close(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    // The last holder unlinks the lock file as it lets go: a lock taken on a file
    // that is no longer at lp is no lock (take lp again).
    if (!same_file(fd, lp)) {
      ::close(fd);
      continue;
    }
    const std::string who = this_writer();
    if (ftruncate(fd, 0) != 0 || pwrite(fd, who.data(), who.size(), 0) != static_cast<ssize_t>(who.size())) {
      const int err = errno;
      unlink(lp.c_str());
      ::close(fd);
      throw std::runtime_error(fmt::format("cannot write {}: {}", lp, std::strerror(err)));
    }
    lock.lock_path_ = lp;
    lock.claim_ = FileClaim(fd);
    return lock;
  }
  throw std::runtime_error("cannot take " + lp + ": it keeps being replaced");
}

std::optional<std::string> WriterLock::holder(const std::string& path) {
  const int fd = ::open(lock_path(path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> who;
  if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) who = read_all(fd);
  } else {
    flock(fd, LOCK_UN);
  }
  ::close(fd);
  return who;
}

WriterLock& WriterLock::operator=(WriterLock&& o) noexcept {
  if (this != &o) {
    release();
    lock_path_ = std::move(o.lock_path_);
    claim_ = std::move(o.claim_);
  }
  return *this;
}

FileClaim FileClaim::take(const std::string& path, Outcome& outcome) {
  FileClaim claim;
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);  // read-write: NFS emulates flock by fcntl locks
  if (fd < 0) throw std::runtime_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
    outcome = Outcome::Taken;
    claim.fd_ = fd;
    return claim;
  }
  const int err = errno;
  ::close(fd);
  // Any other failure says nothing about readers: take it as held.
  outcome = no_locks_here(err) ? Outcome::NoLocksHere : Outcome::HeldByAnother;
  return claim;
}

FileClaim::FileClaim(FileClaim&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}

FileClaim& FileClaim::operator=(FileClaim&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

void FileClaim::release() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void WriterLock::release() noexcept {
  if (!claim_.held()) return;
  unlink(lock_path_.c_str());  // before letting go, so that no one locks a file about to vanish
  claim_.release();
}

}  // namespace strata
