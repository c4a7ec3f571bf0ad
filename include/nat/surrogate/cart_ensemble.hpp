#pragma once
/// \file An ensemble of regression trees on random feature subsets (random subspaces).
///
/// The "carts" predictor of NSGANetV2/NAT (nat_spec.md §3, after E2EPP, Sun et al. 2019): each
/// tree is fully grown on all samples (shuffled, no bootstrap by default) using a random feature
/// subset whose size is uniform in {1..d}; the prediction is the trees' mean (Ho 1998, random
/// subspaces; Breiman 1996, bagging, when `bootstrap` is on).
#include <algorithm>
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
};

/// Mean of n_trees CART trees on random feature subsets; seeded, thread-count independent.
/// predict_variance gives the trees' spread.
class cart_ensemble : public regressor {
 public:
  /// An unfitted ensemble; `seed` fixes subsets, shuffles and bootstrap draws.
  explicit cart_ensemble(std::uint64_t seed = 0, cart_ensemble_params params = {})
      : params_(params), seed_(seed) {
    if (params.n_trees == 0) throw config_error("cart_ensemble: n_trees must be >= 1, got 0");
    detail::check_cart_params("cart_ensemble", params.tree);
  }

  void fit(const points& X, const std::vector<double>& y) override {
    d_ = detail::check_training("cart_ensemble::fit", X, y);
    const detail::matrix M = detail::to_matrix(X);
    const detail::vector t =
        Eigen::Map<const detail::vector>(y.data(), static_cast<Eigen::Index>(y.size()));
    const std::size_t n = X.size();
    trees_.assign(params_.n_trees, {});
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
        trees_[k].fit(M, t, std::move(rows), feats, params_.tree, r);
      }
    });
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
        double s = 0;
        for (std::size_t k = 0; k < trees_.size(); ++k) {
          v[k] = trees_[k].predict_row(Q, static_cast<Eigen::Index>(i));
          s += v[k];
        }
        const double m = s / static_cast<double>(trees_.size());
        double ss = 0;
        for (double p : v) ss += (p - m) * (p - m);
        mean[i] = m;
        var[i] = ss / static_cast<double>(trees_.size());
      }
    });
  }

  cart_ensemble_params params_;
  std::uint64_t seed_;
  std::vector<detail::tree_model> trees_;
  std::size_t d_ = 0;
  bool fitted_ = false;
};

}  // namespace nat::surrogate
