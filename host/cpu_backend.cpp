#include "host/cpu_backend.hpp"

#include <omp.h>

#include <chrono>
#include <thread>

#include "kernels/dfn_protocol.hpp"

namespace strata {

RunStats run_batch_cpu(Batch& batch, int threads, const std::function<void(int)>& progress,
                       const std::function<bool()>& cancelled) {
  RunStats stats;
  stats.threads = threads > 0 ? threads : omp_get_max_threads();
  batch.rebind_tables();
  std::atomic<int> finished{0};
  std::atomic<bool> stop{false};
  std::thread monitor;
  if (progress)
    monitor = std::thread([&] {
      while (!stop.load()) {
        progress(finished.load());
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
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
  stop = true;
  if (monitor.joinable()) monitor.join();
  if (progress) progress(finished.load());
  return stats;
}

}  // namespace strata
