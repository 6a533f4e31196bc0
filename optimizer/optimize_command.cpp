#include "optimizer/optimize_command.hpp"

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "host/build_info.hpp"
#include "host/interrupt.hpp"
#include "host/scenario_loader.hpp"
#include "optimizer/campaign.hpp"
#include "optimizer/engine_evaluator.hpp"

namespace strata {

namespace {

std::string with_units(double value, const std::string& units) {
  return fmt::format("{:.6g}{}", value, units == "-" ? "" : " " + units);
}

// Each constraint the design breaks, in the constraint's own units.
std::string constraint_breaches(const DesignSpec& d, const CampaignBest& b) {
  std::string s;
  for (size_t k = 0; k < d.constraints.size() && k < b.constraints.size(); ++k) {
    const ConstraintSpec& c = d.constraints[k];
    const std::string units = constraint_units(c);
    const double v = b.constraints[k];
    if (v < c.min)
      s += fmt::format("; {} = {} is below its minimum {}", c.name, with_units(v, units), with_units(c.min, units));
    else if (v > c.max)
      s += fmt::format("; {} = {} is above its maximum {}", c.name, with_units(v, units), with_units(c.max, units));
  }
  return s;
}

// units: the objective's ("-" dimensionless). A best that breaks a constraint is one
// only because no design that ran met them all (CampaignBest).
std::string describe(const DesignSpace& space, const DesignSpec& d, const CampaignBest& b, const std::string& units,
                     const char* scope) {
  if (b.design_id < 0) return "none";
  std::string s = fmt::format("design {} objective {}", b.design_id, with_units(b.objective, units));
  if (b.violation > 0)
    s += fmt::format(" (no design{} met every constraint{}; penalised violation {:.3g})", scope,
                     constraint_breaches(d, b), b.violation);
  // The design's label without a producer: " order ... path=value ..." (and a split's
  // layers in um).
  return s + space.variant(DesignPoint{b.choice, b.x, ""}).label;
}

}  // namespace

void scale_design_budget(DesignSpec& d, double scale) {
  if (scale == 1.0) return;
  auto scaled = [&](long n) { return std::max<long>(1, std::lround(n * scale)); };
  d.initial_population = static_cast<int>(scaled(d.initial_population));
  d.max_evaluations = std::max<long>(scaled(d.max_evaluations), d.initial_population);
  d.max_evaluations_per_optimizer = scaled(d.max_evaluations_per_optimizer);
}

int run_optimize(const SimulateOptions& opt) {
  Scenario base;
  if (!load_scenario_reporting(opt.scenario_path, base)) return 2;
  if (!base.design.present) {
    std::cerr << "error: " << opt.scenario_path
              << ": no [design] section; strata optimize needs the design space (docs/scenario-format.md)\n";
    return 2;
  }
  std::string stem = safe_file_stem(base.name);
  if (!opt.design_objective.empty()) {
    std::string names;
    bool known = false;
    for (const auto& o : base.objectives) {
      names += (names.empty() ? "" : ", ") + o.name;
      known = known || o.name == opt.design_objective;
    }
    if (!known) {
      std::cerr << "error: --objective " << opt.design_objective << ": " << opt.scenario_path
                << " has no [[objectives]] of that name; allowed: " << names << "\n";
      return 2;
    }
    base.design.objective = opt.design_objective;
    stem = safe_file_stem(base.name + "_" + opt.design_objective);
  }
  scale_design_budget(base.design, opt.budget_scale);
  const std::unique_ptr<VariantRunner> runner = make_runner_reporting(opt, base);
  if (!runner) return 2;
  const DesignSpace space(base);
  RunInfo info = run_info_for(base, opt.command, runner->device_description());
  info.var_paths = space.stored_names();
  info.n_designs = base.design.max_evaluations;
  info.seed = static_cast<int64_t>(base.design.seed);
  info.design_objective = base.design.objective;
  const std::string h5_path = results_path(opt, stem);
  std::optional<ResultsStore> store = open_results_reporting(opt, h5_path, info);
  if (!store) return 2;
  install_interrupt_handlers();
  const DesignSpec& d = base.design;
  if (!opt.quiet) {
    const int optimizers = planned_optimizers(d, space.choices());
    const std::string fewer =
        optimizers < d.starts_per_choice * space.choices()
            ? fmt::format(" (only {}: the first population of {} holds fewer than {} points of some choice)",
                          optimizers, std::min<long>(d.initial_population, d.max_evaluations), d.starts_per_choice)
            : std::string();
    fmt::print("strata {} ({}): optimize '{}' from {}: {} variables, {} discrete choice(s), {} x {} per choice{}, "
               "objective {} ({}), {} constraint(s) by penalty (weight {:g}), budget {} evaluations -> {}\n",
               STRATA_VERSION, STRATA_GIT_REV, base.name, opt.scenario_path, space.dimensions(), space.choices(),
               d.algorithm, d.starts_per_choice, fewer, d.objective, d.sampler, d.constraints.size(), d.penalty_weight,
               d.max_evaluations, h5_path);
  }
  if (!opt.quiet && !opt.device_note.empty()) fmt::print("{}\n", opt.device_note);
  EngineEvaluator evaluator(base, *store, info, *runner);
  const bool tty = !opt.quiet && isatty(STDERR_FILENO);
  auto progress = [&](const CampaignProgress& p) {
    if (!tty) return;
    const double eta = p.evaluations > 0 ? p.elapsed_s * (double(p.budget) / p.evaluations - 1.0) : 0.0;
    std::fprintf(stderr, "\roptimize: %ld/%ld evaluations, %ld batches, best %.6g, %.0f s, ETA <= %.0f s   ",
                 p.evaluations, p.budget, p.batches, p.best_objective, p.elapsed_s, eta);
  };
  CampaignResult res;
  try {
    res = run_campaign(base, evaluator, progress, interrupt_requested);
    store->write_buffered();
    if (tty) std::fprintf(stderr, "\n");
    // Optimiser trajectories. A resumed campaign replays its search from the start, so
    // its logs are whole and replace those an interrupted run wrote.
    for (size_t k = 0; k < res.logs.size(); ++k)
      if (!res.logs[k].iteration.empty())
        store->write_optimizer(static_cast<int>(k), res.logs[k].algorithm, res.logs[k].end, space.variable_names(),
                               res.logs[k].iteration, res.logs[k].design_id, res.logs[k].points,
                               res.logs[k].objective, res.logs[k].best_objective);
    // Trajectories of the best design of every discrete choice.
    std::vector<VariantSpec> best;
    std::vector<int64_t> best_ids;
    for (const CampaignBest& b : res.best_per_choice)
      if (b.design_id >= 0 && !store->has_trajectory(b.design_id)) {
        best.push_back(evaluator.variants().at(b.design_id));
        best_ids.push_back(b.design_id);
      }
    if (!interrupt_requested()) record_trajectories(base, *runner, best, best_ids, *store);
    store->finish(interrupt_requested() ? "interrupted" : "complete");
  } catch (const std::exception& e) {
    std::cerr << "error: " << h5_path << ": " << e.what() << "\n";
    return 3;
  }
  if (!opt.quiet) {
    fmt::print("\n{} evaluations ({} read back from the file) in {} batches; first population {}, then {} optimiser "
               "batches of mean size {:.2f} ({} optimisers; {} points asked again answered from earlier "
               "evaluations)\n",
               res.evaluations, evaluator.replayed(), res.batches, std::min<long>(d.initial_population, d.max_evaluations),
               res.optimizer_batches, res.mean_batch_size, res.optimizers, res.reused);
    const double engine_s = res.evaluate_s - store->write_s(), wall = std::max(res.wall_s, 1e-9);
    fmt::print("time: {:.2f} s: engine {:.1f}%, HDF5 {:.2f}%, outside the engine (gate, NLopt, HDF5, bookkeeping) "
               "{:.2f}%; {:.3f} s per batch\n",
               res.wall_s, 100.0 * engine_s / wall, 100.0 * store->write_s() / wall, 100.0 * (wall - engine_s) / wall,
               res.wall_s / std::max<long>(res.batches, 1));
    const ObjectiveSpec* spec = find_objective(base.objectives, d.objective);
    const std::string units = spec ? objective_units(*spec) : "-";
    for (const CampaignBest& b : res.best_per_choice)
      fmt::print("best of choice {}: {}\n", b.choice, describe(space, d, b, units, " of this choice"));
    fmt::print("overall best: {}\n", describe(space, d, res.best, units, ""));
    for (size_t k = 0; k < res.logs.size(); ++k)
      fmt::print("  optimiser {} (choice {}): {} iterations, {}\n", k, res.logs[k].choice, res.logs[k].iteration.size(),
                 res.logs[k].end);
    if (!runner->summary().empty()) fmt::print("{}\n", runner->summary());
    fmt::print("results: {}\n", h5_path);
  }
  if (interrupt_requested()) {
    std::cerr << "interrupted: continue with --resume " << h5_path << "\n";
    return 130;
  }
  return 0;
}

}  // namespace strata
