// The design search against a cheap synthetic objective behind the same evaluator
// interface as the engine: convergence of several NLopt algorithms, real batching at
// the gate, and bitwise reproducibility from the seed.
#include <gtest/gtest.h>

#include <cmath>
#include <mutex>
#include <set>

#include "host/results_store.hpp"

#include "optimizer/campaign.hpp"
#include "optimizer/design_space.hpp"
#include "optimizer/sampling.hpp"

using namespace strata;

namespace {

// Maximise f(x) = peak[choice] - sum_j ((x_j - c_j) / w_j)^2 over a 3-D box; the best
// choice is 1 with its optimum at c (inside the bounds).
const std::vector<double> kCentre = {0.37, 2.2e-6, 0.61};
const std::vector<double> kScale = {0.1, 1e-6, 0.2};
const std::vector<double> kPeak = {1.0, 2.0};

class SyntheticEvaluator : public BatchEvaluator {
 public:
  explicit SyntheticEvaluator(const Scenario& s) : base_(s) {}
  std::vector<Evaluation> evaluate(const std::vector<DesignPoint>& pts) override {
    std::vector<Evaluation> out;
    for (const DesignPoint& p : pts) {
      double f = kPeak[p.choice];
      for (size_t j = 0; j < p.x.size(); ++j) f -= std::pow((p.x[j] - kCentre[j]) / kScale[j], 2);
      out.push_back(make_evaluation(base_, next_id_++, 0, f, {}));
      seen.push_back(p);
    }
    sizes.push_back(static_cast<int>(pts.size()));
    return out;
  }
  std::vector<DesignPoint> seen;
  std::vector<int> sizes;

 private:
  const Scenario& base_;
  int64_t next_id_ = 0;
};

Scenario synthetic_scenario(const std::string& algorithm) {
  Scenario s;
  ObjectiveSpec o;
  o.name = "f";
  o.maximize = true;
  s.objectives = {o};
  s.layers.resize(2);
  DesignSpec& d = s.design;
  d.present = true;
  d.objective = "f";
  d.variables = {{"layers[0].porosity", 0.2, 0.6, false},
                 {"layers[0].materials[0].particle_radius_m", 5e-7, 1e-5, true},
                 {"layers[1].porosity", 0.3, 0.9, false}};
  d.layer_orders = {{0, 1}, {1, 0}};
  d.algorithm = algorithm;
  d.initial_population = 24;
  d.starts_per_choice = 2;
  d.max_evaluations = 6000;
  d.max_evaluations_per_optimizer = 1200;
  d.xtol_rel = 1e-8;
  d.ftol_rel = 1e-12;
  d.seed = 42;
  return s;
}

}  // namespace

TEST(OptimizerSampling, LatinHypercubeFillsEveryStratumOnce) {
  const auto pts = latin_hypercube(17, 3, 5);
  for (int j = 0; j < 3; ++j) {
    std::vector<int> count(17, 0);
    for (const auto& p : pts) {
      ASSERT_GE(p[j], 0.0);
      ASSERT_LT(p[j], 1.0);
      ++count[static_cast<int>(p[j] * 17)];
    }
    for (int c : count) EXPECT_EQ(c, 1);
  }
  EXPECT_EQ(latin_hypercube(17, 3, 5), pts);
  EXPECT_NE(latin_hypercube(17, 3, 6), pts);
}

class OptimizerConverges : public ::testing::TestWithParam<std::string> {};

TEST_P(OptimizerConverges, ToTheKnownOptimumAndTheBetterChoice) {
  const Scenario s = synthetic_scenario(GetParam());
  SyntheticEvaluator ev(s);
  const CampaignResult r = run_campaign(s, ev);
  EXPECT_EQ(r.best.choice, 1);
  EXPECT_NEAR(r.best.objective, kPeak[1], 1e-4);
  for (size_t j = 0; j < kCentre.size(); ++j)
    EXPECT_NEAR(r.best.x[j], kCentre[j], 0.01 * kScale[j]) << "variable " << j;
  EXPECT_EQ(r.best_per_choice[0].choice, 0);
  EXPECT_NEAR(r.best_per_choice[0].objective, kPeak[0], 1e-4);
  EXPECT_LE(r.evaluations, s.design.max_evaluations);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, OptimizerConverges,
                         ::testing::Values("LN_BOBYQA", "LN_COBYLA", "LN_SBPLX", "LN_NELDERMEAD", "LD_MMA",
                                           "LD_SLSQP", "LD_LBFGS", "LN_AUGLAG"));

