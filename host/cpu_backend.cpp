#include "host/cpu_backend.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kernels/dfn_protocol.hpp"

namespace strata {

RunStats run_batch_cpu(Batch& batch, int threads, const std::function<void(int)>& progress,
                       const std::function<bool()>& cancelled) {
  return run_batches_cpu({&batch}, threads, progress, cancelled);
}

RunStats run_batches_cpu(const std::vector<Batch*>& batches, int threads, const std::function<void(int)>& progress,
                         const std::function<bool()>& cancelled) {
  RunStats stats;
  stats.threads = threads > 0 ? threads : omp_get_max_threads();
  // One pool of variants: first[b] is batch b's first index in it.
  std::vector<int> first(batches.size() + 1, 0);
  bool interleaved = false;
  for (size_t b = 0; b < batches.size(); ++b) {
    batches[b]->rebind_tables();
    first[b + 1] = first[b] + batches[b]->n_variants;
    interleaved = interleaved || batches[b]->layout == Layout::Interleaved;
  }
  const int n_pool = first.back();
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
  // Variants finish at different times: hand them out dynamically, from all batches at
  // once, so that batches smaller than the thread count (an optimiser batch split by
  // shape) neither leave cores idle nor wait for each other. In the interleaved layout
  // neighbouring variants share cache lines, so threads take runs of 64 variants to
  // avoid false sharing.
  const int chunk = interleaved ? 64 : 1;
  stats.ran.assign(n_pool, 0);
#pragma omp parallel for schedule(dynamic, chunk) num_threads(stats.threads)
  for (int i = 0; i < n_pool; ++i) {
    if (cancelled && cancelled()) continue;
    const size_t b = static_cast<size_t>(std::upper_bound(first.begin(), first.end(), i) - first.begin()) - 1;
    Batch& batch = *batches[b];
    const int v = i - first[b];
    stats.ran[i] = 1;
    run_protocol(batch.shape, batch.tables, batch.view(v), batch.steps.data(), static_cast<int>(batch.steps.size()),
                 batch.out_view(v), batch.trajectory_spec, batch.trajectory_view(v));
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
