#include "host/cpu_backend.hpp"

#include <omp.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kernels/dfn_protocol.hpp"

namespace strata {

RunStats run_batch_cpu(Batch& batch, int threads, const std::function<void(int)>& progress,
                       const std::function<bool()>& cancelled) {
  RunStats stats;
  stats.threads = threads > 0 ? threads : omp_get_max_threads();
  batch.rebind_tables();
  std::atomic<int> finished{0};
  // The monitor wakes when the batch ends, not at its next tick: short batches (MPI
  // slices, optimiser batches) would otherwise wait up to 200 ms for it.
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::thread monitor;
  if (progress)
    monitor = std::thread([&] {
      std::unique_lock<std::mutex> lock(mu);
      while (!stop) {
        progress(finished.load());
        cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return stop; });
      }
    });
  const auto t0 = std::chrono::steady_clock::now();
  const DfnShape& S = batch.shape;
  const SharedTables tables = batch.tables;
  const ProtocolStep* steps = batch.steps.data();
  const int n_steps = static_cast<int>(batch.steps.size());
  // Variants finish at different times: hand them out dynamically. In the
  // interleaved layout neighbouring variants share cache lines, so threads take
  // runs of 64 variants to avoid false sharing.
  const int chunk = batch.layout == Layout::Interleaved ? 64 : 1;
  stats.ran.assign(batch.n_variants, 0);
#pragma omp parallel for schedule(dynamic, chunk) num_threads(stats.threads)
  for (int v = 0; v < batch.n_variants; ++v) {
    if (cancelled && cancelled()) continue;
    stats.ran[v] = 1;
    run_protocol(S, tables, batch.view(v), steps, n_steps, batch.out_view(v), batch.trajectory_spec,
                 batch.trajectory_view(v));
    finished.fetch_add(1);
  }
  stats.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  cv.notify_all();
  if (monitor.joinable()) monitor.join();
  if (progress) progress(finished.load());
  return stats;
}

}  // namespace strata
