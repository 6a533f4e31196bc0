#pragma once
// The batching gate between NLopt (one point at a time, one thread per optimiser)
// and the engine (thousands of points at once). Each optimiser's objective call
// parks its points at the gate; when every live optimiser is parked, the gate
// evaluates all of them as one batch and releases them. Optimisers run one at a
// time between batches, in index order, so a campaign is deterministic whatever
// the thread timing (NLopt's stochastic algorithms draw from one generator).
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <vector>

#include "optimizer/design_point.hpp"

namespace strata {

class BatchGate {
 public:
  explicit BatchGate(int n_optimizers);

  // Called by optimiser k from its thread: parks the points and blocks until the
  // batch holding them is evaluated. Returns an empty vector when the campaign's
  // budget is spent (the optimiser should stop).
  std::vector<Evaluation> submit(int k, std::vector<DesignPoint> points);
  // Called by optimiser k's thread when it ends (normally or by a stop).
  void finish(int k);
  // Called by optimiser k's thread before its first call, to wait for its turn.
  void start(int k);

  // Runs the gate on the calling thread until every optimiser has finished.
  // evaluate gets the parked points in optimiser order; budget_left() says how many
  // more points may be evaluated (requests beyond it are refused). When evaluate
  // throws, that batch and every later request are refused (the optimisers stop) and
  // the exception is kept for rethrow_failure().
  void run(const std::function<std::vector<Evaluation>(const std::vector<DesignPoint>&)>& evaluate,
           const std::function<long()>& budget_left);

  // Rethrows what evaluate threw, if it did; call after the optimiser threads joined.
  void rethrow_failure() const;

  long batches() const { return batches_; }
  long points() const { return points_; }
  // Per evaluated batch: optimisers parked at the gate, and points evaluated.
  const std::vector<int>& parked_per_batch() const { return parked_per_batch_; }
  const std::vector<int>& points_per_batch() const { return points_per_batch_; }

 private:
  enum class State { NotStarted, Running, Parked, Done };
  struct Slot {
    std::condition_variable cv;  // one per optimiser: a hand-over wakes only the next one
    State state = State::NotStarted;
    std::vector<DesignPoint> request;
    std::vector<Evaluation> result;
    bool refused = false;
  };
  // Lets the next optimiser (in index order) run; when none is left to run and
  // none runs, the batch is ready. Caller holds the lock.
  void advance_turn();

  std::mutex mu_;
  std::condition_variable gate_cv_;  // the gate thread waits here for a full batch
  std::vector<Slot> slots_;
  int turn_ = 0;            // the optimiser allowed to run now (n: none)
  bool batch_ready_ = false;
  long batches_ = 0, points_ = 0;
  std::vector<int> parked_per_batch_, points_per_batch_;
  std::exception_ptr failure_;
};

}  // namespace strata
