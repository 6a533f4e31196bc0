#pragma once
// The one place a batch of variants is handed to a backend and its results come
// back: simulate, optimize and fit describe a batch as variant specs (applied to the
// scenario every process loaded) and get per-variant results, in request order.
// LocalVariantRunner runs them on this process's CPU backend; the MPI runner
// (host/mpi/) splits them over ranks. A variant's result does not depend on which
// batch or process ran it, so every runner gives the same population.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host/cpu_backend.hpp"
#include "host/results.hpp"
#include "host/results_store.hpp"
#include "host/scenario.hpp"
#include "kernels/trajectory.hpp"

namespace strata {

struct RunRequest {
  std::vector<VariantSpec> specs;  // applied to the scenario's base without its variant list
  std::vector<int64_t> ids;        // design id of each spec (VariantResult::id, TrajectoryData::design_id)
  bool record = false;             // record trajectories with trajectory_spec
  TrajectorySpec trajectory_spec;
  bool name_trajectories = false;  // trajectories carry the scenario's material names and [output] profiles
  bool cancellable = false;        // variants not started when a SIGINT/SIGTERM arrives are skipped
};

struct RunOutcome {
  std::vector<VariantResult> results;        // by request order
  std::vector<char> ran;                     // 1: ran; 0: skipped after a signal
  std::vector<TrajectoryData> trajectories;  // by request order when recorded, else empty
  BatchTotals totals;                        // time steps, Newton iterations, ok/failed of the variants that ran
  double wall_s = 0.0;                       // time in the backend
};

class VariantRunner {
 public:
  virtual ~VariantRunner() = default;
  // Runs the request. progress (optional) gets the number of finished variants.
  // Throws std::runtime_error when the batch cannot be built (message names why).
  virtual RunOutcome run(const RunRequest& request, const std::function<void(int)>& progress = {}) = 0;
  // For /meta device: "CPU: <model>, N threads", or the ranks of an MPI run.
  virtual std::string device_description() const = 0;
  // CPU threads of this process's backend.
  virtual int threads() const = 0;
  // A line for the end of a run (MPI: communication share), or "".
  virtual std::string summary() const { return ""; }
  // A line for the start of a run whose batches hold batch_size variants, where this
  // runner would run them elsewhere than its device says (CUDA: on the CPU), or "".
  virtual std::string batch_note(long /*batch_size*/) const { return ""; }
};

// This process's CPU backend (OpenMP threads).
class LocalVariantRunner : public VariantRunner {
 public:
  // threads <= 0: all cores.
  LocalVariantRunner(const Scenario& base, int threads, Layout layout);
  RunOutcome run(const RunRequest& request, const std::function<void(int)>& progress = {}) override;
  std::string device_description() const override;
  int threads() const override { return threads_; }

 protected:
  // Runs the built batches of a request, one per shape (the CPU backend here, all in
  // one pool; CudaVariantRunner overrides it; a batch's layout says where it runs).
  // RunStats::ran and progress count over the batches in order.
  virtual RunStats run_batches(std::vector<Batch>& batches, const std::function<void(int)>& progress,
                               const std::function<bool()>& cancelled);
  // The layout to build a batch of one shape in (the runner's, here); `record`: it
  // carries trajectory records.
  virtual Layout layout_for(size_t batch_variants, bool record) const;

 private:
  Scenario light_;  // the base without its variant list and text
  std::vector<std::string> material_names_;
  std::vector<ProfileRequest> profiles_;
  int threads_;
  Layout layout_;
};

// How a command gets its runner (SimulateOptions::make_runner); empty: a LocalVariantRunner.
using RunnerFactory = std::function<std::unique_ptr<VariantRunner>(const Scenario& base, int threads, Layout layout)>;
std::unique_ptr<VariantRunner> make_runner(const RunnerFactory& factory, const Scenario& base, int threads,
                                           Layout layout);

}  // namespace strata
