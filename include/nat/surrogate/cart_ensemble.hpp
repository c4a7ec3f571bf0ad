#pragma once
/// \file An ensemble of regression trees on random feature subsets (random subspaces).
///
/// The "carts" predictor of NSGANetV2/NAT (nat_spec.md §3, after E2EPP, Sun et al. 2019): each
/// tree is fully grown on all samples (shuffled, no bootstrap by default) using a random feature
/// subset whose size is uniform in {1..d}; the prediction is the trees' mean (Ho 1998, random
/// subspaces; Breiman 1996, bagging, when `bootstrap` is on). nat weights the mean by each tree's
/// held-out error by default (`ensemble_weighting`).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/parallel.hpp"
#include "nat/core/points.hpp"
#include "nat/core/rng.hpp"
#include "nat/surrogate/cart.hpp"
#include "nat/surrogate/regressor.hpp"

namespace nat::surrogate {

/// Settings of a tree ensemble (defaults: NSGANetV2's class default of 1000 full-depth trees).
struct cart_ensemble_params {
  std::size_t n_trees = 1000;   ///< number of trees
  cart_params tree;             ///< settings of every tree
  bool random_subspace = true;  ///< each tree sees a random feature subset of size U{min..d}
  /// Smallest feature subset, clamped to d (NAT: 1, i.e. subset sizes uniform in {1..d}).
  std::size_t min_features = 1;
  bool bootstrap = false;  ///< resample rows with replacement per tree (bagging)
  /// Tree weighting. NAT takes the plain mean (`uniform`); the default weights each tree by its
  /// error on rows it was not grown on (out-of-bag rows with `bootstrap`, otherwise a
  /// `holdout_fraction` of the rows for a probe tree before the tree is regrown on all rows).
  ensemble_weighting weighting = ensemble_weighting::inverse_error;
  double holdout_fraction = 0.2;  ///< share of rows held out per probe tree, in (0, 1)
  /// w = mse^-weight_power under inverse_error. Trees gain from averaging far more than smooth
  /// interpolants do, so their weights are kept soft (measured in docs/performance/surrogate.md).
  double weight_power = 0.5;
};

/// Mean of n_trees CART trees on random feature subsets; seeded, thread-count independent.
/// predict_variance gives the trees' (weighted) spread.
class cart_ensemble : public regressor {
 public:
  /// An unfitted ensemble; `seed` fixes subsets, shuffles and bootstrap draws.
  explicit cart_ensemble(std::uint64_t seed = 0, cart_ensemble_params params = {})
      : params_(params), seed_(seed) {
    if (params.n_trees == 0) throw config_error("cart_ensemble: n_trees must be >= 1, got 0");
    detail::check_cart_params("cart_ensemble", params.tree);
    if (!(params.weight_power >= 0) || !std::isfinite(params.weight_power))
      throw config_error("cart_ensemble: weight_power must be finite and >= 0, got " +
                         std::to_string(params.weight_power));
    if (!(params.holdout_fraction > 0 && params.holdout_fraction < 1))
      throw config_error("cart_ensemble: holdout_fraction must be in (0, 1), got " +
                         std::to_string(params.holdout_fraction));
  }

