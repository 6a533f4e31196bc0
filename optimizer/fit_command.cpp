
#include <filesystem>
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "host/build_info.hpp"
#include "host/interrupt.hpp"
#include "host/scenario_loader.hpp"
#include "optimizer/design_space.hpp"
#include "optimizer/fit.hpp"
#include "optimizer/optimize_command.hpp"

namespace strata {

int run_fit_command(const SimulateOptions& opt) {
  Scenario base;
  if (!load_scenario_reporting(opt.scenario_path, base)) return 2;
  if (!base.fit.present) {
    std::cerr << "error: " << opt.scenario_path
              << ": no [fit] section; strata fit needs parameters and targets (docs/scenario-format.md)\n";
    return 2;
  }
  const std::unique_ptr<VariantRunner> runner = make_runner_reporting(opt, base);
  if (!runner) return 2;
  const Scenario campaign = fit_campaign_scenario(base);
  RunInfo info = run_info_for(campaign, opt.command, runner->device_description());
  info.var_paths = DesignSpace(campaign).variable_names();
  info.n_designs = base.fit.max_evaluations * static_cast<int64_t>(base.variants.size());
  info.seed = static_cast<int64_t>(base.fit.seed);
  info.constraints.clear();
  const std::string h5_path = results_path(opt, safe_file_stem(base.name) + "_fit");
  std::optional<ResultsStore> store = open_results_reporting(opt, h5_path, info);
  if (!store) return 2;
  if (!opt.quiet)
    fmt::print("strata {} ({}): fit '{}' from {}: {} parameters, {} targets on {} electrode(s), {}, budget {} points -> {}\n",
               STRATA_VERSION, STRATA_GIT_REV, base.name, opt.scenario_path, base.fit.parameters.size(),
               base.fit.targets.size(), base.variants.size(), base.fit.algorithm, base.fit.max_evaluations, h5_path);
  if (!opt.quiet && !opt.device_note.empty()) fmt::print("{}\n", opt.device_note);
  FitEvaluator evaluator(base, &*store, &info, *runner);
  FitReport rep;
  try {
    rep = run_fit(base, evaluator);
    write_fit_report(*store, base, rep);
    store->finish("complete");
  } catch (const std::exception& e) {
    std::cerr << "error: " << h5_path << ": " << e.what() << "\n";
    return 3;
  }
  if (!opt.quiet) {
    fmt::print("\n{} parameter points in {} batches ({} read back from the file); chi2 = {:.4g} with {} degrees of freedom\n",
               rep.evaluations, rep.batches, evaluator.replayed(), rep.chi2, rep.dof);
    fmt::print("{:<45} {:>14} {:>14}\n", "parameter", "value", "1-sigma");
    for (size_t j = 0; j < rep.names.size(); ++j)
      fmt::print("{:<45} {:>14.6g} {:>14.3g}\n", rep.names[j], rep.values[j], rep.sigma[j]);
    if (!rep.jacobian_ok) fmt::print("  (uncertainties unavailable: the Jacobian is singular or a design failed)\n");
    fmt::print("{:<20} {:<16} {:>12} {:>12} {:>10} {:>10}\n", "target", "electrode", "measured", "simulated", "sigma",
               "residual");
    for (size_t t = 0; t < base.fit.targets.size(); ++t) {
      const FitTarget& tg = base.fit.targets[t];
      if (tg.metric.kind == "potential_curve")  // simulated: RMS potential difference; residual: RMS weighted
        fmt::print("{:<20} {:<16} {:>12} {:>11.4g}V {:>9.3g}V {:>10.3f}\n", tg.name, tg.variant,
                   fmt::format("curve({})", tg.curve_capacity_mAh_g.size()), rep.simulated[t], tg.sigma,
                   rep.weighted_residuals[t]);
      else
        fmt::print("{:<20} {:<16} {:>12.5g} {:>12.5g} {:>10.3g} {:>10.3f}\n", tg.name, tg.variant, tg.value,
                   rep.simulated[t], tg.sigma, rep.weighted_residuals[t]);
    }
    if (!runner->summary().empty()) fmt::print("{}\n", runner->summary());
    fmt::print("results: {}\n", h5_path);
  }
  return 0;
}

}  // namespace strata
