// Electrolyte transport across sub-layer interfaces (docs/physics.md, section 3): each
// face combines its two half cells as series resistances, which makes the scheme
// exact for the steady profile of a layered medium. Layers of different thickness,
// porosity and tortuosity (and the separator) meet at faces.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/dfn_physics.hpp"
#include "tests/unit/test_support.hpp"

using namespace strata;

namespace {

// The test bilayer with a transport jump at every interface: layer 0 eps 0.25, tau 3
// on 8 cells; layer 1 eps 0.45, Bruggeman 1.5 on 5 cells; separator eps 0.8, Bruggeman.
Scenario layered_scenario() {
  Scenario s = test::bilayer_scenario({"Rest for 1 seconds"});
  s.layers[0] = test::layer("sloping", 30e-6, 8);
  s.layers[0].porosity = 0.25;
  s.layers[0].tortuosity = 3.0;
  s.layers[1] = test::layer("plateau", 70e-6, 5);
  s.layers[1].porosity = 0.45;
  s.layers[1].use_bruggeman = true;
  return s;
}

}  // namespace

// A steady salt flux q through a layered medium with constant D has the profile
// c(x) = c0 - (q/F) integral_0^x dx' / (D beta(x')), linear in each layer with slopes
// in the inverse ratio of the transport factors. At the cell centres of that profile
// the diffusive part of F N+ is q at every face, interfaces included; an arithmetic
// mean of beta at an interface face would miss it by the ratio of the means.
TEST(LayerInterface, SteadyLayeredProfileCarriesTheSameFluxThroughEveryFace) {
  const Scenario s = layered_scenario();
  Batch b = build_batch({{"layered", s, ""}}, Layout::Blocked);
  const DfnShape& S = b.shape;
  auto v = b.view(0);
  const double D = s.electrolyte.diffusivity_m2_s.value, tp = s.electrolyte.transference_number.value;
  const double q_A_m2 = 20.0, c0 = 1000.0, T = s.cell.temperature_K;
  ASSERT_EQ(S.nx, 8 + 5 + 6);
  ASSERT_NE(v[S.o_trans + 0], v[S.o_trans + 8]);
  ASSERT_NE(v[S.o_trans + 12], v[S.o_trans + 13]);

  // The analytic profile at the cell centres: integrate 1/(D beta) across half cells.
  std::vector<double> ce(S.nx), phie(S.nx, 0.0);
  double resistance = 0.0;  // integral of dx / (D beta) from x = 0 to the centre of cell i
  for (int i = 0; i < S.nx; ++i) {
    if (i > 0)
      resistance += 0.5 * v[S.o_dx + i - 1] / (D * v[S.o_trans + i - 1]) + 0.5 * v[S.o_dx + i] / (D * v[S.o_trans + i]);
    ce[i] = c0 - q_A_m2 / kFaraday_C_mol * resistance;
  }
  ASSERT_GT(ce[S.nx - 1], 100.0);

  const SharedTables& tab = b.tables;
  for (int i = 0; i + 1 < S.nx; ++i) {
    double ie = 0.0, FN = 0.0;
    electrolyte_face_flux(tab.data, tab.electrolyte, T, v[S.o_dx + i], v[S.o_trans + i], v[S.o_dx + i + 1],
                          v[S.o_trans + i + 1], ce[i], phie[i], ce[i + 1], phie[i + 1], ie, FN);
    EXPECT_NEAR(FN - tp * ie, q_A_m2, 1e-9 * q_A_m2) << "face " << i << " | " << i + 1;
  }
}
