#include "optimizer/campaign.hpp"

#include <nlopt.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

#include "optimizer/batch_gate.hpp"
#include "optimizer/evaluation_memo.hpp"
#include "optimizer/sampling.hpp"

namespace strata {

namespace {

using Clock = std::chrono::steady_clock;

constexpr double kGradientStep = 1e-3;  // forward-difference step in unit-cube coordinates
// NLopt's first step, the same in every unit-cube coordinate: its default (a quarter of
// the range, less near a bound) differs per coordinate where a start lies near a bound,
// and BOBYQA keeps that scaling for the whole run (a start at u = 0.99 got steps of
// 0.005 in that coordinate against 0.25 in the others).
constexpr double kInitialStep = 0.1;

void keep_best(CampaignBest& best, const DesignPoint& p, const Evaluation& e) {
  if (best.design_id < 0 || rank_key(e) < rank_key(best)) {
    best.merit = e.merit;
    best.objective = e.objective;
    best.violation = e.violation;
    best.constraints = e.constraints;
    best.design_id = e.design_id;
    best.x = p.x;
    best.choice = p.choice;
  }
}

// What a failed design's merit is, for the optimisers: worse than every design of the
// first population that ran, by a margin (make_evaluation's 1e6 is not, where the
// merit is unbounded: a fit's chi2 of a curve with mV uncertainties reaches 1e7), and
// fixed for the campaign, so that NLopt sees one function.
double failure_merit(const std::vector<Evaluation>& first) {
  double worst = -std::numeric_limits<double>::infinity();
  for (const Evaluation& e : first)
    if (standing(e.objective, e.violation) != Standing::Failed && std::isfinite(e.merit))
      worst = std::max(worst, e.merit);
  return std::isfinite(worst) ? std::max(1e6, worst + 10.0 * (std::fabs(worst) + 1.0)) : 1e6;
}

// Start points of one discrete choice: the best first population point, then, from
// the better half, each time the one farthest from those already chosen.
std::vector<int> pick_starts(const std::vector<int>& members, const std::vector<std::vector<double>>& u,
                             const std::vector<Evaluation>& ev, int n) {
  std::vector<int> sorted = members;
  std::stable_sort(sorted.begin(), sorted.end(), [&](int a, int b) { return rank_key(ev[a]) < rank_key(ev[b]); });
  const size_t half = std::max<size_t>(n, (sorted.size() + 1) / 2);
  if (sorted.size() > half) sorted.resize(half);
  std::vector<int> chosen;
  if (sorted.empty()) return chosen;
  chosen.push_back(sorted[0]);
  while ((int)chosen.size() < n && chosen.size() < sorted.size()) {
    int pick = -1;
    double far = -1.0;
    for (int c : sorted) {
      if (std::find(chosen.begin(), chosen.end(), c) != chosen.end()) continue;
      double dmin = 1e300;
      for (int s : chosen) {
        double d2 = 0.0;
        for (size_t j = 0; j < u[c].size(); ++j) d2 += (u[c][j] - u[s][j]) * (u[c][j] - u[s][j]);
        dmin = std::min(dmin, d2);
      }
      if (dmin > far) { far = dmin; pick = c; }
    }
    chosen.push_back(pick);
  }
  return chosen;
}

std::string nlopt_result_name(nlopt::result r) {
  switch (r) {
    case nlopt::SUCCESS: return "success";
    case nlopt::STOPVAL_REACHED: return "stopval reached";
    case nlopt::FTOL_REACHED: return "ftol reached";
    case nlopt::XTOL_REACHED: return "xtol reached";
    case nlopt::MAXEVAL_REACHED: return "maxeval reached";
    case nlopt::MAXTIME_REACHED: return "maxtime reached";
    default: return "stopped";
  }
}

// Why the gate stopped answering an optimiser (nlopt::forced_stop).
enum class StopCause { EvaluationBudget, TimeLimit, Interrupted };

const char* stop_cause_name(StopCause c) {
  switch (c) {
    case StopCause::TimeLimit: return "time limit (max_time_s) reached";
    case StopCause::Interrupted: return "interrupted";
    default: return "evaluation budget spent";
  }
}

}  // namespace

Standing standing(double objective, double violation) {
  if (!std::isfinite(objective)) return Standing::Failed;
  return violation > 0.0 ? Standing::BreaksAConstraint : Standing::MeetsConstraints;
}

int planned_optimizers(const DesignSpec& spec, int choices) {
  const long n0 = std::min<long>(spec.initial_population, spec.max_evaluations);
  int n = 0;
  for (int c = 0; c < choices; ++c) {
    const long members = n0 / choices + (c < n0 % choices ? 1 : 0);
    n += static_cast<int>(std::min<long>(members, spec.starts_per_choice));
  }
  return n;
}

CampaignResult run_campaign(const Scenario& base, BatchEvaluator& evaluator,
                            const std::function<void(const CampaignProgress&)>& progress,
                            const std::function<bool()>& stop) {
  const auto t0 = Clock::now();
  const DesignSpace space(base);
  const DesignSpec& spec = space.spec();
  const int d = space.dimensions(), nc = space.choices();
  CampaignResult res;
  res.best_per_choice.resize(nc);
  for (int c = 0; c < nc; ++c) res.best_per_choice[c].choice = c;
  CampaignProgress prog;
  prog.budget = spec.max_evaluations;
  EvaluationMemo memo;
  auto evaluate = [&](const std::vector<DesignPoint>& pts) {
    const auto te = Clock::now();
    std::vector<Evaluation> ev = evaluator.evaluate(pts);
    memo.add(pts, ev);
    res.evaluate_s += std::chrono::duration<double>(Clock::now() - te).count();
    res.evaluations += static_cast<long>(pts.size());
    ++res.batches;
    for (size_t i = 0; i < pts.size(); ++i) {
      keep_best(res.best, pts[i], ev[i]);
      keep_best(res.best_per_choice[pts[i].choice], pts[i], ev[i]);
    }
    prog.evaluations = res.evaluations;
    prog.batches = res.batches;
    prog.best_objective = res.best.objective;
    prog.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (progress) progress(prog);
    return ev;
  };

  // 1. The first population: one batch, the discrete choices dealt in turn.
  const int n0 = std::min<long>(spec.initial_population, spec.max_evaluations);
  const std::vector<std::vector<double>> u0 =
      spec.sampler == "random" ? uniform_random(n0, d, spec.seed) : latin_hypercube(n0, d, spec.seed);
  std::vector<DesignPoint> first;
  for (int i = 0; i < n0; ++i) first.push_back({i % nc, space.to_physical(u0[i]), "lhs"});
  if (spec.sampler == "random")
    for (auto& p : first) p.producer = "random";
  const std::vector<Evaluation> ev0 = evaluate(first);

  // 2. Start points per choice.
  struct Start { int choice; std::vector<double> u; };
  std::vector<Start> starts;
  for (int c = 0; c < nc; ++c) {
    std::vector<int> members;
    for (int i = 0; i < n0; ++i)
      if (first[i].choice == c) members.push_back(i);
    for (int i : pick_starts(members, u0, ev0, spec.starts_per_choice)) starts.push_back({c, u0[i]});
  }
  const int n_opt = static_cast<int>(starts.size());
  const double failed_merit = failure_merit(ev0);
  auto merit_for_nlopt = [failed_merit](const Evaluation& e) {
    return standing(e.objective, e.violation) == Standing::Failed ? failed_merit : e.merit;
  };
  res.optimizers = n_opt;
  res.logs.resize(n_opt);

  // 3. The optimisers, each on its own thread, behind the gate.
  BatchGate gate(n_opt);
  std::atomic<int> stop_cause{static_cast<int>(StopCause::EvaluationBudget)};
  const nlopt::algorithm algorithm = static_cast<nlopt::algorithm>(nlopt_algorithm_from_string(spec.algorithm.c_str()));
  auto run_optimizer = [&](int k) {
    gate.start(k);
    OptimizerLog& log = res.logs[k];
    log.choice = starts[k].choice;
    log.algorithm = spec.algorithm;
    nlopt::srand(spec.seed * 7919 + k);  // under the gate's turn: deterministic
    double best_merit = std::numeric_limits<double>::infinity(), best_obj = std::nan("");
    try {
      nlopt::opt opt(algorithm, d);
      opt.set_lower_bounds(std::vector<double>(d, 0.0));
      opt.set_upper_bounds(std::vector<double>(d, 1.0));
      opt.set_xtol_rel(spec.xtol_rel);
      opt.set_ftol_rel(spec.ftol_rel);
      opt.set_maxeval(static_cast<int>(spec.max_evaluations_per_optimizer));
      opt.set_initial_step(std::vector<double>(d, kInitialStep));
      // Algorithms that drive a subsidiary local optimiser (AUGLAG, MLSL) get one:
      // derivative-free or gradient-based like themselves.
      if (spec.algorithm.find("AUGLAG") != std::string::npos || spec.algorithm.find("MLSL") != std::string::npos) {
        const bool gradient = spec.algorithm.find("_LD_") != std::string::npos || spec.algorithm.rfind("GD_", 0) == 0 ||
                              spec.algorithm.rfind("LD_", 0) == 0;
        nlopt::opt local(gradient ? nlopt::LD_MMA : nlopt::LN_BOBYQA, d);
        local.set_xtol_rel(spec.xtol_rel);
        local.set_ftol_rel(spec.ftol_rel);
        local.set_initial_step(std::vector<double>(d, kInitialStep));
        opt.set_local_optimizer(local);
      }
      std::function<double(const std::vector<double>&, std::vector<double>&)> f =
          [&](const std::vector<double>& u, std::vector<double>& grad) {
            std::vector<DesignPoint> pts = {{log.choice, space.to_physical(u), "optimizer " + std::to_string(k)}};
            std::vector<double> h;
            for (size_t j = 0; j < grad.size(); ++j) {  // forward differences, inside the box
              std::vector<double> v = u;
              const double step = v[j] + kGradientStep <= 1.0 ? kGradientStep : -kGradientStep;
              v[j] += step;
              h.push_back(step);
              pts.push_back({log.choice, space.to_physical(v), "optimizer " + std::to_string(k) + " gradient"});
            }
            // Points evaluated before are answered from the memo; the rest go to the gate.
            std::vector<Evaluation> ev(pts.size());
            std::vector<DesignPoint> fresh;
            std::vector<size_t> fresh_at;
            for (size_t i = 0; i < pts.size(); ++i)
              if (!memo.find(pts[i], &ev[i])) {
                fresh.push_back(pts[i]);
                fresh_at.push_back(i);
              }
            if (!fresh.empty()) {
              const std::vector<Evaluation> got = gate.submit(k, std::move(fresh));
              if (got.empty()) throw nlopt::forced_stop();
              for (size_t i = 0; i < fresh_at.size(); ++i) ev[fresh_at[i]] = got[i];
            }
            const double merit = merit_for_nlopt(ev[0]);
            for (size_t j = 0; j < grad.size(); ++j) grad[j] = (merit_for_nlopt(ev[j + 1]) - merit) / h[j];
            if (merit < best_merit) {
              best_merit = merit;
              best_obj = ev[0].objective;
            }
            log.iteration.push_back(static_cast<int64_t>(log.iteration.size()));
            log.design_id.push_back(ev[0].design_id);
            log.points.insert(log.points.end(), pts[0].x.begin(), pts[0].x.end());
            log.objective.push_back(ev[0].objective);
            log.best_objective.push_back(best_obj);
            return merit;
          };
      auto trampoline = [](unsigned n, const double* x, double* g, void* data) {
        auto& fn = *static_cast<std::function<double(const std::vector<double>&, std::vector<double>&)>*>(data);
        std::vector<double> xv(x, x + n), gv(g ? n : 0);
        const double r = fn(xv, gv);
        if (g) std::copy(gv.begin(), gv.end(), g);
        return r;
      };
      opt.set_min_objective(trampoline, &f);
      std::vector<double> u = starts[k].u;
      double fmin = 0.0;
      log.end = nlopt_result_name(opt.optimize(u, fmin));
    } catch (const nlopt::forced_stop&) {
      log.end = stop_cause_name(static_cast<StopCause>(stop_cause.load()));
    } catch (const nlopt::roundoff_limited&) {
      log.end = "roundoff limited";
    } catch (const std::exception& e) {
      log.end = std::string("error: ") + e.what();
    }
    gate.finish(k);
  };
  std::vector<std::thread> threads;
  for (int k = 0; k < n_opt; ++k) threads.emplace_back(run_optimizer, k);
  const long first_evals = res.evaluations, first_batches = res.batches;
  gate.run(evaluate, [&]() -> long {
    if (spec.max_time_s > 0 && std::chrono::duration<double>(Clock::now() - t0).count() > spec.max_time_s) {
      stop_cause = static_cast<int>(StopCause::TimeLimit);
      return 0;
    }
    if (stop && stop()) {
      stop_cause = static_cast<int>(StopCause::Interrupted);
      return 0;
    }
    return spec.max_evaluations - res.evaluations;
  });
  for (auto& t : threads) t.join();
  gate.rethrow_failure();  // an evaluator error (a file, a rank) ends the campaign here
  res.parked_per_batch = gate.parked_per_batch();
  res.points_per_batch = gate.points_per_batch();
  res.optimizer_batches = res.batches - first_batches;
  res.mean_batch_size =
      res.optimizer_batches ? double(res.evaluations - first_evals) / res.optimizer_batches : 0.0;
  res.reused = memo.hits();
  res.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  return res;
}

}  // namespace strata
