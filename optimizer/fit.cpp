#include "optimizer/fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "host/cpu_backend.hpp"
#include "host/scenario_loader.hpp"
#include "host/simulate.hpp"
#include "optimizer/campaign.hpp"
#include "optimizer/design_space.hpp"
#include "optimizer/stored_points.hpp"

namespace strata {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kJacobianStep = 1e-3;  // in the search coordinate (ln x for log parameters), relative to its range

// Inverts a small symmetric positive-definite matrix by Gauss-Jordan with partial
// pivoting; false if singular.
bool invert(std::vector<double>& a, int n) {
  std::vector<double> inv(n * n, 0.0);
  for (int i = 0; i < n; ++i) inv[i * n + i] = 1.0;
  for (int c = 0; c < n; ++c) {
    int p = c;
    for (int r = c + 1; r < n; ++r)
      if (std::fabs(a[r * n + c]) > std::fabs(a[p * n + c])) p = r;
    if (a[p * n + c] == 0.0 || !std::isfinite(a[p * n + c])) return false;
    for (int k = 0; k < n; ++k) {
      std::swap(a[p * n + k], a[c * n + k]);
      std::swap(inv[p * n + k], inv[c * n + k]);
    }
    const double s = 1.0 / a[c * n + c];
    for (int k = 0; k < n; ++k) { a[c * n + k] *= s; inv[c * n + k] *= s; }
    for (int r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = a[r * n + c];
      for (int k = 0; k < n; ++k) { a[r * n + k] -= f * a[c * n + k]; inv[r * n + k] -= f * inv[c * n + k]; }
    }
  }
  a = inv;
  return true;
}

}  // namespace

Scenario fit_campaign_scenario(const Scenario& base) {
  Scenario s = base;
  ObjectiveSpec misfit;
  misfit.name = "misfit";
  misfit.kind = "misfit";
  misfit.maximize = false;
  s.objectives = {misfit};
  DesignSpec& d = s.design;
  d = DesignSpec{};
  d.present = true;
  d.objective = "misfit";
  d.variables = base.fit.parameters;
  d.algorithm = base.fit.algorithm;
  d.initial_population = base.fit.initial_population;
  d.starts_per_choice = base.fit.starts;
  d.max_evaluations = base.fit.max_evaluations;
  d.max_evaluations_per_optimizer = base.fit.max_evaluations;
  d.xtol_rel = base.fit.xtol_rel;
  d.ftol_rel = base.fit.ftol_rel;
  d.seed = base.fit.seed;
  std::vector<int> identity(base.layers.size());
  for (size_t k = 0; k < identity.size(); ++k) identity[k] = static_cast<int>(k);
  d.layer_orders = {identity};
  return s;
}

FitEvaluator::FitEvaluator(const Scenario& base, ResultsStore* store, const RunInfo* info, VariantRunner& runner)
    : base_(base), campaign_(fit_campaign_scenario(base)), light_(light_base(base)), store_(store), info_(info), runner_(runner) {
  if (store_) in_file_ = store_->design_ids();
}

FitEvaluator::FitEvaluator(const Scenario& base, ResultsStore* store, const RunInfo* info, int threads, Layout layout)
    : base_(base), campaign_(fit_campaign_scenario(base)), light_(light_base(base)), store_(store), info_(info),
      own_runner_(std::make_unique<LocalVariantRunner>(base, threads, layout)), runner_(*own_runner_) {
  if (store_) in_file_ = store_->design_ids();
}

