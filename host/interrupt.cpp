#include "host/interrupt.hpp"

#include <time.h>

#include <csignal>
#include <cstdlib>

namespace strata {

namespace {
volatile std::sig_atomic_t g_signal = 0;
timespec g_first_signal{};  // written by the handler only, before g_signal is set

// A second signal this soon after the first is the same request delivered twice:
// GNU timeout, a terminal's Ctrl-C and Slurm's scancel each signal the process and
// then its process group, microseconds apart. Only a later one means "give up now".
constexpr long long kSameRequestWindow_ns = 1'000'000'000;

extern "C" void on_signal(int sig) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);  // async-signal-safe (POSIX)
  if (g_signal == 0) {
    g_first_signal = now;
    g_signal = sig;
    return;
  }
  const long long since_ns = (long long)(now.tv_sec - g_first_signal.tv_sec) * 1'000'000'000LL +
                             (now.tv_nsec - g_first_signal.tv_nsec);
  if (since_ns >= kSameRequestWindow_ns) std::_Exit(128 + sig);  // a second request: give up at once
}
}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool interrupt_requested() { return g_signal != 0; }
int interrupt_signal() { return static_cast<int>(g_signal); }

}  // namespace strata
