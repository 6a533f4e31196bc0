#pragma once
// The implicit time scheme of one step, of order 1 (backward Euler) or 2 (BDF2 with
// variable steps), written so that the residual keeps the backward-Euler form
//   (x - x_hist) / h_eff = f(x),
// with, for a step of length h after one of length h1 (w = h / h1),
//   order 1: h_eff = h,                      x_hist = x_old,
//   order 2: h_eff = h (1 + w) / (1 + 2 w),  x_hist = x_old + w^2 / (1 + 2 w) (x_old - x_prev),
// the second being the derivative of the quadratic through (t_n, x), (t_n-1, x_old),
// (t_n-2, x_prev) at t_n (Hairer, Norsett & Wanner I, III.5). Only the differential
// unknowns (c_e, c_s) have a history; the potentials, currents and I are algebraic.
// Variable-step BDF2 is zero-stable for w < 1 + sqrt(2); the integrator grows a BDF2
// step by 2x at most (kMaxGrowthBdf2).
#include <cmath>

#include "kernels/config.hpp"

namespace strata {

constexpr double kMaxGrowthBackwardEuler = 3.0;
constexpr double kMaxGrowthBdf2 = 2.0;

struct ImplicitStep {
  double h_eff_s = 0.0;  // the residual's time coefficient: d x/dt ~ (x - x_hist) / h_eff
  double beta = 0.0;     // x_hist = x_old + beta (x_old - x_prev); 0: backward Euler
};

// The step of length h_s of the given order after an accepted step of length h_prev_s.
STRATA_HD inline ImplicitStep implicit_step(int order, double h_s, double h_prev_s) {
  if (order < 2 || !(h_prev_s > 0.0)) return ImplicitStep{h_s, 0.0};
  const double w = h_s / h_prev_s;
  return ImplicitStep{h_s * (1.0 + w) / (1.0 + 2.0 * w), w * w / (1.0 + 2.0 * w)};
}

// x_hist of one entry: reads x_prev only for order 2, so backward Euler moves no more
// than it did before BDF2 existed.
STRATA_HD inline double history_value(const ImplicitStep& ts, double x_old, double x_prev) {
  return ts.beta == 0.0 ? x_old : x_old + ts.beta * (x_old - x_prev);
}

// A view of x_hist over the entries of old (and prev, the same entries one accepted
// step earlier), for code written against an array of previous values.
template <class VO, class VP>
struct HistoryView {
  VO old;
  VP prev;
  ImplicitStep ts;
  STRATA_HD double operator[](long k) const {
    return ts.beta == 0.0 ? old[k] : history_value(ts, old[k], prev[k]);
  }
};

template <class VO, class VP>
STRATA_HD HistoryView<VO, VP> history_view(const VO& old, const VP& prev, const ImplicitStep& ts) {
  return HistoryView<VO, VP>{old, prev, ts};
}

// The increment over the step of an integral Q' = g (charge, energy), by the same
// scheme as the state: h g for backward Euler, beta dQ_prev + h_eff g for BDF2
// (dQ_prev: the previous step's increment). A conserved quantity of the states then
// changes by exactly the integral of what crosses the boundary.
STRATA_HD inline double step_increment(const ImplicitStep& ts, double previous_increment, double g) {
  return ts.beta == 0.0 ? ts.h_eff_s * g : ts.beta * previous_increment + ts.h_eff_s * g;
}

// Milne's estimate of a backward-Euler step's local error from its distance to the
// linear predictor through the two previous accepted states: the corrector errs by
// h^2 x''/2, the predictor by h (h + h1) x''/2 (the other way), so
//   LTE ~ h / (2h + h1) (x - x_pred)   (1/3 (x - x_pred) at equal steps).
STRATA_HD inline double backward_euler_error_weight(double h_s, double h1_s) { return h_s / (2.0 * h_s + h1_s); }

// Milne's estimate of an order-2 step's local error from its distance to the quadratic
// predictor through the three previous accepted states: the corrector errs by
// h_eff h (h + h1) x'''/6, the predictor by h (h + h1) (h + h1 + h2) x'''/6, so
//   LTE ~ h_eff / (h_eff + h + h1 + h2) (x - x_pred)   (2/11 (x - x_pred) at equal steps).
STRATA_HD inline double bdf2_error_weight(const ImplicitStep& ts, double h_s, double h1_s, double h2_s) {
  return ts.h_eff_s / (ts.h_eff_s + h_s + h1_s + h2_s);
}

// The quadratic through (0, x_old), (-h1, x_prev), (-h1 - h2, x_prev2), at h, in Newton
// form x_old + h d1 + h (h + h1) d2 with the divided differences d1 = (x_old - x_prev)/h1
// and d2 = (d1 - (x_prev - x_prev2)/h2)/(h1 + h2), gathered on the differences:
//   x_old + c1 (x_old - x_prev) - c2 (x_prev - x_prev2),
//   c1 = h/h1 + h (h + h1)/(h1 (h1 + h2)),  c2 = h (h + h1)/(h2 (h1 + h2)),
// so that the coefficients are formed once per step and an entry takes no division.
struct QuadraticPredictor {
  double c1 = 0.0, c2 = 0.0;
  STRATA_HD double at(double x_old, double x_prev, double x_prev2) const {
    return x_old + c1 * (x_old - x_prev) - c2 * (x_prev - x_prev2);
  }
};
STRATA_HD inline QuadraticPredictor quadratic_predictor(double h_s, double h1_s, double h2_s) {
  const double g = h_s * (h_s + h1_s) / (h1_s + h2_s);
  return QuadraticPredictor{h_s / h1_s + g / h1_s, g / h2_s};
}

// The step-length factor for a local error ratio err (<= 1 accepted) of a step of the
// given order: 0.9 err^(-1/(order + 1)), within [0.2, max_growth].
STRATA_HD inline double step_factor(int order, double err, double max_growth) {
  const double f = order >= 2 ? 0.9 / cbrt(err) : 0.9 / sqrt(err);
  return fmin(max_growth, fmax(0.2, f));
}

// The error ratio an accepted step remembers for the predictive controller: at least
// 1e-2 (RADAU5's floor), so that after a very accurate step (err_acc near 0) the
// next one's ordinary error does not read as a steep rise and shrink the step after.
constexpr double kAcceptedErrorFloor = 1e-2;

// The step-length factor after an accepted step of length h_s with error ratio err
// that followed an accepted step of length h_acc_s with (floored) error ratio
// err_acc > 0: Gustafsson's predictive controller (Hairer and Wanner II, IV.8,
// (8.21); RADAU5), the smaller of step_factor and
//   0.9 (h / h_acc) (err_acc / err^2)^(1/(order + 1)),
// which extrapolates the trend of the error ratio: where it rises from step to step
// (a charge curve bending) the next step grows less than this step's error alone
// allows, and is rejected less often. Without a previous accepted step (err_acc or
// h_acc_s 0) it is step_factor.
STRATA_HD inline double predictive_step_factor(int order, double err, double max_growth, double h_s, double h_acc_s,
                                               double err_acc) {
  const double f = step_factor(order, err, max_growth);
  if (!(err_acc > 0.0 && h_acc_s > 0.0)) return f;
  const double trend = err_acc / (err * err);
  const double g = 0.9 * (h_s / h_acc_s) * (order >= 2 ? cbrt(trend) : sqrt(trend));
  return fmin(f, fmax(0.2, g));
}

}  // namespace strata