std::vector<FitEvaluator::Residuals> FitEvaluator::simulate(const std::vector<DesignPoint>& points, int64_t first_row) {
  const FitSpec& fit = base_.fit;
  const size_t nv = base_.variants.size();
  // Every point simulates every variant; rows are point-major.
  RunRequest req;
  for (const DesignPoint& p : points)
    for (const VariantSpec& v0 : base_.variants) {
      VariantSpec vs = v0;
      for (size_t j = 0; j < p.x.size(); ++j) vs.overrides[fit.parameters[j].path] = p.x[j];
      req.ids.push_back(first_row + static_cast<int64_t>(req.specs.size()));
      req.specs.push_back(std::move(vs));
    }
  // Potential-curve targets need the time series of their step.
  bool curves = false;
  for (const FitTarget& t : fit.targets) curves |= t.metric.kind == "potential_curve";
  req.record = curves;
  req.trajectory_spec.enabled = 1;
  req.trajectory_spec.capacity = 4000;
  RunOutcome outcome = runner_.run(req);
  const std::vector<VariantResult>& results = outcome.results;
  const std::vector<TrajectoryData>& series = outcome.trajectories;
  std::map<std::string, size_t> by_label;
  for (size_t v = 0; v < nv; ++v) by_label[base_.variants[v].label] = v;
  std::vector<Residuals> out(points.size());
  std::vector<PopulationRow> rows;
  for (size_t i = 0; i < points.size(); ++i) {
    Residuals& r = out[i];
    r.ok = true;
    for (const FitTarget& t : fit.targets) {
      const size_t row = i * nv + by_label.at(t.variant);
      const VariantResult& vr = results[row];
      if (t.metric.kind != "potential_curve") {
        const double sim = objective_values({t.metric}, vr)[0];
        r.simulated.push_back(sim);
        r.per_target.push_back((sim - t.value) / t.sigma);
        r.weighted.push_back(r.per_target.back());
        r.ok &= std::isfinite(sim);
        continue;
      }
      // The simulated potential at each measured capacity of the step, linear between
      // samples; past the simulated end, the end potential (the cut-off).
      std::vector<double> q, u;
      for (size_t k = 0; k < series[row].step.size(); ++k)
        if (series[row].step[k] == t.metric.step) {
          q.push_back(series[row].capacity_mAh_g[k]);
          u.push_back(series[row].potential_V[k]);
        }
      double ss = 0.0, sw = 0.0;
      for (size_t k = 0; k < t.curve_capacity_mAh_g.size(); ++k) {
        const double qk = t.curve_capacity_mAh_g[k];
        double vk = kNaN;
        if (vr.status == 0 && !q.empty()) {
          size_t a = 0;
          while (a + 1 < q.size() && q[a + 1] < qk) ++a;
          vk = (a + 1 < q.size() && q[a + 1] > q[a]) ? u[a] + (u[a + 1] - u[a]) * std::clamp((qk - q[a]) / (q[a + 1] - q[a]), 0.0, 1.0)
                                                   : u[a];
        }
        const double w = (vk - t.curve_potential_V[k]) / t.sigma;
        r.weighted.push_back(w);
        ss += (vk - t.curve_potential_V[k]) * (vk - t.curve_potential_V[k]);
        sw += w * w;
        r.ok &= std::isfinite(vk);
      }
      const double n = static_cast<double>(t.curve_capacity_mAh_g.size());
      r.simulated.push_back(std::sqrt(ss / n));
      r.per_target.push_back(std::sqrt(sw / n));
    }
    double chi2 = 0.0;
    for (double w : r.weighted) chi2 += w * w;
    if (!r.ok) chi2 = kNaN;
    for (size_t v = 0; v < nv; ++v) {
      PopulationRow row;
      row.result = results[i * nv + v];
      row.variables = points[i].x;
      row.objectives = {chi2};
      row.batch = batch_index_;
      row.producer = points[i].producer;
      rows.push_back(std::move(row));
    }
  }
  if (store_) store_->append_buffered(std::move(rows), 0.5);
  ++batch_index_;
  return out;
}

std::vector<Evaluation> FitEvaluator::evaluate(const std::vector<DesignPoint>& points) {
  const size_t nv = base_.variants.size();
  const int64_t first_row = next_row_;
  next_row_ += static_cast<int64_t>(points.size() * nv);
  std::vector<Evaluation> out;
  bool all_in_file = store_ != nullptr;
  for (int64_t r = first_row; r < next_row_ && all_in_file; ++r) all_in_file &= in_file_.count(r) > 0;
  if (all_in_file) {  // a resumed run: read the misfit back
    const hid_t f = store_->file();
    const std::vector<int64_t> ids = h5::read_int64(f, "population/design_id");
    const std::vector<double> obj = h5::read_float64(f, "population/objective/misfit");
    const StoredPoints stored(f, DesignSpace(campaign_).variable_names());
    std::map<int64_t, size_t> row;
    for (size_t k = 0; k < ids.size(); ++k) row[ids[k]] = k;
    for (size_t i = 0; i < points.size(); ++i) {
      const int64_t id = first_row + static_cast<int64_t>(i * nv);
      const size_t r = row.at(id);
      if (!stored.holds(r, points[i].x))
        throw ResultsStoreError("cannot resume " + store_->path() + ": its row " + std::to_string(id) +
                                " is not the parameter point this fit asks for at that point (the file was written "
                                "by a strata whose search visits points in another order); start a new file, or "
                                "resume with the strata that wrote it");
      const double c = obj[r];
      out.push_back(make_evaluation(campaign_, id, std::isfinite(c) ? 0 : 1, c, {}));
    }
    replayed_ += static_cast<long>(points.size());
    ++batch_index_;
    return out;
  }
  const std::vector<Residuals> res = simulate(points, first_row);
  for (size_t i = 0; i < points.size(); ++i) {
    double chi2 = 0.0;
    for (double w : res[i].weighted) chi2 += w * w;
    const int64_t id = first_row + static_cast<int64_t>(i * nv);
    out.push_back(make_evaluation(campaign_, id, res[i].ok ? 0 : 1, res[i].ok ? chi2 : kNaN, {}));
  }
  return out;
}

