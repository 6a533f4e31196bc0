#include "host/variant_runner.hpp"

#include <omp.h>

#include <set>

#include "host/cpu_backend.hpp"
#include "host/interrupt.hpp"
#include "host/simulate.hpp"
#include "host/variant_expansion.hpp"

namespace strata {

LocalVariantRunner::LocalVariantRunner(const Scenario& base, int threads, Layout layout)
    : light_(light_base(base)), profiles_(base.output.profiles), threads_(threads > 0 ? threads : omp_get_max_threads()),
      layout_(layout) {
  std::set<std::string> used;  // as run_info_for: the axis of the per-material arrays
  for (const Layer& l : base.layers)
    for (const LayerMaterial& lm : l.materials) used.insert(lm.material);
  material_names_.assign(used.begin(), used.end());
}

std::string LocalVariantRunner::device_description() const { return cpu_device_description(threads_); }

RunOutcome LocalVariantRunner::run(const RunRequest& req, const std::function<void(int)>& progress) {
  const size_t n = req.specs.size();
  std::vector<ResolvedVariant> vars;
  vars.reserve(n);
  for (const VariantSpec& spec : req.specs) vars.push_back(resolve_variant(light_, spec));
  RunOutcome out;
  out.results.resize(n);
  out.ran.assign(n, 0);
  if (req.record) out.trajectories.resize(n);
  if (n == 0) return out;  // an MPI rank's slice may be empty
  // One batch per shape, all run together (the CPU backend shares its threads among them).
  const std::vector<std::vector<int>> groups = group_by_shape(vars);
  std::vector<Batch> batches;
  batches.reserve(groups.size());
  for (const std::vector<int>& group : groups) {
    std::vector<ResolvedVariant> members;
    for (int k : group) members.push_back(std::move(vars[k]));
    batches.push_back(build_batch(members, layout_for(members.size(), req.record)));
    if (req.record) batches.back().enable_trajectories(req.trajectory_spec);
  }
  std::function<bool()> cancelled;
  if (req.cancellable) cancelled = interrupt_requested;
  const RunStats stats = run_batches(batches, progress, cancelled);
  out.wall_s = stats.wall_s;
  size_t pool = 0;  // the batch's first variant in stats.ran
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::vector<int>& group = groups[g];
    Batch& batch = batches[g];
    std::vector<int> ids;
    for (int k : group) ids.push_back(static_cast<int>(req.ids[k]));
    std::vector<VariantResult> rs = collect_results(batch, ids);
    for (size_t m = 0; m < group.size(); ++m) {
      const int k = group[m];
      out.results[k] = std::move(rs[m]);
      out.ran[k] = stats.ran[pool + m];
      // ok and failed count the variants that ran: a cancelled batch skips the rest.
      if (out.ran[k]) ++(out.results[k].status == 0 ? out.totals.ok : out.totals.failed);
      if (req.record && out.ran[k])
        out.trajectories[k] =
            req.name_trajectories
                ? extract_trajectory(batch, static_cast<int>(m), req.ids[k], material_names_, profiles_)
                : extract_trajectory(batch, static_cast<int>(m), req.ids[k], {}, {});
    }
    const BatchTotals t = batch_totals(batch);
    out.totals.time_steps += t.time_steps;
    out.totals.newton_iterations += t.newton_iterations;
    pool += group.size();
  }
  return out;
}

Layout LocalVariantRunner::layout_for(size_t, bool) const { return layout_; }

RunStats LocalVariantRunner::run_batches(std::vector<Batch>& batches, const std::function<void(int)>& progress,
                                         const std::function<bool()>& cancelled) {
  std::vector<Batch*> all;
  for (Batch& b : batches) all.push_back(&b);
  return run_batches_cpu(all, threads_, progress, cancelled);
}

std::unique_ptr<VariantRunner> make_runner(const RunnerFactory& factory, const Scenario& base, int threads,
                                           Layout layout) {
  if (factory) return factory(base, threads, layout);
  return std::make_unique<LocalVariantRunner>(base, threads, layout);
}

}  // namespace strata
