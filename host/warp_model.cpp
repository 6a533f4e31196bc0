#include "host/warp_model.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "kernels/dfn_protocol.hpp"

namespace strata {

double warp_lane_efficiency(const std::vector<long>& work, int lanes) {
  double busy = 0.0, held = 0.0;
  for (size_t first = 0; first < work.size(); first += lanes) {
    const size_t end = std::min(work.size(), first + lanes);
    long most = 0;
    for (size_t v = first; v < end; ++v) {
      busy += work[v];
      most = std::max(most, work[v]);
    }
    held += double(most) * (end - first);
  }
  return held > 0.0 ? busy / held : 1.0;
}

namespace {

// A variant's attempts within one protocol step as the nested loop runs them: per
// time-step attempt, its Newton iterations, then those of the event location that
// follows it (the regula-falsi probes in order, and the finishing attempt).
struct OuterIteration {
  long step_attempt = 0;
  std::vector<long> probes;
  long finish = 0;
};

std::vector<std::vector<OuterIteration>> nested_passes(const AttemptTrace& t) {
  std::vector<std::vector<OuterIteration>> by_step;
  for (size_t a = 0; a < t.kind.size(); ++a) {
    const size_t q = static_cast<size_t>(t.protocol_step[a]);
    if (by_step.size() <= q) by_step.resize(q + 1);
    const int kind = t.kind[a];
    if (kind == static_cast<int>(AttemptKind::Step) || by_step[q].empty())
      by_step[q].push_back({t.newton_iterations[a], {}, 0});
    else if (kind == static_cast<int>(AttemptKind::Locate))
      by_step[q].back().probes.push_back(t.newton_iterations[a]);
    else
      by_step[q].back().finish += t.newton_iterations[a];
  }
  return by_step;
}

}  // namespace

WarpLoopModel warp_loop_model(const std::vector<AttemptTrace>& variants, int lanes) {
  double busy = 0.0, nested = 0.0, flat = 0.0;
  std::vector<long> totals;
  for (size_t first = 0; first < variants.size(); first += lanes) {
    const size_t end = std::min(variants.size(), first + lanes);
    const double width = double(end - first);
    std::vector<std::vector<std::vector<OuterIteration>>> passes;
    size_t most_attempts = 0, most_steps = 0;
    for (size_t v = first; v < end; ++v) {
      const AttemptTrace& t = variants[v];
      long total = 0;
      for (int it : t.newton_iterations) total += it;
      busy += total;
      totals.push_back(total);
      most_attempts = std::max(most_attempts, t.kind.size());
      passes.push_back(nested_passes(t));
      most_steps = std::max(most_steps, passes.back().size());
    }
    for (size_t a = 0; a < most_attempts; ++a) {
      long most = 0;
      for (size_t v = first; v < end; ++v)
        if (a < variants[v].newton_iterations.size()) most = std::max<long>(most, variants[v].newton_iterations[a]);
      flat += width * most;
    }
    for (size_t q = 0; q < most_steps; ++q) {
      size_t most_outer = 0;
      for (const auto& p : passes)
        if (q < p.size()) most_outer = std::max(most_outer, p[q].size());
      // Per time step: the slowest step attempt; then the lanes locating an event run
      // their probes together, probe by probe, and finish together.
      for (size_t o = 0; o < most_outer; ++o) {
        long step = 0, finish = 0;
        size_t most_probes = 0;
        for (const auto& p : passes)
          if (q < p.size() && o < p[q].size()) {
            step = std::max(step, p[q][o].step_attempt);
            finish = std::max(finish, p[q][o].finish);
            most_probes = std::max(most_probes, p[q][o].probes.size());
          }
        long probing = 0;
        for (size_t k = 0; k < most_probes; ++k) {
          long slowest = 0;
          for (const auto& p : passes)
            if (q < p.size() && o < p[q].size() && k < p[q][o].probes.size())
              slowest = std::max(slowest, p[q][o].probes[k]);
          probing += slowest;
        }
        nested += width * (step + probing + finish);
      }
    }
  }
  WarpLoopModel m;
  if (nested > 0.0) m.nested = busy / nested;
  if (flat > 0.0) m.flat_attempts = busy / flat;
  m.flat_iterations = warp_lane_efficiency(totals, lanes);
  return m;
}

std::vector<AttemptTrace> trace_attempts(Batch& batch, long max_attempts) {
  batch.rebind_tables();  // a copied batch still points at its original's tables
  const DfnShape& S = batch.shape;
  const int n_steps = static_cast<int>(batch.steps.size());
  const TrajectorySpec off{};
  std::vector<AttemptTrace> traces(batch.n_variants);
  std::string overflow;
#pragma omp parallel
  {
    std::vector<int> step(max_attempts), kind(max_attempts), iterations(max_attempts);
#pragma omp for schedule(dynamic)
    for (int v = 0; v < batch.n_variants; ++v) {
      AttemptLog log{step.data(), kind.data(), iterations.data(), max_attempts, 0};
      run_protocol(S, batch.tables, batch.view(v), batch.steps.data(), n_steps, batch.out_view(v), off,
                   batch.out_view(v), SerialTeam{}, &log);
      if (log.count > max_attempts) {
#pragma omp critical
        overflow = "variant " + std::to_string(v) + " made " + std::to_string(log.count) + " attempts, more than " +
                   std::to_string(max_attempts) + " traced";
        continue;
      }
      traces[v].protocol_step.assign(step.begin(), step.begin() + log.count);
      traces[v].kind.assign(kind.begin(), kind.begin() + log.count);
      traces[v].newton_iterations.assign(iterations.begin(), iterations.begin() + log.count);
    }
  }
  if (!overflow.empty()) throw std::runtime_error("trace_attempts: " + overflow);
  return traces;
}

}  // namespace strata
