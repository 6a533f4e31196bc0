#include "host/table_builder.hpp"

#include <cmath>
#include <stdexcept>

namespace strata {

std::vector<double> pchip_slopes(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = x.size();
  std::vector<double> m(n, 0.0);
  if (n < 2) return m;
  std::vector<double> h(n - 1), delta(n - 1);
  for (size_t k = 0; k + 1 < n; ++k) {
    h[k] = x[k + 1] - x[k];
    delta[k] = (y[k + 1] - y[k]) / h[k];
  }
  if (n == 2) {
    m[0] = m[1] = delta[0];
    return m;
  }
  for (size_t k = 1; k + 1 < n; ++k) {
    if (delta[k - 1] * delta[k] <= 0.0) {
      m[k] = 0.0;
    } else {  // weighted harmonic mean (Fritsch & Butland 1984)
      const double w1 = 2 * h[k] + h[k - 1], w2 = h[k] + 2 * h[k - 1];
      m[k] = (w1 + w2) / (w1 / delta[k - 1] + w2 / delta[k]);
    }
  }
  // One-sided three-point end slopes, limited to keep monotonicity.
  auto end_slope = [](double h0, double h1, double d0, double d1) {
    double s = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1);
    if (s * d0 <= 0.0) s = 0.0;
    else if (d0 * d1 <= 0.0 && std::fabs(s) > std::fabs(3 * d0)) s = 3 * d0;
    return s;
  };
  m[0] = end_slope(h[0], h[1], delta[0], delta[1]);
  m[n - 1] = end_slope(h[n - 2], h[n - 3], delta[n - 2], delta[n - 3]);
  return m;
}

TableRef TableBuilder::add(const Table1D& t) {
  TableRef ref;
  if (t.x.empty()) return ref;
  if (t.x.size() != t.y.size() || t.x.size() < 2) throw std::invalid_argument("table needs >= 2 (x, y) pairs");
  ref.offset = static_cast<int>(data_.size());
  ref.n = static_cast<int>(t.x.size());
  const std::vector<double> m = pchip_slopes(t.x, t.y);
  data_.insert(data_.end(), t.x.begin(), t.x.end());
  data_.insert(data_.end(), t.y.begin(), t.y.end());
  data_.insert(data_.end(), m.begin(), m.end());
  return ref;
}

PropertyFn TableBuilder::add_property(const ScalarOrTable& p) {
  PropertyFn f;
  f.value = p.value;
  if (p.tabulated) f.table = add(p.table);
  return f;
}

MaterialFns TableBuilder::add_material(const ActiveMaterial& m) {
  MaterialFns f;
  if (m.ocp_tabulated) {
    f.ocp.table = add(m.ocp_table_V);
  } else {
    const OcpClosedForm& c = m.ocp_closed;
    if (c.tanh_amplitude_V.size() > static_cast<size_t>(kMaxTanhTerms))
      throw std::invalid_argument("material " + m.name + ": too many tanh terms in the OCP");
    f.ocp.E0_V = c.E0_V;
    f.ocp.slope_V = c.slope_V;
    f.ocp.ideality = c.ideality;
    f.ocp.n_tanh = static_cast<int>(c.tanh_amplitude_V.size());
    for (int k = 0; k < f.ocp.n_tanh; ++k) {
      f.ocp.tanh_amplitude_V[k] = c.tanh_amplitude_V[k];
      f.ocp.tanh_center[k] = c.tanh_center[k];
      f.ocp.tanh_width[k] = c.tanh_width[k];
    }
  }
  f.diffusivity_factor = add(m.diffusivity_factor);
  return f;
}

}  // namespace strata
