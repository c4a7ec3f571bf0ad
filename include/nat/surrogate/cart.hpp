#pragma once
/// \file A regression tree grown by variance reduction (CART).
///
/// Breiman et al. 1984, "Classification and Regression Trees", ch. 8: greedy binary splits
/// `x_k <= t` that minimise the children's summed squared error, thresholds half-way between
/// consecutive distinct values (as scikit-learn's DecisionTreeRegressor), leaves predict the mean.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"
#include "nat/core/rng.hpp"
#include "nat/surrogate/regressor.hpp"

namespace nat::surrogate {

/// Settings of a regression tree (defaults: fully grown, like DecisionTreeRegressor()).
struct cart_params {
  std::size_t max_depth = 0;          ///< 0: unlimited
  std::size_t min_samples_leaf = 1;   ///< fewest rows in a leaf
  std::size_t min_samples_split = 2;  ///< fewest rows a node needs to be split
  std::size_t max_features = 0;       ///< features tried per split, drawn at random; 0: all
};

namespace detail {

/// A regression tree over a given set of columns; shared by cart and cart_ensemble.
struct tree_model {
  struct node {
    std::int64_t feature = -1;  // -1: leaf
    double threshold = 0, value = 0;
    std::size_t left = 0, right = 0;
  };
  std::vector<node> nodes;

  /// Grows the tree on rows `rows` of X using only `features`; `r` draws per-split subsets.
  void fit(const matrix& X, const vector& y, std::vector<std::size_t> rows,
           const std::vector<std::size_t>& features, const cart_params& p, rng& r) {
    nodes.clear();
    struct task {
      std::size_t node, lo, hi, depth;
    };
    std::vector<task> stack;
    nodes.push_back({});
    stack.push_back({0, 0, rows.size(), 0});
    std::vector<std::pair<double, std::size_t>> buf;
    std::vector<std::size_t> feats = features;
    const std::size_t n_try =
        p.max_features == 0 ? feats.size() : std::min(p.max_features, feats.size());
    while (!stack.empty()) {
      const task t = stack.back();
      stack.pop_back();
      const std::size_t m = t.hi - t.lo;
      double sum = 0;
      for (std::size_t i = t.lo; i < t.hi; ++i) sum += y(static_cast<Eigen::Index>(rows[i]));
      nodes[t.node].value = sum / static_cast<double>(m);
      if (m < p.min_samples_split || m < 2 * p.min_samples_leaf ||
          (p.max_depth > 0 && t.depth >= p.max_depth))
        continue;
      // Best split = largest sum_L^2/n_L + sum_R^2/n_R (equivalent to least children SSE).
      const double parent = sum * sum / static_cast<double>(m);
      double best_gain = 1e-12 * std::max(1.0, std::abs(parent)), best_thr = 0;
      std::int64_t best_f = -1;
      if (n_try < feats.size())  // partial Fisher-Yates: the first n_try are a random subset
        for (std::size_t i = 0; i < n_try; ++i)
          std::swap(feats[i], feats[i + r.index(feats.size() - i)]);
      for (std::size_t fi = 0; fi < n_try; ++fi) {
        const std::size_t f = feats[fi];
        buf.clear();
        for (std::size_t i = t.lo; i < t.hi; ++i)
          buf.emplace_back(X(static_cast<Eigen::Index>(rows[i]), static_cast<Eigen::Index>(f)),
                           rows[i]);
        std::sort(buf.begin(), buf.end());
        if (buf.front().first == buf.back().first) continue;
        double sl = 0;
        for (std::size_t k = 0; k + 1 < m; ++k) {
          sl += y(static_cast<Eigen::Index>(buf[k].second));
          const std::size_t nl = k + 1, nr = m - nl;
          if (buf[k].first == buf[k + 1].first) continue;
          if (nl < p.min_samples_leaf || nr < p.min_samples_leaf) continue;
          const double sr = sum - sl;
          const double gain =
              sl * sl / static_cast<double>(nl) + sr * sr / static_cast<double>(nr) - parent;
          if (gain > best_gain) {
            best_gain = gain;
            best_f = static_cast<std::int64_t>(f);
            best_thr = 0.5 * (buf[k].first + buf[k + 1].first);
            // The midpoint can round onto the upper value when they are adjacent doubles.
            if (best_thr >= buf[k + 1].first) best_thr = buf[k].first;
          }
        }
      }
      if (best_f < 0) continue;
      const auto mid_it = std::partition(
          rows.begin() + static_cast<std::ptrdiff_t>(t.lo),
          rows.begin() + static_cast<std::ptrdiff_t>(t.hi), [&](std::size_t i) {
            return X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(best_f)) <= best_thr;
          });
      const auto mid = static_cast<std::size_t>(mid_it - rows.begin());
      const std::size_t left = nodes.size();
      nodes.push_back({});
      nodes.push_back({});
      nodes[t.node].feature = best_f;
      nodes[t.node].threshold = best_thr;
      nodes[t.node].left = left;
      nodes[t.node].right = left + 1;
      stack.push_back({left + 1, mid, t.hi, t.depth + 1});
      stack.push_back({left, t.lo, mid, t.depth + 1});
    }
  }

