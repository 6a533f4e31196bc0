#include "optimizer/batch_gate.hpp"

namespace strata {

BatchGate::BatchGate(int n) : slots_(n) {}

void BatchGate::advance_turn() {
  const int n = static_cast<int>(slots_.size());
  while (turn_ < n && slots_[turn_].state != State::NotStarted && slots_[turn_].state != State::Running) ++turn_;
  if (turn_ >= n) {
    batch_ready_ = true;
    gate_cv_.notify_one();
  } else {
    slots_[turn_].cv.notify_one();
  }
}

void BatchGate::start(int k) {
  std::unique_lock<std::mutex> lock(mu_);
  slots_[k].cv.wait(lock, [&] { return turn_ == k; });
  slots_[k].state = State::Running;
}

std::vector<Evaluation> BatchGate::submit(int k, std::vector<DesignPoint> points) {
  std::unique_lock<std::mutex> lock(mu_);
  Slot& s = slots_[k];
  s.request = std::move(points);
  s.state = State::Parked;
  ++turn_;
  advance_turn();
  s.cv.wait(lock, [&] { return s.state == State::Running && turn_ == k; });
  std::vector<Evaluation> out = std::move(s.result);
  s.result.clear();
  if (s.refused) return {};
  return out;
}

void BatchGate::finish(int k) {
  std::unique_lock<std::mutex> lock(mu_);
  slots_[k].state = State::Done;
  if (turn_ == k) {
    ++turn_;
    advance_turn();
  }
}

void BatchGate::run(const std::function<std::vector<Evaluation>(const std::vector<DesignPoint>&)>& evaluate,
                    const std::function<long()>& budget_left) {
  const int n = static_cast<int>(slots_.size());
  {
    std::unique_lock<std::mutex> lock(mu_);
    turn_ = 0;
    advance_turn();
  }
  while (true) {
    std::vector<DesignPoint> batch;
    std::vector<int> owner;
    {
      std::unique_lock<std::mutex> lock(mu_);
      gate_cv_.wait(lock, [&] { return batch_ready_; });
      batch_ready_ = false;
      long budget = failure_ ? 0 : budget_left();  // after a failed batch every request is refused
      int parked = 0;
      for (const Slot& s : slots_) parked += s.state == State::Parked;
      for (int k = 0; k < n; ++k) {
        Slot& s = slots_[k];
        if (s.state != State::Parked) continue;
        s.refused = static_cast<long>(s.request.size()) > budget;
        if (s.refused) continue;
        budget -= static_cast<long>(s.request.size());
        for (auto& p : s.request) {
          batch.push_back(p);
          owner.push_back(k);
        }
      }
      if (batch.empty()) {
        bool any_parked = false;
        for (Slot& s : slots_) any_parked |= s.state == State::Parked;
        if (!any_parked) return;  // every optimiser has finished
      } else {
        parked_per_batch_.push_back(parked);
        points_per_batch_.push_back(static_cast<int>(batch.size()));
      }
    }
    std::vector<Evaluation> results;
    if (!batch.empty()) {
      try {
        results = evaluate(batch);
        ++batches_;
        points_ += static_cast<long>(batch.size());
      } catch (...) {  // kept for the caller; the optimisers are stopped, not left waiting
        failure_ = std::current_exception();
      }
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (failure_)
      for (int k : owner) slots_[k].refused = true;
    for (size_t i = 0; i < results.size(); ++i) slots_[owner[i]].result.push_back(results[i]);
    // Release the parked optimisers one at a time, in index order.
    for (Slot& s : slots_)
      if (s.state == State::Parked) s.state = State::Running;
    turn_ = 0;
    advance_turn();
  }
}

void BatchGate::rethrow_failure() const {
  if (failure_) std::rethrow_exception(failure_);
}

}  // namespace strata
