#pragma once
/// \file A small fully connected regressor (multi-layer perceptron) trained with Adam.
///
/// NSGANetV2's "mlp" accuracy predictor (nat_spec.md §3; Lu et al. 2021 compare it with RBF, GP
/// and CART): ReLU hidden layers, squared loss, Adam (Kingma & Ba 2015), early stopping on a
/// held-out validation split keeping the best-validation weights (Prechelt 1998). Plain Eigen on
/// purpose: surrogates must not depend on nat's tensor layer.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"
#include "nat/core/rng.hpp"
#include "nat/surrogate/regressor.hpp"

namespace nat::surrogate {

/// Settings of an MLP regressor (defaults: two hidden layers of 300 like scikit-learn's
/// MLPRegressor((300, 300)), Adam with learning rate 1e-3, L2 penalty 1e-4).
struct mlp_params {
  std::vector<std::size_t> hidden{300, 300};  ///< widths of the hidden ReLU layers
  double learning_rate = 1e-3;                ///< Adam step size
  double l2 = 1e-4;                           ///< weight decay on the weight matrices
  std::size_t batch_size = 32;                ///< mini-batch size (capped at the training rows)
  std::size_t max_epochs = 400;               ///< passes over the training rows
  double validation_fraction = 0.2;           ///< share held out for early stopping (0: none)
  std::size_t patience = 40;  ///< epochs without validation improvement before stopping
};

/// Fully connected ReLU network regressor with input/output standardisation; seeded.
/// Constant targets give a constant model.
class mlp : public regressor {
 public:
  /// An unfitted network; `seed` fixes initial weights, the validation split and mini-batches.
  explicit mlp(std::uint64_t seed = 0, mlp_params params = {}) : params_(params), seed_(seed) {
    for (auto h : params.hidden)
      if (h == 0) throw config_error("mlp: hidden layer widths must be >= 1, got 0");
    if (!(params.learning_rate > 0) || !std::isfinite(params.learning_rate))
      throw config_error("mlp: learning_rate must be > 0, got " +
                         std::to_string(params.learning_rate));
    if (!(params.l2 >= 0)) throw config_error("mlp: l2 must be >= 0");
    if (params.batch_size == 0 || params.max_epochs == 0)
      throw config_error("mlp: batch_size and max_epochs must be >= 1");
    if (!(params.validation_fraction >= 0 && params.validation_fraction < 1))
      throw config_error("mlp: validation_fraction must be in [0, 1), got " +
                         std::to_string(params.validation_fraction));
  }

  void fit(const points& X, const std::vector<double>& y) override {
    d_ = detail::check_training("mlp::fit", X, y);
    const Eigen::Index n = static_cast<Eigen::Index>(X.size()), d = static_cast<Eigen::Index>(d_);
    constant_ = detail::is_constant(y);
    fitted_ = true;
    const detail::vector t = Eigen::Map<const detail::vector>(y.data(), n);
    y_mean_ = t.mean();
    y_scale_ = std::sqrt((t.array() - y_mean_).square().mean());
    if (constant_ || !(y_scale_ > 0)) {
      constant_ = true;
      y_mean_ = y[0];
      return;
    }
    detail::matrix M = detail::to_matrix(X);
    x_mean_ = M.colwise().mean().transpose();
    x_scale_.resize(d);
    for (Eigen::Index k = 0; k < d; ++k) {
      const double sd = std::sqrt((M.col(k).array() - x_mean_(k)).square().mean());
      x_scale_(k) = sd > 0 ? sd : 1.0;
    }
    const detail::col_matrix Z = standardise(M);  // d x n, one column per sample
    const detail::vector yz = (t.array() - y_mean_) / y_scale_;

    rng r(seed_);
    // Layers and Glorot-uniform initial weights (Glorot & Bengio 2010).
    std::vector<std::size_t> widths{d_};
    widths.insert(widths.end(), params_.hidden.begin(), params_.hidden.end());
    widths.push_back(1);
    W_.clear();
    b_.clear();
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
      const auto in = static_cast<Eigen::Index>(widths[l]),
                 out = static_cast<Eigen::Index>(widths[l + 1]);
      const double a = std::sqrt(6.0 / static_cast<double>(in + out));
      detail::col_matrix w(out, in);
      for (Eigen::Index j = 0; j < in; ++j)
        for (Eigen::Index i = 0; i < out; ++i) w(i, j) = r.uniform(-a, a);
      W_.push_back(w);
      b_.push_back(detail::vector::Zero(out));
    }
    // Validation split.
    auto perm = r.permutation(static_cast<std::size_t>(n));
    auto n_val =
        static_cast<std::size_t>(std::floor(params_.validation_fraction * static_cast<double>(n)));
    if (n < 5) n_val = 0;
    std::vector<std::size_t> val(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(n_val)),
        train(perm.begin() + static_cast<std::ptrdiff_t>(n_val), perm.end());
    const detail::col_matrix Zv = columns(Z, val);
    const detail::vector yv = rows(yz, val);