TEST(OptimizerGate, EveryBatchHoldsOnePointPerParkedOptimiser) {
  const Scenario s = synthetic_scenario("LN_BOBYQA");
  SyntheticEvaluator ev(s);
  const CampaignResult r = run_campaign(s, ev);
  ASSERT_EQ(r.optimizers, 4);
  ASSERT_FALSE(r.points_per_batch.empty());
  EXPECT_EQ(r.parked_per_batch.front(), 4);  // all optimisers start together
  long points = 0;
  for (size_t b = 0; b < r.points_per_batch.size(); ++b) {
    EXPECT_EQ(r.points_per_batch[b], r.parked_per_batch[b]) << "batch " << b;  // derivative-free: 1 point each
    points += r.points_per_batch[b];
  }
  EXPECT_DOUBLE_EQ(r.mean_batch_size, double(points) / r.points_per_batch.size());
  EXPECT_EQ(ev.sizes.front(), s.design.initial_population);  // the first population is one batch
}

TEST(OptimizerGate, GradientStencilsShareTheBatch) {
  const Scenario s = synthetic_scenario("LD_MMA");
  SyntheticEvaluator ev(s);
  const CampaignResult r = run_campaign(s, ev);
  ASSERT_GE(r.points_per_batch.size(), 2u);
  // Each parked gradient optimiser contributes its point and 3 stencil points; in the
  // first batch only the stencil, as its point is its start, known from the first
  // population.
  EXPECT_EQ(r.points_per_batch[0], 3 * r.parked_per_batch[0]);
  EXPECT_EQ(r.points_per_batch[1], 4 * r.parked_per_batch[1]);
}

// A point asked for again (each optimiser's start point, a revisited simplex vertex)
// is answered from its first evaluation, never simulated twice.
TEST(OptimizerReuse, NoPointIsSimulatedTwice) {
  for (const char* alg : {"LN_BOBYQA", "LN_NELDERMEAD", "LN_SBPLX", "LD_MMA"}) {
    Scenario s = synthetic_scenario(alg);
    s.design.max_evaluations = 1500;
    SyntheticEvaluator ev(s);
    const CampaignResult r = run_campaign(s, ev);
    std::set<std::pair<int, std::vector<double>>> distinct;
    for (const DesignPoint& p : ev.seen) distinct.insert({p.choice, p.x});
    EXPECT_EQ(distinct.size(), ev.seen.size()) << alg;
    EXPECT_GE(r.reused, r.optimizers) << alg << ": every start point is reused";
    EXPECT_EQ((long)ev.seen.size(), r.evaluations) << alg;
    for (const OptimizerLog& log : r.logs) {  // the first row is the start: a first-population design
      ASSERT_FALSE(log.design_id.empty()) << alg;
      EXPECT_LT(log.design_id.front(), s.design.initial_population) << alg;
    }
  }
}

TEST(OptimizerReproducible, SameSeedGivesBitwiseIdenticalEvaluations) {
  for (const char* alg : {"LN_COBYLA", "GN_CRS2_LM", "GN_ISRES"}) {
    Scenario s = synthetic_scenario(alg);
    s.design.max_evaluations = 800;
    SyntheticEvaluator a(s), b(s);
    run_campaign(s, a);
    run_campaign(s, b);
    ASSERT_EQ(a.seen.size(), b.seen.size()) << alg;
    for (size_t i = 0; i < a.seen.size(); ++i) {
      ASSERT_EQ(a.seen[i].x, b.seen[i].x) << alg << " evaluation " << i;
      ASSERT_EQ(a.seen[i].choice, b.seen[i].choice);
      ASSERT_EQ(a.seen[i].producer, b.seen[i].producer);
    }
    EXPECT_EQ(a.sizes, b.sizes) << alg;
  }
}

TEST(OptimizerBudget, StopsAtTheEvaluationBudget) {
  Scenario s = synthetic_scenario("LN_SBPLX");
  s.design.max_evaluations = 100;
  SyntheticEvaluator ev(s);
  const CampaignResult r = run_campaign(s, ev);
  EXPECT_LE(r.evaluations, 100);
  EXPECT_GE(r.evaluations, 96);  // the last batch may not fit whole
  EXPECT_EQ((long)ev.seen.size(), r.evaluations);
  for (const OptimizerLog& log : r.logs) EXPECT_EQ(log.end, "evaluation budget spent");
}

