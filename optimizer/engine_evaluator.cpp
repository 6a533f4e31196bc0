#include "optimizer/engine_evaluator.hpp"

#include <chrono>
#include <cmath>
#include <limits>

#include "host/cpu_backend.hpp"
#include "host/scenario_loader.hpp"
#include "host/simulate.hpp"

namespace strata {

EngineEvaluator::EngineEvaluator(const Scenario& base, ResultsStore& store, const RunInfo& info, int threads,
                                 Layout layout)
    : base_(base), light_(base), space_(base), store_(store), info_(info), threads_(threads), layout_(layout) {
  light_.variants.clear();
  light_.text.clear();
  in_file_ = store_.design_ids();
  batch_index_ = 0;
}

std::vector<Evaluation> EngineEvaluator::replay(const std::vector<DesignPoint>& points, int64_t first_id) {
  const hid_t f = store_.file();
  const std::vector<int64_t> ids = h5::read_int64(f, "population/design_id");
  const std::vector<int32_t> status = h5::read_int32(f, "population/status");
  const std::vector<double> obj = h5::read_float64(f, "population/objective/" + base_.design.objective);
  std::vector<std::vector<double>> con;
  for (const ConstraintSpec& c : base_.design.constraints)
    con.push_back(h5::read_float64(f, "population/constraint/" + c.name));
  std::map<int64_t, size_t> row;
  for (size_t r = 0; r < ids.size(); ++r) row[ids[r]] = r;
  std::vector<Evaluation> out;
  for (size_t i = 0; i < points.size(); ++i) {
    const size_t r = row.at(first_id + static_cast<int64_t>(i));
    std::vector<double> cv;
    for (const auto& c : con) cv.push_back(c[r]);
    out.push_back(make_evaluation(base_, ids[r], status[r], obj[r], cv));
  }
  replayed_ += static_cast<long>(points.size());
  return out;
}

std::vector<Evaluation> EngineEvaluator::evaluate(const std::vector<DesignPoint>& points) {
  const int64_t first_id = next_id_;
  next_id_ += static_cast<int64_t>(points.size());
  std::vector<VariantSpec> specs;
  for (size_t i = 0; i < points.size(); ++i) {
    specs.push_back(space_.variant(points[i]));
    variants_[first_id + static_cast<int64_t>(i)] = specs.back();
  }
  bool all_in_file = true;
  for (size_t i = 0; i < points.size(); ++i) all_in_file &= in_file_.count(first_id + static_cast<int64_t>(i)) > 0;
  ++batch_index_;
  if (all_in_file) return replay(points, first_id);

  std::vector<ResolvedVariant> vars;
  for (const VariantSpec& vs : specs) vars.push_back(resolve_variant(light_, vs));
  std::vector<Evaluation> out(points.size());
  std::vector<PopulationRow> rows;
  for (const std::vector<int>& group : group_by_shape(vars)) {
    std::vector<ResolvedVariant> members;
    std::vector<int> ids;
    for (int k : group) {
      members.push_back(vars[k]);
      ids.push_back(static_cast<int>(first_id) + k);
    }
    Batch batch = build_batch(members, layout_);
    run_batch_cpu(batch, threads_);
    std::vector<VariantResult> results = collect_results(batch, ids);
    for (size_t m = 0; m < group.size(); ++m) {
      const int k = group[m];
      out[k] = evaluate_result(base_, results[m]);
      PopulationRow row;
      row.result = results[m];
      row.variables = points[k].x;
      for (size_t j = 0; j < specs[k].layer_order.size(); ++j)
        row.layer_order += (j ? "," : "") + std::to_string(specs[k].layer_order[j]);
      row.objectives = objective_values(info_.objectives, results[m]);
      row.constraints = constraint_values(info_.constraints, results[m]);
      row.batch = batch_index_ - 1;
      row.producer = points[k].producer;
      rows.push_back(std::move(row));
    }
  }
  std::sort(rows.begin(), rows.end(), [](const PopulationRow& a, const PopulationRow& b) { return a.result.id < b.result.id; });
  store_.append_buffered(std::move(rows), kWriteInterval_s);
  return out;
}

}  // namespace strata