    std::vector<detail::col_matrix> mW, vW, gW(W_.size());
    std::vector<detail::vector> mb, vb, gb(b_.size());
    for (std::size_t l = 0; l < W_.size(); ++l) {
      mW.push_back(detail::col_matrix::Zero(W_[l].rows(), W_[l].cols()));
      vW.push_back(mW.back());
      mb.push_back(detail::vector::Zero(b_[l].size()));
      vb.push_back(mb.back());
    }
    const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    std::size_t step = 0, since_best = 0;
    double best = std::numeric_limits<double>::infinity();
    auto best_W = W_;
    auto best_b = b_;
    const std::size_t bs = std::min(params_.batch_size, train.size());
    std::vector<detail::col_matrix> acts;
    for (std::size_t epoch = 0; epoch < params_.max_epochs; ++epoch) {
      r.shuffle(train.begin(), train.end());
      for (std::size_t lo = 0; lo < train.size(); lo += bs) {
        const std::vector<std::size_t> batch(
            train.begin() + static_cast<std::ptrdiff_t>(lo),
            train.begin() + static_cast<std::ptrdiff_t>(std::min(lo + bs, train.size())));
        const detail::col_matrix Zb = columns(Z, batch);
        const detail::vector yb = rows(yz, batch);
        forward(Zb, acts);
        const double m = static_cast<double>(batch.size());
        // d(0.5 * mean squared error)/d(output).
        detail::col_matrix delta = (acts.back().row(0).transpose() - yb).transpose() / m;
        for (std::size_t l = W_.size(); l-- > 0;) {
          gW[l] =
              delta * acts[l].transpose() + params_.l2 / static_cast<double>(train.size()) * W_[l];
          gb[l] = delta.rowwise().sum();
          if (l > 0)
            delta = (W_[l].transpose() * delta)
                        .cwiseProduct((acts[l].array() > 0).cast<double>().matrix());
        }
        ++step;
        const double c1 = 1 - std::pow(beta1, static_cast<double>(step)),
                     c2 = 1 - std::pow(beta2, static_cast<double>(step));
        for (std::size_t l = 0; l < W_.size(); ++l) {
          mW[l] = beta1 * mW[l] + (1 - beta1) * gW[l];
          vW[l] = beta2 * vW[l] + (1 - beta2) * gW[l].cwiseAbs2();
          W_[l].array() -=
              params_.learning_rate * (mW[l].array() / c1) / ((vW[l].array() / c2).sqrt() + eps);
          mb[l] = beta1 * mb[l] + (1 - beta1) * gb[l];
          vb[l] = beta2 * vb[l] + (1 - beta2) * gb[l].cwiseAbs2();
          b_[l].array() -=
              params_.learning_rate * (mb[l].array() / c1) / ((vb[l].array() / c2).sqrt() + eps);
        }
      }
      if (n_val == 0) continue;
      forward(Zv, acts);
      const double loss = (acts.back().row(0).transpose() - yv).squaredNorm();
      if (loss < best) {
        best = loss;
        best_W = W_;
        best_b = b_;
        since_best = 0;
      } else if (++since_best >= params_.patience) {
        break;
      }
    }
    if (n_val > 0) {
      W_ = best_W;
      b_ = best_b;
    }
    epochs_ = step;
  }

  std::vector<double> predict(const points& X) const override {
    detail::check_query("mlp::predict", X, d_, fitted_);
    if (constant_ || X.empty()) return std::vector<double>(X.size(), y_mean_);
    std::vector<detail::col_matrix> acts;
    forward(standardise(detail::to_matrix(X)), acts);
    std::vector<double> out(X.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      const double v = y_mean_ + y_scale_ * acts.back()(0, static_cast<Eigen::Index>(i));
      out[i] = std::isfinite(v) ? v : y_mean_;
    }
    return out;
  }

  std::string name() const override { return "mlp"; }
  std::unique_ptr<regressor> clone() const override { return std::make_unique<mlp>(*this); }
  bool fitted() const override { return fitted_; }

  /// The settings of this network.
  const mlp_params& params() const { return params_; }

 private:
  detail::col_matrix standardise(const detail::matrix& M) const {
    detail::col_matrix Z = M.transpose();
    for (Eigen::Index k = 0; k < Z.rows(); ++k)
      Z.row(k) = (Z.row(k).array() - x_mean_(k)) / x_scale_(k);
    return Z;
  }
  static detail::col_matrix columns(const detail::col_matrix& Z,
                                    const std::vector<std::size_t>& idx) {
    detail::col_matrix S(Z.rows(), static_cast<Eigen::Index>(idx.size()));
    for (std::size_t j = 0; j < idx.size(); ++j)
      S.col(static_cast<Eigen::Index>(j)) = Z.col(static_cast<Eigen::Index>(idx[j]));
    return S;
  }
  static detail::vector rows(const detail::vector& v, const std::vector<std::size_t>& idx) {
    detail::vector s(static_cast<Eigen::Index>(idx.size()));
    for (std::size_t j = 0; j < idx.size(); ++j)
      s(static_cast<Eigen::Index>(j)) = v(static_cast<Eigen::Index>(idx[j]));
    return s;
  }
  // acts[0] = input, acts[l] = output of layer l (ReLU except the last).
  void forward(const detail::col_matrix& Z, std::vector<detail::col_matrix>& acts) const {
    acts.resize(W_.size() + 1);
    acts[0] = Z;
    for (std::size_t l = 0; l < W_.size(); ++l) {
      acts[l + 1].noalias() = W_[l] * acts[l];
      acts[l + 1].colwise() += b_[l];
      if (l + 1 < W_.size()) acts[l + 1] = acts[l + 1].cwiseMax(0.0);
    }
  }

  mlp_params params_;
  std::uint64_t seed_;
  std::vector<detail::col_matrix> W_;
  std::vector<detail::vector> b_;
  detail::vector x_mean_, x_scale_;
  std::size_t d_ = 0, epochs_ = 0;
  bool fitted_ = false, constant_ = false;
  double y_mean_ = 0, y_scale_ = 1;
};

}  // namespace nat::surrogate
