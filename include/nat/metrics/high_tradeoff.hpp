#pragma once
/// \file High trade-off points of a front (minimisation): NAT's post-search pick (nat_spec §4.6).
///
/// Rachmawati & Srinivasan 2009 ("Multiobjective evolutionary algorithm with controllable focus on
/// the knees of the Pareto front", IEEE TEC 13(4)) as implemented by pymoo 0.4's
/// `HighTradeoffPoints` and used by NSGANetV2/NAT `post_search.py`: normalise the front, then for
/// each point the least improvement per unit deterioration over its neighbours,
///   mu_i = min over neighbours n of sum_j max(0, F_nj - F_ij) / sum_j max(0, F_ij - F_nj);
/// a large mu_i means leaving point i costs much more than it gains (a knee).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"
#include "nat/metrics/detail/check_points.hpp"

namespace nat::metrics {

/// Settings of tradeoff_mu / high_tradeoff_points.
struct high_tradeoff_options {
  double epsilon = 0.125;  ///< neighbourhood radius in the normalised objective space (pymoo)
  bool normalize = true;   ///< scale each objective to [0, 1] first (NSV2 does; MOEA's copy skips)
};

/// The trade-off mu_i of every row of F (n points, m >= 2 objectives). Neighbours of i are the
/// points within Euclidean distance epsilon; when fewer than min(2m, n-1) are found (counting i
/// itself, as scipy's ball query does), the min(2m, n-1) nearest others are used instead. Pairs
/// with zero gain and zero sacrifice (duplicates) are ignored; mu_i is +inf when no neighbour
/// gains anything (i dominates them all) and NaN when all neighbours are duplicates of i.
/// An objective with zero range is left at 0 by the normalisation (pymoo raises instead).
/// config_error for fewer than 2 objectives, non-finite values or epsilon <= 0; shape_error for
/// ragged rows.
inline std::vector<double> tradeoff_mu(const points& F, const high_tradeoff_options& opt = {}) {
  const char* fn = "tradeoff_mu";
  const std::size_t m = detail::check_points(fn, "F", F, 0, false);
  if (m < 2) throw config_error("tradeoff_mu: needs at least 2 objectives, got 1");
  if (!(opt.epsilon > 0) || !std::isfinite(opt.epsilon))
    throw config_error("tradeoff_mu: epsilon must be positive and finite, got " +
                       std::to_string(opt.epsilon));
  const std::size_t n = F.size();
  points N = F;
  if (opt.normalize) {
    for (std::size_t c = 0; c < m; ++c) {
      double lo = F[0][c], hi = F[0][c];
      for (const auto& f : F) lo = std::min(lo, f[c]), hi = std::max(hi, f[c]);
      for (auto& f : N) f[c] = hi > lo ? (f[c] - lo) / (hi - lo) : 0.0;
    }
  }
  const std::size_t n_min = std::min(2 * m, n - 1);
  std::vector<double> mu(n), dist(n);
  std::vector<std::size_t> nb, order(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < n; ++k) {
      double s = 0.0;
      for (std::size_t c = 0; c < m; ++c) s += (N[k][c] - N[i][c]) * (N[k][c] - N[i][c]);
      dist[k] = std::sqrt(s);
    }
    nb.clear();
    for (std::size_t k = 0; k < n; ++k)
      if (dist[k] <= opt.epsilon) nb.push_back(k);  // includes i itself (distance 0)
    if (nb.size() < n_min) {
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return dist[a] < dist[b]; });
      nb.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_min + 1));
    }
    double best = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t k : nb) {
      double sacrifice = 0.0, gain = 0.0;
      for (std::size_t c = 0; c < m; ++c) {
        const double diff = N[k][c] - N[i][c];
        sacrifice += std::max(0.0, diff);
        gain += std::max(0.0, -diff);
      }
      if (sacrifice == 0.0 && gain == 0.0) continue;  // 0/0: numpy's nanmin skips it
      const double t = gain == 0.0 ? std::numeric_limits<double>::infinity() : sacrifice / gain;
      if (std::isnan(best) || t < best) best = t;
    }
    mu[i] = best;
  }
  return mu;
}

/// Indices of the n rows of F with the largest trade-off mu (best first; +inf ranks above every
/// finite value, NaN below; ties keep the lower index first). n larger than the number of rows
/// returns them all. Same checks as tradeoff_mu().
inline std::vector<std::size_t> high_tradeoff_points(const points& F, std::size_t n,
                                                     const high_tradeoff_options& opt = {}) {
  const auto mu = tradeoff_mu(F, opt);
  std::vector<std::size_t> idx(mu.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  auto key = [&](std::size_t i) {
    return std::isnan(mu[i]) ? -std::numeric_limits<double>::infinity() : mu[i];
  };
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    if (std::isnan(mu[a]) != std::isnan(mu[b])) return std::isnan(mu[b]);
    return key(a) > key(b);
  });
  idx.resize(std::min(n, idx.size()));
  return idx;
}

/// Without n: the outliers of mu's upper tail (pymoo `find_outliers_upper_tail`): over the finite
/// mu values, those at least 2 population standard deviations above their mean; if none and the
/// largest lies more than 1 deviation above, that one alone; otherwise none (empty). Indices in
/// ascending order.
inline std::vector<std::size_t> high_tradeoff_points(const points& F,
                                                     const high_tradeoff_options& opt = {}) {
  const auto mu = tradeoff_mu(F, opt);
  std::vector<std::size_t> fin;
  for (std::size_t i = 0; i < mu.size(); ++i)
    if (std::isfinite(mu[i])) fin.push_back(i);
  if (fin.empty()) return {};
  double mean = 0.0;
  for (std::size_t i : fin) mean += mu[i];
  mean /= double(fin.size());
  double var = 0.0;
  for (std::size_t i : fin) var += (mu[i] - mean) * (mu[i] - mean);
  const double sigma = std::sqrt(var / double(fin.size()));
  if (!(sigma > 0)) return {};  // all equal: no outlier (numpy's 0/0 deviations compare false)
  std::vector<std::size_t> out;
  std::size_t arg_max = fin.front();
  for (std::size_t i : fin) {
    if ((mu[i] - mean) / sigma >= 2.0) out.push_back(i);
    if (mu[i] > mu[arg_max]) arg_max = i;
  }
  if (out.empty() && (mu[arg_max] - mean) / sigma > 1.0) out.push_back(arg_max);
  return out;
}

}  // namespace nat::metrics
