#include "host/background_writer.hpp"

#include <chrono>

#ifdef __linux__
#include <sched.h>
#endif

#include <hdf5.h>

namespace strata {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

#ifdef __linux__
// The cores the process may use, read before main(), so before OpenMP pins the main
// thread (OMP_PROC_BIND, as the SLURM scripts set it) to one core: a thread started
// from the main thread inherits its mask, and the writes would then share OpenMP
// thread 0's core instead of using a free one.
cpu_set_t process_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) CPU_ZERO(&set);
  return set;
}
const cpu_set_t kProcessCores = process_cores();

void use_every_core_of_the_process() {
  if (CPU_COUNT(&kProcessCores) > 0) sched_setaffinity(0, sizeof kProcessCores, &kProcessCores);  // 0: this thread
}
#else
void use_every_core_of_the_process() {}
#endif
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
    use_every_core_of_the_process();
    const auto t0 = Clock::now();
    writes();
    return seconds_since(t0);
  });
}

}  // namespace strata
