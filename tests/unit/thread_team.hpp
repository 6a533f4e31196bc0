#pragma once
// A GPU warp emulated on the CPU for tests of the team code paths (kernels/team.hpp):
// n std::threads share one variant, sync() is a barrier, and reductions go through a
// slot per lane that every lane reads in lane order (the same value on every lane).
// The threads really run concurrently, so a missing barrier in the numerics shows up
// as wrong or unrepeatable results without a GPU.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <functional>
#include <thread>
#include <vector>

namespace strata::test {

class ThreadTeamShared {
 public:
  explicit ThreadTeamShared(int lanes) : lanes_(lanes), slots_(lanes) {}
  int lanes() const { return lanes_; }
  // Sense-reversing barrier; waiting lanes yield (more lanes than cores is the norm here).
  void barrier() {
    const long generation = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == lanes_) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.store(generation + 1, std::memory_order_release);
    } else {
      const auto t0 = std::chrono::steady_clock::now();
      for (long spins = 1; generation_.load(std::memory_order_acquire) == generation; ++spins) {
        std::this_thread::yield();
        if (spins % 4096 == 0 && std::chrono::steady_clock::now() - t0 > std::chrono::seconds(20)) {
          // Lanes that took different paths wait at different barriers for ever.
          std::fprintf(stderr, "thread team: a lane waited 20 s at a barrier; the lanes diverged\n");
          std::abort();
        }
      }
    }
  }
  template <class Op>
  double all_reduce(int lane, double x, Op op) {
    barrier();  // every lane has read the previous reduction's slots
    slots_[lane] = x;
    barrier();
    double r = slots_[0];
    for (int k = 1; k < lanes_; ++k) r = op(r, slots_[k]);
    return r;
  }

 private:
  int lanes_;
  std::vector<double> slots_;
  std::atomic<int> arrived_{0};
  std::atomic<long> generation_{0};
};

struct ThreadTeam {
  ThreadTeamShared* shared;
  int lane;
  int rank() const { return lane; }
  int size() const { return shared->lanes(); }
  bool leader() const { return lane == 0; }
  void sync() const { shared->barrier(); }
  double max(double x) const { return shared->all_reduce(lane, x, [](double a, double b) { return std::fmax(a, b); }); }
  double min(double x) const { return shared->all_reduce(lane, x, [](double a, double b) { return std::fmin(a, b); }); }
  double sum(double x) const { return shared->all_reduce(lane, x, [](double a, double b) { return a + b; }); }
  bool any(bool b) const { return max(b ? 1.0 : 0.0) > 0.0; }
};

// Runs body(team) on `lanes` threads, one team, and waits for all of them.
inline void run_thread_team(int lanes, const std::function<void(const ThreadTeam&)>& body) {
  ThreadTeamShared shared(lanes);
  std::vector<std::thread> threads;
  for (int lane = 0; lane < lanes; ++lane)
    threads.emplace_back([&, lane] { body(ThreadTeam{&shared, lane}); });
  for (std::thread& t : threads) t.join();
}

}  // namespace strata::test
