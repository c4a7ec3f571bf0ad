#pragma once
/// \file Adaptive switching: pick the surrogate that ranks best under cross-validation.
///
/// NSGANetV2 / NAT's `predictor = "as"` (Lu et al. 2020, ECCV, §3.2; nat_spec.md §3): split the
/// archive into k folds of a random permutation; for each fold and each model of the pool fit on
/// the other folds and score Kendall's tau-b on the held-out fold; the winner maximises
/// mean(tau) - std(tau) (population std) and is refitted on all data.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/parallel.hpp"
#include "nat/core/points.hpp"
#include "nat/core/rng.hpp"
#include "nat/metrics/correlation.hpp"
#include "nat/surrogate/cart_ensemble.hpp"
#include "nat/surrogate/gaussian_process.hpp"
#include "nat/surrogate/rbf.hpp"
#include "nat/surrogate/regressor.hpp"

namespace nat::surrogate {

/// Cross-validation record of one pool model.
struct model_score {
  std::string name;                                         ///< the model's name()
  std::vector<double> fold_tau;                             ///< Kendall tau-b on each held-out fold
  double mean = 0, std = 0;                                 ///< mean and population std of fold_tau
  double score = -std::numeric_limits<double>::infinity();  ///< mean - std; -inf when failed
  std::string failure;  ///< why the model could not be fitted (empty when it could)
};

/// Settings of adaptive switching (defaults: NSGANetV2's 10 folds).
struct adaptive_switching_params {
  std::size_t n_folds = 10;  ///< folds (reduced to the number of rows when there are fewer)
};

/// Chooses among a pool of regressors (default: rbf, gp, cart_ensemble) by k-fold
/// cross-validated Kendall tau-b, then refits the winner on all data and predicts with it.
/// A pool model whose fit throws a nat::error (e.g. rbf with n <= d) is reported as failed
/// and skipped; fit throws config_error when every model fails.
class adaptive_switching : public regressor {
 public:
  /// The default pool [rbf, gp, cart_ensemble]; `seed` fixes the folds and the models' seeds.
  explicit adaptive_switching(std::uint64_t seed = 0, adaptive_switching_params params = {})
      : adaptive_switching(default_pool(seed), seed, params) {}

  /// A custom pool (each model is cloned per fold; the prototypes need not be fitted).
  adaptive_switching(std::vector<std::unique_ptr<regressor>> pool, std::uint64_t seed,
                     adaptive_switching_params params = {})
      : pool_(std::move(pool)), params_(params), seed_(seed) {
    if (pool_.empty()) throw config_error("adaptive_switching: the pool must not be empty");
    for (const auto& m : pool_)
      if (!m) throw config_error("adaptive_switching: the pool holds a null model");
    if (params.n_folds < 2)
      throw config_error("adaptive_switching: n_folds must be >= 2, got " +
                         std::to_string(params.n_folds));
  }

  adaptive_switching(const adaptive_switching& o)
      : params_(o.params_), seed_(o.seed_), scores_(o.scores_), best_(o.best_) {
    for (const auto& m : o.pool_) pool_.push_back(m->clone());
    if (o.winner_) winner_ = o.winner_->clone();
  }
  adaptive_switching& operator=(const adaptive_switching& o) {
    if (this != &o) *this = adaptive_switching(o);
    return *this;
  }
  adaptive_switching(adaptive_switching&&) = default;
  adaptive_switching& operator=(adaptive_switching&&) = default;

