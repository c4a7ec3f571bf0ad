#pragma once
/// \file An ensemble of RBF interpolants, each on a random subset of the features.
///
/// NAT's accuracy predictor (Lu et al. 2021, Fig. 2 "random subsets of features -> RBF_1..RBF_k ->
/// ensemble"; nat_spec.md §3): each member fits a cubic RBF with linear tail on a random feature
/// subset whose size is uniform in {1..d}; the prediction is the members' mean. nat weights the
/// mean by each member's leave-one-out error by default (`ensemble_weighting`).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/parallel.hpp"
#include "nat/core/points.hpp"
#include "nat/core/rng.hpp"
#include "nat/surrogate/rbf.hpp"
#include "nat/surrogate/regressor.hpp"

namespace nat::surrogate {

/// Settings of an RBF ensemble (defaults: NAT's 500 cubic members).
struct rbf_ensemble_params {
  std::size_t n_members = 500;  ///< number of RBF members
  rbf_params member;            ///< kernel settings of every member
  /// Smallest feature subset, clamped to d (NAT: 1, i.e. subset sizes uniform in {1..d}).
  std::size_t min_features = 1;
  /// Member weighting. NAT takes the plain mean (`uniform`); the default weights each member by
  /// its leave-one-out error at `probe_rows` training rows (Rippa's formula, nearly free), which
  /// keeps NAT's random subsets but stops members blind to an important input from blurring the
  /// ranking (docs/performance/surrogate.md).
  ensemble_weighting weighting = ensemble_weighting::inverse_error;
  std::size_t probe_rows = 32;  ///< training rows at which members' LOO errors are measured
  double weight_power = 2;      ///< w = mse^-weight_power under inverse_error
};

/// Mean of n_members RBF interpolants on random feature subsets; seeded and thread-count
/// independent. Needs n > d rows like rbf; predict_variance gives the members' spread.
class rbf_ensemble : public regressor {
 public:
  /// An unfitted ensemble; `seed` fixes the feature subsets.
  explicit rbf_ensemble(std::uint64_t seed = 0, rbf_ensemble_params params = {})
      : params_(params), seed_(seed) {
    if (params.n_members == 0) throw config_error("rbf_ensemble: n_members must be >= 1, got 0");
    if (!(params.weight_power >= 0) || !std::isfinite(params.weight_power))
      throw config_error("rbf_ensemble: weight_power must be finite and >= 0, got " +
                         std::to_string(params.weight_power));
    rbf check(params.member);  // validates the member settings
    (void)check;
  }

  void fit(const points& X, const std::vector<double>& y) override {
    d_ = detail::check_training("rbf_ensemble::fit", X, y);
    if (X.size() <= d_)
      throw config_error(
          "rbf_ensemble::fit: the linear tail needs more samples than features (n > d), got n = " +
          std::to_string(X.size()) + ", d = " + std::to_string(d_));
    constant_ = detail::is_constant(y);
    mean_ = y[0];
    members_.clear();
    subsets_.clear();
    fitted_ = true;
    if (constant_) return;
    const detail::matrix M = detail::to_matrix(X);
    const detail::vector t =
        Eigen::Map<const detail::vector>(y.data(), static_cast<Eigen::Index>(y.size()));
    // Draw every subset up front from one stream so the result does not depend on threads.
    rng r(seed_);
    subsets_.resize(params_.n_members);
    for (auto& s : subsets_) {
      const auto lo =
          static_cast<std::int64_t>(std::min(std::max<std::size_t>(params_.min_features, 1), d_));
      const auto k = static_cast<std::size_t>(r.uniform_int(lo, static_cast<std::int64_t>(d_)));
      auto perm = r.permutation(d_);
      s.assign(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(k));
    }
    // Probe rows come after the subsets in the stream: a seed gives NAT's subsets either way.
    std::vector<std::size_t> probe;
    if (params_.weighting == ensemble_weighting::inverse_error && params_.probe_rows > 0) {
      auto perm = r.permutation(X.size());
      probe.assign(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(
                                                    std::min(params_.probe_rows, perm.size())));
    }
    members_.resize(params_.n_members);
    std::vector<double> mse(params_.n_members, 0.0);
    parallel_for(0, params_.n_members, 4, [&](std::size_t lo, std::size_t hi) {
      std::vector<Eigen::Index> merged, rows;
      detail::vector loo;
      for (std::size_t m = lo; m < hi; ++m) {
        detail::matrix S = select(M, subsets_[m]);
        detail::vector tm = t;
        if (probe.empty()) {
          detail::merge_duplicates(S, tm);
          members_[m].fit(S, tm, params_.member);
          continue;
        }
        detail::merge_duplicates(S, tm, &merged);
        rows.clear();
        for (std::size_t i : probe) rows.push_back(merged[i]);
        members_[m].fit(S, tm, params_.member, &rows, &loo);
        // Rows merged with duplicates are left out as a group; the error against the row's own
        // target adds what the member cannot resolve inside the group.
        double sse = 0;
        for (std::size_t k = 0; k < probe.size(); ++k) {
          const double e = t(static_cast<Eigen::Index>(probe[k])) - tm(rows[k]) +
                           loo(static_cast<Eigen::Index>(k));
          sse += e * e;
        }
        mse[m] = sse / static_cast<double>(probe.size());
      }
    });
    weights_ = detail::inverse_error_weights(mse, !probe.empty(), t, params_.weight_power);
  }