std::vector<FitEvaluator::Residuals> FitEvaluator::residuals(const std::vector<DesignPoint>& points) {
  const int64_t first = next_row_;
  next_row_ += static_cast<int64_t>(points.size() * base_.variants.size());
  return simulate(points, first);
}

FitReport run_fit(const Scenario& base, FitEvaluator& evaluator) {
  const Scenario campaign = fit_campaign_scenario(base);
  const CampaignResult cr = run_campaign(campaign, evaluator);
  const DesignSpace space(campaign);
  FitReport rep;
  rep.evaluations = cr.evaluations;
  rep.batches = cr.batches;
  const std::vector<DesignVariable>& params = base.fit.parameters;
  const int p = static_cast<int>(params.size());
  for (const auto& v : params) {
    rep.names.push_back(v.path);
    rep.log_scale.push_back(v.log);
  }
  rep.values = cr.best.x;
  // Residuals at the optimum and at p forward-difference points, as one batch.
  std::vector<DesignPoint> pts = {{0, cr.best.x, "jacobian"}};
  std::vector<double> h(p);
  for (int j = 0; j < p; ++j) {
    const DesignVariable& v = params[j];
    const double range = v.log ? std::log(v.max / v.min) : v.max - v.min;
    h[j] = kJacobianStep * range;
    std::vector<double> x = cr.best.x;
    const double c = v.log ? std::log(x[j]) : x[j];
    const double hi = v.log ? std::log(v.max) : v.max;
    if (c + h[j] > hi) h[j] = -h[j];
    x[j] = v.log ? std::exp(c + h[j]) : c + h[j];
    pts.push_back({0, x, "jacobian"});
  }
  const std::vector<FitEvaluator::Residuals> r = evaluator.residuals(pts);
  const int n = static_cast<int>(r[0].weighted.size());
  rep.dof = n - p;
  rep.simulated = r[0].simulated;
  rep.weighted_residuals = r[0].per_target;
  for (double w : r[0].weighted) rep.chi2 += w * w;
  // J (n x p) of the weighted residuals; covariance = (J^T J)^-1 in search coordinates.
  std::vector<double> jtj(p * p, 0.0);
  bool ok = r[0].ok;
  for (int j = 0; j < p; ++j) ok &= r[j + 1].ok;
  if (ok) {
    for (int a = 0; a < p; ++a)
      for (int b = 0; b < p; ++b) {
        double s = 0.0;
        for (int i = 0; i < n; ++i)
          s += (r[a + 1].weighted[i] - r[0].weighted[i]) / h[a] * (r[b + 1].weighted[i] - r[0].weighted[i]) / h[b];
        jtj[a * p + b] = s;
      }
    rep.jacobian_ok = invert(jtj, p);
  }
  rep.covariance = rep.jacobian_ok ? jtj : std::vector<double>(p * p, kNaN);
  for (int j = 0; j < p; ++j) {
    const double s = std::sqrt(rep.covariance[j * p + j]);
    rep.sigma.push_back(params[j].log ? rep.values[j] * s : s);  // ln-scale sigma -> absolute (first order)
  }
  return rep;
}

void write_fit_report(ResultsStore& store, const Scenario& base, const FitReport& r) {
  std::vector<std::string> names;
  std::vector<double> measured, sigma;
  for (const FitTarget& t : base.fit.targets) {
    names.push_back(t.name);
    measured.push_back(t.value);
    sigma.push_back(t.sigma);
  }
  store.edit([r, names, measured, sigma](hid_t f) {
    h5::Handle g = h5::require_group(f, "fit");
    h5::set_attr(g.id(), "description",
                 std::string("calibration result (strata fit): values, 1-sigma uncertainties, residuals"));
    h5::set_attr(g.id(), "parameter_names", r.names);
    h5::set_attr(g.id(), "values", r.values);
    h5::set_attr(g.id(), "sigma", r.sigma);
    h5::set_attr(g.id(), "covariance_search_coordinates", r.covariance);
    h5::set_attr(g.id(), "target_names", names);
    h5::set_attr(g.id(), "target_measured", measured);
    h5::set_attr(g.id(), "target_sigma", sigma);
    h5::set_attr(g.id(), "target_simulated", r.simulated);
    h5::set_attr(g.id(), "chi2", r.chi2);
    h5::set_attr(g.id(), "dof", static_cast<int64_t>(r.dof));
  });
  store.flush();
}

}  // namespace strata
