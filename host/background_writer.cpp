#include "host/background_writer.hpp"

#include <chrono>

#include <hdf5.h>

#include "host/thread_affinity.hpp"

namespace strata {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
}  // namespace

BackgroundWriter::~BackgroundWriter() {
  if (!in_flight_.valid()) return;
  try {
    in_flight_.get();
  } catch (...) {  // the run is already ending on another error
  }
}

void BackgroundWriter::drain() {
  if (!in_flight_.valid()) return;
  const auto t0 = Clock::now();
  const double took = in_flight_.get();  // invalidates the future even when it throws
  waited_s_ += seconds_since(t0);
  write_s_ += took;
}

void BackgroundWriter::submit(std::function<void()> writes) {
  drain();
  in_flight_ = std::async(std::launch::async, [writes = std::move(writes)]() {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // HDF5's error printing is per thread; strata reports errors
    unpin_this_thread();  // not OpenMP thread 0's core, which the caller may be bound to
    const auto t0 = Clock::now();
    writes();
    return seconds_since(t0);
  });
}

}  // namespace strata
