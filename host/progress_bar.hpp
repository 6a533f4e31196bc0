#pragma once
// A one-line progress bar on stderr, drawn only when stderr is a terminal.
#include <chrono>
#include <string>

namespace strata {

class ProgressBar {
 public:
  ProgressBar(int total, std::string what);
  void update(int done);
  void finish();

 private:
  int total_;
  std::string what_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace strata
