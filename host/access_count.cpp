#include "host/access_count.hpp"

#include <vector>

#include "kernels/dfn_protocol.hpp"

namespace strata {

namespace {
// A strided view that counts its element accesses.
struct CountingView {
  double* base = nullptr;
  std::ptrdiff_t stride = 1;
  long* count = nullptr;
  double& operator[](std::ptrdiff_t k) const {
    ++*count;
    return base[k * stride];
  }
  CountingView at(std::ptrdiff_t k) const { return CountingView{base + k * stride, stride, count}; }
};
}  // namespace

AccessCount count_record_accesses(const Batch& batch, int v) {
  Batch b = batch;  // own copy: tables rebound below
  b.rebind_tables();
  std::vector<double> rec(b.shape.record_size), out(b.out_record_size() + 1);
  const Strided<double> src = b.view(v);
  for (long k = 0; k < b.shape.record_size; ++k) rec[k] = src[k];
  AccessCount c;
  const CountingView rv{rec.data(), 1, &c.record_accesses};
  const CountingView ov{out.data(), 1, &c.record_accesses};
  run_protocol(b.shape, b.tables, rv, b.steps.data(), static_cast<int>(b.steps.size()), ov);
  c.time_steps = static_cast<long>(rec[b.shape.o_misc + kMiscTimeSteps]);
  c.newton_iterations = static_cast<long>(rec[b.shape.o_misc + kMiscNewtonIters]);
  c.record_doubles = b.shape.record_size;
  return c;
}

}  // namespace strata
