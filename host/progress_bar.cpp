#include "host/progress_bar.hpp"

#include <unistd.h>

#include <cstdio>

namespace strata {

ProgressBar::ProgressBar(int total, std::string what)
    : total_(total), what_(std::move(what)), enabled_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(int done) {
  if (!enabled_ || total_ <= 0) return;
  const double f = static_cast<double>(done) / total_;
  const int width = 40, filled = static_cast<int>(f * width);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string bar(filled, '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\r%s [%s] %d/%d %s  %.1f s", what_.c_str(), bar.c_str(), done, total_, "variants", s);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (enabled_) std::fprintf(stderr, "\n");
}

}  // namespace strata
