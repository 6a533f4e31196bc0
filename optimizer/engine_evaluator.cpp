#include "optimizer/engine_evaluator.hpp"

#include <chrono>
#include <cmath>
#include <limits>

#include "host/scenario_loader.hpp"
#include "host/simulate.hpp"
#include "optimizer/stored_points.hpp"

namespace strata {

EngineEvaluator::EngineEvaluator(const Scenario& base, ResultsStore& store, const RunInfo& info, VariantRunner& runner)
    : base_(base), light_(light_base(base)), space_(base), store_(store), info_(info), runner_(runner) {
  in_file_ = store_.design_ids();
  batch_index_ = 0;
}

EngineEvaluator::EngineEvaluator(const Scenario& base, ResultsStore& store, const RunInfo& info, int threads,
                                 Layout layout)
    : base_(base), light_(light_base(base)), space_(base), store_(store), info_(info),
      own_runner_(std::make_unique<LocalVariantRunner>(base, threads, layout)), runner_(*own_runner_) {
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
  const StoredPoints stored(f, space_.variable_names());  // the variables, not the derived columns
  const std::vector<std::string> order = h5::read_strings(f, "population/layer_order");
  std::map<int64_t, size_t> row;
  for (size_t r = 0; r < ids.size(); ++r) row[ids[r]] = r;
  std::vector<Evaluation> out;
  for (size_t i = 0; i < points.size(); ++i) {
    const int64_t id = first_id + static_cast<int64_t>(i);
    const size_t r = row.at(id);
    if (order[r] != layer_order_text(variants_.at(id)) || !stored.holds(r, points[i].x))
      throw ResultsStoreError(
          "cannot resume " + store_.path() + ": its design " + std::to_string(id) +
          " is not the design this campaign asks for at that point (the file was written by a strata whose "
          "campaign visits designs in another order); start a new file, or resume with the strata that wrote it");
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

  RunRequest req;
  req.specs = specs;
  for (size_t i = 0; i < points.size(); ++i) req.ids.push_back(first_id + static_cast<int64_t>(i));
  const RunOutcome outcome = runner_.run(req);
  std::vector<Evaluation> out(points.size());
  std::vector<PopulationRow> rows;
  for (size_t k = 0; k < points.size(); ++k) {
    const VariantResult& result = outcome.results[k];
    out[k] = evaluate_result(base_, result);
    PopulationRow row;
    row.result = result;
    row.variables = points[k].x;
    const std::vector<double> derived = space_.derived_values(specs[k]);
    row.variables.insert(row.variables.end(), derived.begin(), derived.end());
    row.layer_order = layer_order_text(specs[k]);
    row.objectives = objective_values(info_.objectives, result);
    row.constraints = constraint_values(info_.constraints, result);
    row.batch = batch_index_ - 1;
    row.producer = points[k].producer;
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const PopulationRow& a, const PopulationRow& b) { return a.result.id < b.result.id; });
  store_.append_buffered(std::move(rows), kWriteInterval_s);
  return out;
}

}  // namespace strata
