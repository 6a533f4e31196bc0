#include "host/thread_affinity.hpp"

#ifdef __linux__
#include <sched.h>
#endif

namespace strata {

#ifdef __linux__
namespace {
// Read before main(), so before OpenMP binds the main thread.
cpu_set_t process_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) CPU_ZERO(&set);
  return set;
}
const cpu_set_t kProcessCores = process_cores();
}  // namespace

void unpin_this_thread() {
  if (CPU_COUNT(&kProcessCores) > 0) sched_setaffinity(0, sizeof kProcessCores, &kProcessCores);  // 0: this thread
}
#else
void unpin_this_thread() {}
#endif

}  // namespace strata
