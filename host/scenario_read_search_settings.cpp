// The NLopt search settings that [design] and [fit] share (algorithm, max_evaluations,
// tolerances, seed), checked once a TableReader has read them.
#define STRATA_TOML_READER 1
#include "host/scenario_reading.hpp"

#include <fmt/format.h>

#include <cctype>
#include <string>

#include <nlopt.h>

namespace strata::scenario_reading {

using detail::TableReader;

namespace {

// A few NLopt algorithm names for messages.
std::string nlopt_examples() {
  return "\"LN_BOBYQA\", \"LN_COBYLA\", \"LN_NELDERMEAD\", \"LN_SBPLX\", \"GN_DIRECT_L\", "
         "\"GN_CRS2_LM\", \"GN_ISRES\", \"GN_ESCH\"";
}

}  // namespace

void check_nlopt_algorithm(const TableReader& tr, const std::string& algorithm) {
  if (nlopt_algorithm_from_string(algorithm.c_str()) != static_cast<nlopt_algorithm>(-1)) return;
  std::string hint;
  std::string upper = algorithm;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (upper.rfind("NLOPT_", 0) == 0) upper = upper.substr(6);
  if (nlopt_algorithm_from_string(upper.c_str()) != static_cast<nlopt_algorithm>(-1))
    hint = fmt::format(" (write \"{}\")", upper);
  tr.fail("algorithm",
          fmt::format("is not an NLopt algorithm{}; allowed an NLopt algorithm name as NLopt "
                      "spells it (nlopt_algorithm_from_string), e.g. {}",
                      hint, nlopt_examples()));
}

long read_max_evaluations(const TableReader& tr, std::optional<long long> max_eval, long fallback,
                          int initial_population) {
  const bool population_given = tr.table().contains("initial_population");
  if (max_eval) {
    if (*max_eval < initial_population)
      tr.fail("max_evaluations",
              fmt::format("is out of range; allowed max_evaluations >= initial_population ({}{}): "
                          "the budget counts every evaluation, the first population included",
                          initial_population, population_given ? "" : ", the default"));
    return static_cast<long>(*max_eval);
  }
  if (fallback < initial_population)
    throw ScenarioError(fmt::format(
        "{}: {} = {} is more than max_evaluations = {} (the default); allowed "
        "initial_population <= max_evaluations (give a larger max_evaluations)",
        tr.file(), tr.key_path("initial_population"), initial_population, fallback));
  return fallback;
}

void check_tolerances(const TableReader& tr, double xtol_rel, double ftol_rel) {
  if (!(xtol_rel > 0.0)) tr.fail("xtol_rel", "is out of range; allowed xtol_rel > 0");
  if (!(ftol_rel >= 0.0)) tr.fail("ftol_rel", "is out of range; allowed ftol_rel >= 0 (0: off)");
}

uint64_t read_seed(const TableReader& tr, std::optional<long long> seed, uint64_t fallback) {
  if (!seed) return fallback;
  if (*seed < 0) tr.fail("seed", "is out of range; allowed seed >= 0 (a whole number)");
  return static_cast<uint64_t>(*seed);
}

}  // namespace strata::scenario_reading
