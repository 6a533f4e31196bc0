// A material choice (a discrete design variable) reaches the engine: the variant
// built by the design space swaps the layer's material, the batch simulates the
// chosen material, and both choices can share one batch.
#include <gtest/gtest.h>

#include "host/cpu_backend.hpp"
#include "host/simulate.hpp"
#include "optimizer/design_space.hpp"
#include "tests/unit/test_support.hpp"

using namespace strata;

TEST(MaterialChoice, DesignSpaceVariantSwapsTheLayerMaterialInTheEngine) {
  Scenario s = test::bilayer_scenario({"Charge at 1C until 3.6 V"});
  s.design.present = true;
  s.design.variables = {{"layers[0].porosity", 0.3, 0.5, false}};
  s.design.material_choices = {{0, 0, {"sloping", "plateau"}}};
  const DesignSpace space(s);
  ASSERT_EQ(space.choices(), 2);
  Scenario light = s;
  light.variants.clear();
  std::vector<ResolvedVariant> vars;
  for (int c = 0; c < 2; ++c) vars.push_back(resolve_variant(light, space.variant({c, {0.4}, "t"})));
  for (const auto& rv : vars) ASSERT_TRUE(rv.rejected.empty()) << rv.rejected;
  EXPECT_EQ(vars[0].scenario.layers[0].materials[0].material, "sloping");
  EXPECT_EQ(vars[1].scenario.layers[0].materials[0].material, "plateau");
  Batch b = build_batch(vars, Layout::Blocked);  // one batch, two materials in slot 0
  run_batch_cpu(b, 0);
  ASSERT_EQ(test::status(b, 0), 0);
  ASSERT_EQ(test::status(b, 1), 0);
  EXPECT_EQ(b.material_names[b.slot_material[0 * b.shape.n_slots + 0]], "sloping");
  EXPECT_EQ(b.material_names[b.slot_material[1 * b.shape.n_slots + 0]], "plateau");
  EXPECT_NE(test::capacity_mAh_g(b, 0, 0), test::capacity_mAh_g(b, 1, 0));
  // An unknown material is a rejected design, with the reason.
  VariantSpec bad = space.variant({0, {0.4}, "t"});
  bad.material_overrides["layers[0].materials[0].name"] = "unobtainium";
  const ResolvedVariant rv = resolve_variant(light, bad);
  EXPECT_NE(rv.rejected.find("unobtainium"), std::string::npos) << rv.rejected;
}