  void fit(const points& X, const std::vector<double>& y) override {
    detail::check_training("adaptive_switching::fit", X, y);
    const std::size_t n = X.size();
    if (n < 2)
      throw config_error("adaptive_switching::fit: cross-validation needs >= 2 rows, got " +
                         std::to_string(n));
    const std::size_t k = std::min(params_.n_folds, n);
    // numpy.array_split: the first n % k folds get one extra row.
    rng r(seed_);
    const auto perm = r.permutation(n);
    std::vector<std::size_t> start(k + 1, 0);
    for (std::size_t f = 0; f < k; ++f) start[f + 1] = start[f] + n / k + (f < n % k ? 1 : 0);

    const std::size_t m = pool_.size();
    std::vector<double> tau(k * m, 0.0);
    std::vector<std::string> fail(k * m);
    parallel_for_each_index(0, k * m, [&](std::size_t job) {
      const std::size_t f = job / m, j = job % m;
      points Xtr, Xte;
      std::vector<double> ytr, yte;
      for (std::size_t i = 0; i < n; ++i) {
        const bool held = i >= start[f] && i < start[f + 1];
        (held ? Xte : Xtr).push_back(X[perm[i]]);
        (held ? yte : ytr).push_back(y[perm[i]]);
      }
      try {
        auto model = pool_[j]->clone();
        model->fit(Xtr, ytr);
        tau[job] = metrics::kendall_tau(model->predict(Xte), yte);
      } catch (const error& e) {  // any nat error: this model is out, the others go on
        fail[job] = e.what();
      }
    });
    scores_.assign(m, {});
    best_ = m;
    for (std::size_t j = 0; j < m; ++j) {
      auto& s = scores_[j];
      s.name = pool_[j]->name();
      for (std::size_t f = 0; f < k && s.failure.empty(); ++f) s.failure = fail[f * m + j];
      if (!s.failure.empty()) continue;
      for (std::size_t f = 0; f < k; ++f) s.fold_tau.push_back(tau[f * m + j]);
      double mean = 0, var = 0;
      for (double t : s.fold_tau) mean += t;
      mean /= static_cast<double>(k);
      for (double t : s.fold_tau) var += (t - mean) * (t - mean);
      s.mean = mean;
      s.std = std::sqrt(var / static_cast<double>(k));
      s.score = s.mean - s.std;
      if (best_ == m || s.score > scores_[best_].score) best_ = j;
    }
    if (best_ == m)
      throw config_error("adaptive_switching::fit: no model of the pool could be fitted; first: " +
                         scores_[0].failure);
    winner_ = pool_[best_]->clone();
    winner_->fit(X, y);
  }

  std::vector<double> predict(const points& X) const override {
    if (!winner_)
      throw config_error(
          "adaptive_switching::predict: the model is not fitted; call fit(X, y) first");
    return winner_->predict(X);
  }

  bool has_variance() const override { return winner_ && winner_->has_variance(); }
  std::vector<double> predict_variance(const points& X) const override {
    if (!winner_)
      throw config_error(
          "adaptive_switching::predict_variance: the model is not fitted; call fit(X, y) first");
    return winner_->predict_variance(X);
  }

  std::string name() const override { return "as"; }
  std::unique_ptr<regressor> clone() const override {
    return std::make_unique<adaptive_switching>(*this);
  }
  bool fitted() const override { return winner_ != nullptr; }

  /// Each pool model's cross-validation record, in pool order (empty before fit).
  const std::vector<model_score>& scores() const { return scores_; }
  /// The refitted winner (throws config_error before fit).
  const regressor& winner() const {
    if (!winner_) throw config_error("adaptive_switching::winner: the model is not fitted");
    return *winner_;
  }
  /// Name of the winning model (throws config_error before fit).
  std::string winner_name() const { return winner().name(); }

  /// NSGANetV2's pool: cubic rbf, gaussian_process and cart_ensemble, seeded from `seed`.
  static std::vector<std::unique_ptr<regressor>> default_pool(std::uint64_t seed) {
    std::vector<std::unique_ptr<regressor>> pool;
    pool.push_back(std::make_unique<rbf>());
    pool.push_back(std::make_unique<gaussian_process>(seed));
    pool.push_back(std::make_unique<cart_ensemble>(seed));
    return pool;
  }

 private:
  std::vector<std::unique_ptr<regressor>> pool_;
  adaptive_switching_params params_;
  std::uint64_t seed_;
  std::vector<model_score> scores_;
  std::size_t best_ = 0;
  std::unique_ptr<regressor> winner_;
};

}  // namespace nat::surrogate