  void fit(const points& X, const std::vector<double>& y) override {
    d_ = detail::check_training("cart_ensemble::fit", X, y);
    const detail::matrix M = detail::to_matrix(X);
    const detail::vector t =
        Eigen::Map<const detail::vector>(y.data(), static_cast<Eigen::Index>(y.size()));
    const std::size_t n = X.size();
    trees_.assign(params_.n_trees, {});
    // Held-out scoring needs a few rows on each side; tiny data sets fall back to the plain mean.
    const auto n_held =
        static_cast<std::size_t>(std::floor(params_.holdout_fraction * static_cast<double>(n)));
    const bool weighted = params_.weighting == ensemble_weighting::inverse_error && n >= 10 &&
                          (params_.bootstrap || (n_held >= 2 && n - n_held >= 2));
    std::vector<double> mse(params_.n_trees, 0.0);
    // Every tree's stream is split off one seeded generator up front: same seed, same forest,
    // whatever the number of threads.
    rng master(seed_);
    std::vector<rng> streams;
    streams.reserve(params_.n_trees);
    for (std::size_t k = 0; k < params_.n_trees; ++k) streams.push_back(master.split());
    parallel_for(0, params_.n_trees, 8, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t k = lo; k < hi; ++k) {
        rng& r = streams[k];
        std::vector<std::size_t> feats;
        if (params_.random_subspace) {
          const auto lo = static_cast<std::int64_t>(
              std::min(std::max<std::size_t>(params_.min_features, 1), d_));
          const auto m = static_cast<std::size_t>(r.uniform_int(lo, static_cast<std::int64_t>(d_)));
          auto perm = r.permutation(d_);
          feats.assign(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(m));
        } else {
          feats.resize(d_);
          std::iota(feats.begin(), feats.end(), std::size_t{0});
        }
        std::vector<std::size_t> rows;
        if (params_.bootstrap) {
          rows.resize(n);
          for (auto& i : rows) i = r.index(n);
        } else {
          rows = r.permutation(n);
        }
        std::vector<std::size_t> held;
        if (weighted && params_.bootstrap) {
          std::vector<char> in(n, 0);
          for (std::size_t i : rows) in[i] = 1;
          for (std::size_t i = 0; i < n; ++i)
            if (!in[i]) held.push_back(i);
        } else if (weighted) {  // probe tree on the first rows, scored on the held-out tail
          held.assign(rows.end() - static_cast<std::ptrdiff_t>(n_held), rows.end());
          std::vector<std::size_t> kept(rows.begin(),
                                        rows.end() - static_cast<std::ptrdiff_t>(n_held));
          trees_[k].fit(M, t, std::move(kept), feats, params_.tree, r);
        }
        if (params_.bootstrap || !weighted)
          trees_[k].fit(M, t, std::move(rows), feats, params_.tree, r);
        if (weighted) {
          double sse = 0;
          for (std::size_t i : held) {
            const double e = trees_[k].predict_row(M, static_cast<Eigen::Index>(i)) -
                             t(static_cast<Eigen::Index>(i));
            sse += e * e;
          }
          mse[k] = held.empty() ? INFINITY : sse / static_cast<double>(held.size());
          if (!params_.bootstrap) trees_[k].fit(M, t, std::move(rows), feats, params_.tree, r);
        }
      }
    });
    weights_ = detail::inverse_error_weights(mse, weighted, t, params_.weight_power);
    fitted_ = true;
  }

  std::vector<double> predict(const points& X) const override {
    detail::check_query("cart_ensemble::predict", X, d_, fitted_);
    std::vector<double> mean, var;
    moments(X, mean, var);
    return mean;
  }

  bool has_variance() const override { return true; }

  /// Population variance of the trees' predictions (a spread, not a calibrated posterior).
  std::vector<double> predict_variance(const points& X) const override {
    detail::check_query("cart_ensemble::predict_variance", X, d_, fitted_);
    std::vector<double> mean, var;
    moments(X, mean, var);
    return var;
  }

  std::string name() const override { return "cart_ensemble"; }
  std::unique_ptr<regressor> clone() const override {
    return std::make_unique<cart_ensemble>(*this);
  }
  bool fitted() const override { return fitted_; }

  /// The settings of this ensemble.
  const cart_ensemble_params& params() const { return params_; }

 private:
  void moments(const points& X, std::vector<double>& mean, std::vector<double>& var) const {
    const detail::matrix Q = detail::to_matrix(X);
    mean.assign(X.size(), 0.0);
    var.assign(X.size(), 0.0);
    parallel_for(0, X.size(), 16, [&](std::size_t lo, std::size_t hi) {
      std::vector<double> v(trees_.size());
      for (std::size_t i = lo; i < hi; ++i) {
        double s = 0, lo = INFINITY, hi = -INFINITY;
        for (std::size_t k = 0; k < trees_.size(); ++k) {
          v[k] = trees_[k].predict_row(Q, static_cast<Eigen::Index>(i));
          s += weights_(static_cast<Eigen::Index>(k)) * v[k];
          lo = std::min(lo, v[k]);
          hi = std::max(hi, v[k]);
        }
        if (lo == hi) s = lo;  // agreeing trees: their value exactly, not a rounded weighted sum
        double ss = 0;
        for (std::size_t k = 0; k < trees_.size(); ++k)
          ss += weights_(static_cast<Eigen::Index>(k)) * (v[k] - s) * (v[k] - s);
        mean[i] = s;
        var[i] = ss;
      }
    });
  }

  cart_ensemble_params params_;
  std::uint64_t seed_;
  std::vector<detail::tree_model> trees_;
  detail::vector weights_;  // sums to 1
  std::size_t d_ = 0;
  bool fitted_ = false;
};

}  // namespace nat::surrogate
