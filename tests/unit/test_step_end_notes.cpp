// The notes that name protocol steps ending at once (limit already met at the start,
// values about 0) or with their limit not located, as simulate and info print them.
#include <gtest/gtest.h>

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
