#include "host/slice_plan.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace strata {

std::vector<int> slice_sizes(int n, const std::vector<double>& rates) {
  const size_t p = rates.size();
  std::vector<int> out(p, 0);
  if (p == 0 || n <= 0) return out;
  double known = 0.0;
  int n_known = 0;
  for (double r : rates)
    if (std::isfinite(r) && r > 0) {
      known += r;
      ++n_known;
    }
  const double fill = n_known ? known / n_known : 1.0;
  std::vector<double> w(p);
  for (size_t k = 0; k < p; ++k) w[k] = (std::isfinite(rates[k]) && rates[k] > 0) ? rates[k] : fill;
  // Within [1/kMaxShareRatio, kMaxShareRatio] times the median rank: a rate measured on
  // one batch is mostly the cost of the designs the rank happened to get (slow ones, or
  // ones failing at once), not the rank's speed.
  std::vector<double> sorted = w;
  std::sort(sorted.begin(), sorted.end());
  const double median = p % 2 ? sorted[p / 2] : 0.5 * (sorted[p / 2 - 1] + sorted[p / 2]);
  for (double& x : w) x = std::clamp(x, median / kMaxShareRatio, median * kMaxShareRatio);
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  std::vector<std::pair<double, size_t>> remainder;
  int given = 0;
  for (size_t k = 0; k < p; ++k) {
    const double share = n * w[k] / total;
    out[k] = static_cast<int>(std::floor(share));
    given += out[k];
    remainder.push_back({share - out[k], k});
  }
  std::stable_sort(remainder.begin(), remainder.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < n; ++k, ++given) ++out[remainder[k % p].second];
  return out;
}

double grace_after_signal_s(double longest_batch_s) { return std::max(30.0, 2.0 * longest_batch_s); }

void ThroughputTracker::record(int worker, int variants, double seconds) {
  if (variants > 0 && seconds > 0) rates_[worker] = variants / seconds;
}

}  // namespace strata