  std::vector<double> predict(const points& X) const override {
    detail::check_query("rbf_ensemble::predict", X, d_, fitted_);
    if (constant_ || X.empty()) return std::vector<double>(X.size(), mean_);
    const detail::col_matrix P = member_predictions(X);
    const detail::vector mean = P * weights_;
    return std::vector<double>(mean.data(), mean.data() + mean.size());
  }

  bool has_variance() const override { return true; }

  /// Weighted population variance of the members' predictions (a spread, not a calibrated
  /// posterior).
  std::vector<double> predict_variance(const points& X) const override {
    detail::check_query("rbf_ensemble::predict_variance", X, d_, fitted_);
    if (constant_ || X.empty()) return std::vector<double>(X.size(), 0.0);
    const detail::col_matrix P = member_predictions(X);
    const detail::vector mean = P * weights_;
    std::vector<double> v(X.size());
    for (Eigen::Index i = 0; i < P.rows(); ++i)
      v[static_cast<std::size_t>(i)] =
          (P.row(i).transpose().array() - mean(i)).square().matrix().dot(weights_);
    return v;
  }

  std::string name() const override { return "rbf_ensemble"; }
  std::unique_ptr<regressor> clone() const override {
    return std::make_unique<rbf_ensemble>(*this);
  }
  bool fitted() const override { return fitted_; }

  /// The settings of this ensemble.
  const rbf_ensemble_params& params() const { return params_; }

 private:
  static detail::matrix select(const detail::matrix& M, const std::vector<std::size_t>& cols) {
    detail::matrix S(M.rows(), static_cast<Eigen::Index>(cols.size()));
    for (std::size_t j = 0; j < cols.size(); ++j)
      S.col(static_cast<Eigen::Index>(j)) = M.col(static_cast<Eigen::Index>(cols[j]));
    return S;
  }

  detail::col_matrix member_predictions(const points& X) const {
    const detail::matrix Q = detail::to_matrix(X);
    detail::col_matrix P(Q.rows(), static_cast<Eigen::Index>(members_.size()));
    parallel_for(0, members_.size(), 8, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t m = lo; m < hi; ++m)
        P.col(static_cast<Eigen::Index>(m)) = members_[m].predict(select(Q, subsets_[m]));
    });
    return P;
  }

  rbf_ensemble_params params_;
  std::uint64_t seed_;
  std::vector<detail::rbf_model> members_;
  std::vector<std::vector<std::size_t>> subsets_;
  detail::vector weights_;  // sums to 1
  std::size_t d_ = 0;
  bool fitted_ = false, constant_ = false;
  double mean_ = 0.0;
};

}  // namespace nat::surrogate
