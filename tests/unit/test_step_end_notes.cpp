// The notes that name protocol steps ending at once (limit already met at the start,
// values about 0) or with their limit not located, as simulate and info print them.
#include <gtest/gtest.h>

#include <cmath>

#include "host/results.hpp"

using namespace strata;

namespace {
VariantResult ended(const std::vector<std::string>& reasons) {
  VariantResult r;
  for (const std::string& e : reasons) {
    StepResult s;
    s.end_reason = e;
    r.steps.push_back(s);
  }
  return r;
}
}  // namespace

TEST(StepEndNotes, NameTheStepsThatEndedAtOnceWithTheirCount) {
  const std::vector<std::string> texts = {"Charge at 0.1C until 3.6 V", "Charge at 3C until 3.6 V",
                                          "Discharge at 1C until 2.3 V"};
  const std::vector<VariantResult> results = {
      ended({"limit", "limit at start", "limit"}),
      ended({"limit", "limit at start", "limit (not located to tolerance)"}),
      ended({"limit", "limit", "limit"}),
      ended({"failed", "not run", "not run"}),
  };
  const std::vector<std::string> notes = step_end_notes(texts, results);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_NE(notes[0].find("step 1 \"Charge at 3C until 3.6 V\" ended at once in 2 of 4 design(s)"), std::string::npos)
      << notes[0];
  EXPECT_NE(notes[0].find("already met at the start"), std::string::npos) << notes[0];
  EXPECT_NE(notes[1].find("step 2 \"Discharge at 1C until 2.3 V\": the limit was not located to tolerance in 1 of 4"),
            std::string::npos)
      << notes[1];
  EXPECT_TRUE(step_end_notes(texts, {results[2], results[3]}).empty());
}

TEST(StepEndNotes, NameTheStepsWhereTheElectrolyteLeftItsTables) {
  Electrolyte e;
  e.conductivity_S_m.tabulated = true;
  e.conductivity_S_m.table.x = {0.0, 1000.0, 3000.0};
  e.diffusivity_m2_s.tabulated = true;
  e.diffusivity_m2_s.table.x = {0.0, 2500.0};
  const ElectrolyteTableEnd end = electrolyte_table_end(e);
  EXPECT_EQ(end.c_mol_m3, 2500.0);
  EXPECT_EQ(end.property, "diffusivity_m2_s");
  EXPECT_TRUE(std::isinf(electrolyte_table_end(Electrolyte{}).c_mol_m3));  // constants: no end

  std::vector<VariantResult> results(3, ended({"limit", "limit"}));
  results[0].steps[1].max_ce_mol_m3 = 2400.0;
  results[1].steps[1].max_ce_mol_m3 = 2712.4;
  results[2].steps[1].max_ce_mol_m3 = 2600.0;
  const std::vector<std::string> texts = {"Charge at 0.1C until 3.6 V", "Charge at 3C until 3.6 V"};
  const std::vector<std::string> notes = step_end_notes(texts, results, end);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("step 1 \"Charge at 3C until 3.6 V\": c_e rose above 2500 mol/m3, where the "
                          "electrolyte's diffusivity_m2_s table ends"),
            std::string::npos)
      << notes[0];
  EXPECT_NE(notes[0].find("in 2 of 3 design(s) (highest 2712 mol/m3)"), std::string::npos) << notes[0];
  EXPECT_TRUE(step_end_notes(texts, results).empty());  // no tables, nothing beyond them
}
