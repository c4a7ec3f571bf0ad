#pragma once
/// \file A small box-constrained quasi-Newton minimiser for surrogate hyper-parameters.
///
/// Projected L-BFGS (Nocedal & Wright 2006, §7.2 two-loop recursion; variables at an active bound
/// are frozen as in L-BFGS-B, Byrd et al. 1995) with an Armijo backtracking search along the
/// projected path. Enough for the few (1..d+1) smooth log-parameters of a Gaussian process.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <deque>
#include <limits>
#include <utility>
#include <vector>

namespace nat::surrogate::detail {

/// Result of bounded_lbfgs: the best point found and its value.
struct lbfgs_result {
  Eigen::VectorXd x;
  double f = std::numeric_limits<double>::infinity();
  std::size_t iterations = 0;
  std::size_t evaluations = 0;
};

/// Minimises f over lo <= x <= hi from x0. `fg(x, grad)` returns f(x) and writes its gradient; a
/// non-finite value marks an infeasible point (the search backs off from it).
template <class FG>
lbfgs_result bounded_lbfgs(FG&& fg, Eigen::VectorXd x0, const Eigen::VectorXd& lo,
                           const Eigen::VectorXd& hi, std::size_t max_iter = 100,
                           std::size_t memory = 8, double ftol = 1e-9, double gtol = 1e-6) {
  const Eigen::Index n = x0.size();
  auto project = [&](Eigen::VectorXd v) { return v.cwiseMax(lo).cwiseMin(hi).eval(); };
  lbfgs_result res;
  Eigen::VectorXd x = project(std::move(x0)), g(n), gn(n);
  double f = fg(x, g);
  ++res.evaluations;
  res.x = x;
  res.f = f;
  if (!std::isfinite(f)) return res;
  std::deque<Eigen::VectorXd> S, Y;
  for (std::size_t it = 0; it < max_iter; ++it) {
    res.iterations = it + 1;
    // Free variables: not pinned at a bound by a gradient pushing outwards.
    Eigen::VectorXd free_mask(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const bool at_lo = x(i) <= lo(i) && g(i) > 0, at_hi = x(i) >= hi(i) && g(i) < 0;
      free_mask(i) = (at_lo || at_hi) ? 0.0 : 1.0;
    }
    const Eigen::VectorXd gf = g.cwiseProduct(free_mask);
    if (gf.lpNorm<Eigen::Infinity>() < gtol) break;
    // Two-loop recursion on the free subspace.
    Eigen::VectorXd q = gf;
    std::vector<double> alpha(S.size());
    for (std::size_t k = S.size(); k-- > 0;) {
      const double rho = 1.0 / Y[k].cwiseProduct(free_mask).dot(S[k]);
      if (!std::isfinite(rho) || rho <= 0) {
        alpha[k] = 0;
        continue;
      }
      alpha[k] = rho * S[k].cwiseProduct(free_mask).dot(q);
      q -= alpha[k] * Y[k].cwiseProduct(free_mask);
    }
    if (!S.empty()) {
      const double sy = S.back().dot(Y.back()), yy = Y.back().squaredNorm();
      if (sy > 0 && yy > 0) q *= sy / yy;
    } else {
      q /= std::max(1.0, gf.lpNorm<Eigen::Infinity>());
    }
    for (std::size_t k = 0; k < S.size(); ++k) {
      const double rho = 1.0 / Y[k].cwiseProduct(free_mask).dot(S[k]);
      if (!std::isfinite(rho) || rho <= 0) continue;
      const double beta = rho * Y[k].cwiseProduct(free_mask).dot(q);
      q += S[k].cwiseProduct(free_mask) * (alpha[k] - beta);
    }
    Eigen::VectorXd dir = -q.cwiseProduct(free_mask);
    if (!(dir.dot(gf) < 0)) {  // not a descent direction: restart from steepest descent
      S.clear();
      Y.clear();
      dir = -gf / std::max(1.0, gf.lpNorm<Eigen::Infinity>());
    }
    // Armijo backtracking along the projected path.
    double t = 1.0, fn = std::numeric_limits<double>::infinity();
    Eigen::VectorXd xn;
    bool accepted = false;
    for (int ls = 0; ls < 30; ++ls) {
      xn = project(x + t * dir);
      fn = fg(xn, gn);
      ++res.evaluations;
      if (std::isfinite(fn) && fn <= f + 1e-4 * g.dot(xn - x)) {
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) break;
    const Eigen::VectorXd s = xn - x, y = gn - g;
    if (s.dot(y) > 1e-12 * s.norm() * y.norm()) {
      S.push_back(s);
      Y.push_back(y);
      if (S.size() > memory) {
        S.pop_front();
        Y.pop_front();
      }
    }
    const double df = f - fn;
    x = xn;
    g = gn;
    f = fn;
    if (df <= ftol * std::max({std::abs(f), std::abs(fn), 1.0})) break;
  }
  res.x = x;
  res.f = f;
  return res;
}

}  // namespace nat::surrogate::detail
