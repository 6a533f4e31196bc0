#pragma once
// MPI mode's runner (rank 0) and the loop of the other ranks. Rank 0 broadcasts each
// batch (the variant specs: every rank loaded the same scenario) and the slice sizes;
// every rank, rank 0 too, runs its contiguous slice on its own backend; the encoded
// outcomes are sent to rank 0 (the sizes gathered, then each rank's bytes point to point) and returned in request
// order. Slices follow each rank's throughput in the previous batch. Only rank 0
// prints and writes files.
#include <memory>
#include <string>
#include <vector>

#include "host/mpi/mpi_session.hpp"
#include "host/slice_plan.hpp"
#include "host/variant_runner.hpp"

namespace strata {

class MpiVariantRunner : public VariantRunner {
 public:
  // local: rank 0's own runner (the CPU backend, or CUDA on the GPU its local rank chose).
  MpiVariantRunner(MpiSession& session, std::unique_ptr<VariantRunner> local);
  ~MpiVariantRunner() override;  // tells the other ranks to stop
  RunOutcome run(const RunRequest& request, const std::function<void(int)>& progress = {}) override;
  std::string device_description() const override;
  int threads() const override { return local_->threads(); }
  // "MPI: P ranks, N batches; communication x% of batch time, waiting for slower ranks y%".
  std::string summary() const override;
  // Rank 0's runner's note for a slice of a batch (about batch_size / ranks variants).
  std::string batch_note(long batch_size) const override;

  double batch_s() const { return batch_s_; }
  double communication_s() const { return comm_s_; }
  double wait_s() const { return wait_s_; }

 private:
  MpiSession& session_;
  std::unique_ptr<VariantRunner> local_;
  std::vector<std::string> rank_devices_;  // each rank's runner's description, by rank
  ThroughputTracker throughput_;
  double batch_s_ = 0.0, comm_s_ = 0.0, bcast_s_ = 0.0, wait_s_ = 0.0;
  double longest_batch_s_ = 0.0;  // for the wait after a stop signal (grace_after_signal_s)
  double bytes_gathered_ = 0.0;
  long batches_ = 0;
};

// "MPI: P ranks; ranks 0-3: <description>; rank 4: <another>": the ranks grouped by
// their runners' descriptions, in order of first rank.
std::string describe_rank_devices(const std::vector<std::string>& by_rank);

// Tells the other ranks to leave run_mpi_worker (idempotent; rank 0, also when no
// MpiVariantRunner was made because the command stopped early).
void stop_mpi_workers(MpiSession& session);

// The loop of ranks 1..P-1: waits for a batch from rank 0, runs its slice on runner,
// sends the outcome back, until told to stop. runner is null when this rank could not
// load the scenario (it then answers every batch with that error). Returns 0.
int run_mpi_worker(MpiSession& session, VariantRunner* runner, const std::string& load_error);

}  // namespace strata