  double predict_row(const matrix& Q, Eigen::Index i) const {
    std::size_t k = 0;
    while (nodes[k].feature >= 0)
      k = Q(i, static_cast<Eigen::Index>(nodes[k].feature)) <= nodes[k].threshold ? nodes[k].left
                                                                                  : nodes[k].right;
    return nodes[k].value;
  }

  std::size_t depth() const {
    std::vector<std::size_t> dep(nodes.size(), 0);
    std::size_t best = 0;
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      best = std::max(best, dep[k]);
      if (nodes[k].feature >= 0) dep[nodes[k].left] = dep[nodes[k].right] = dep[k] + 1;
    }
    return best;
  }
};

inline void check_cart_params(const std::string& fn, const cart_params& p) {
  if (p.min_samples_leaf == 0) throw config_error(fn + ": min_samples_leaf must be >= 1, got 0");
  if (p.min_samples_split < 2)
    throw config_error(fn + ": min_samples_split must be >= 2, got " +
                       std::to_string(p.min_samples_split));
}

}  // namespace detail

/// Regression tree (CART, variance reduction). Constant targets give a one-leaf tree; duplicate
/// rows simply share a leaf. `seed` only matters when max_features picks random features.
class cart : public regressor {
 public:
  /// An unfitted tree.
  explicit cart(std::uint64_t seed = 0, cart_params params = {}) : params_(params), seed_(seed) {
    detail::check_cart_params("cart", params);
  }

  void fit(const points& X, const std::vector<double>& y) override {
    d_ = detail::check_training("cart::fit", X, y);
    const detail::matrix M = detail::to_matrix(X);
    const detail::vector t =
        Eigen::Map<const detail::vector>(y.data(), static_cast<Eigen::Index>(y.size()));
    std::vector<std::size_t> rows(X.size()), feats(d_);
    std::iota(rows.begin(), rows.end(), std::size_t{0});
    std::iota(feats.begin(), feats.end(), std::size_t{0});
    rng r(seed_);
    tree_.fit(M, t, rows, feats, params_, r);
    fitted_ = true;
  }

  std::vector<double> predict(const points& X) const override {
    detail::check_query("cart::predict", X, d_, fitted_);
    const detail::matrix Q = detail::to_matrix(X);
    std::vector<double> out(X.size());
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = tree_.predict_row(Q, static_cast<Eigen::Index>(i));
    return out;
  }

  std::string name() const override { return "cart"; }
  std::unique_ptr<regressor> clone() const override { return std::make_unique<cart>(*this); }
  bool fitted() const override { return fitted_; }

  /// Number of nodes (internal + leaves) of the fitted tree.
  std::size_t node_count() const { return tree_.nodes.size(); }
  /// Depth of the fitted tree (a single leaf has depth 0).
  std::size_t depth() const { return tree_.depth(); }
  /// The settings of this tree.
  const cart_params& params() const { return params_; }

 private:
  cart_params params_;
  std::uint64_t seed_;
  detail::tree_model tree_;
  std::size_t d_ = 0;
  bool fitted_ = false;
};

}  // namespace nat::surrogate