TEST(OptimizerBudget, AnInterruptedCampaignSaysSo) {
  Scenario s = synthetic_scenario("LN_SBPLX");
  SyntheticEvaluator ev(s);
  int asked = 0;
  const CampaignResult r = run_campaign(s, ev, nullptr, [&] { return ++asked > 3; });
  EXPECT_LT(r.evaluations, s.design.max_evaluations);
  ASSERT_FALSE(r.logs.empty());
  for (const OptimizerLog& log : r.logs) EXPECT_EQ(log.end, "interrupted");
}

TEST(OptimizerObjectives, WeightedSumCombinesOtherObjectives) {
  VariantResult r;
  r.status = 0;
  StepResult low, high;
  low.capacity_mAh_g = 100.0;
  high.capacity_mAh_g = 60.0;
  high.capacity_mAh_cm2 = 1.5;
  r.steps = {low, high};
  ObjectiveSpec ret, cap, sum;
  ret.name = "ret";
  ret.kind = "retention";
  ret.step = 1;
  ret.reference_step = 0;
  cap.name = "cap";
  cap.kind = "capacity_mAh_cm2";
  cap.step = 1;
  sum.name = "sum";
  sum.kind = "weighted_sum";
  sum.term_objectives = {"ret", "cap"};
  sum.term_weights = {1.0, -0.2};
  const std::vector<double> v = objective_values({sum, ret, cap}, r);
  EXPECT_DOUBLE_EQ(v[1], 0.6);
  EXPECT_DOUBLE_EQ(v[2], 1.5);
  EXPECT_DOUBLE_EQ(v[0], 0.6 - 0.2 * 1.5);
  r.status = 1;
  EXPECT_TRUE(std::isnan(objective_values({sum, ret, cap}, r)[0]));
}

TEST(OptimizerDesignSpace, MaterialChoicesCrossLayerOrders) {
  Scenario s = synthetic_scenario("LN_BOBYQA");
  s.design.material_choices = {{0, 0, {"A", "B"}}, {1, 0, {"C", "D", "E"}}};
  const DesignSpace space(s);
  ASSERT_EQ(space.choices(), 2 * 2 * 3);
  std::set<std::string> seen;
  for (int c = 0; c < space.choices(); ++c) {
    const VariantSpec vs = space.variant({c, {0.3, 1e-6, 0.5}, "t"});
    EXPECT_EQ(vs.layer_order, space.order(c));
    ASSERT_EQ(vs.material_overrides.size(), 2u);
    seen.insert(std::to_string(vs.layer_order[0]) + vs.material_overrides.at("layers[0].materials[0].name") +
                vs.material_overrides.at("layers[1].materials[0].name"));
  }
  EXPECT_EQ(seen.size(), 12u);  // every (order, material, material) combination once
}

// The optimiser count announced before a campaign is the one it starts, also when the
// first population is too small to give every choice its starts_per_choice points.
TEST(OptimizerStarts, PlannedCountMatchesTheCampaign) {
  for (int population : {24, 5, 3, 1}) {
    Scenario s = synthetic_scenario("LN_BOBYQA");
    s.design.initial_population = population;
    s.design.max_evaluations = 200;
    SyntheticEvaluator ev(s);
    const CampaignResult r = run_campaign(s, ev);
    EXPECT_EQ(planned_optimizers(s.design, 2), r.optimizers) << "first population " << population;
  }
  Scenario s = synthetic_scenario("LN_BOBYQA");
  s.design.initial_population = 3;
  EXPECT_EQ(planned_optimizers(s.design, 2), 3);  // 2 points of choice 0, 1 of choice 1
  s.design.initial_population = 24;
  EXPECT_EQ(planned_optimizers(s.design, 2), 4);
}

// An evaluator that throws in the optimiser phase (a file that cannot be written, a
// lost rank) ends the campaign with that exception once the optimiser threads have
// stopped, instead of leaving them waiting at the gate (std::terminate).
TEST(OptimizerGate, EvaluatorErrorEndsTheCampaignWithThatError) {
  struct Failing : SyntheticEvaluator {
    using SyntheticEvaluator::SyntheticEvaluator;
    std::vector<Evaluation> evaluate(const std::vector<DesignPoint>& pts) override {
      if (++calls == 4) throw std::runtime_error("disk full");
      return SyntheticEvaluator::evaluate(pts);
    }
    int calls = 0;
  };
  for (const char* alg : {"LN_BOBYQA", "LD_MMA"}) {
    const Scenario s = synthetic_scenario(alg);
    Failing ev(s);
    try {
      run_campaign(s, ev);
      ADD_FAILURE() << alg << ": no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "disk full") << alg;
    }
    EXPECT_EQ(ev.calls, 4) << alg << ": no batch after the failing one";
  }
}
