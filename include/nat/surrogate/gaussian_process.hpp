#pragma once
/// \file Gaussian-process (Kriging) regression with hyper-parameters by maximum likelihood.
///
/// NSGANetV2/NAT's "gp" predictor is DACE Kriging (Lophaven et al. 2002; nat_spec.md §3): a
/// polynomial trend plus a stationary correlation model whose lengthscales maximise the
/// likelihood, with inputs and outputs normalised. Here the process variance is profiled out
/// (the concentrated likelihood of DACE), a nugget models the noise of measured accuracies
/// (Rasmussen & Williams 2006, §2.2 and §5.4), and the remaining log-parameters are found by
/// box-constrained L-BFGS from several seeded starts.
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
#include "nat/core/parallel.hpp"
#include "nat/core/points.hpp"
#include "nat/core/rng.hpp"
#include "nat/surrogate/detail/bounded_lbfgs.hpp"
#include "nat/surrogate/regressor.hpp"

namespace nat::surrogate {

/// Correlation (kernel) family of a Gaussian process.
enum class gp_kernel {
  squared_exponential,  ///< exp(-s^2 / 2), DACE's "Gaussian" correlation
  matern52              ///< (1 + sqrt5 s + 5 s^2 / 3) exp(-sqrt5 s)
};

/// Trend (prior mean) of a Gaussian process, estimated by generalised least squares.
enum class gp_mean {
  constant,  ///< ordinary Kriging
  linear     ///< universal Kriging with a linear trend (DACE's regpoly1)
};

/// Settings of a Gaussian process; defaults chosen for noisy, small NAS archives.
struct gp_params {
  gp_kernel kernel = gp_kernel::squared_exponential;  ///< correlation family
  gp_mean mean = gp_mean::constant;                   ///< trend
  bool isotropic = true;     ///< one lengthscale for all features (false: one per feature, ARD)
  bool nugget = true;        ///< estimate a noise-to-signal ratio (false: interpolate)
  double min_nugget = 1e-6;  ///< lower bound of the nugget (also the jitter without one)
  double max_nugget = 10.0;  ///< upper bound of the nugget
  double min_lengthscale = 1e-2;  ///< lower bound, in units of standardised inputs
  double max_lengthscale = 1e3;   ///< upper bound, in units of standardised inputs
  std::size_t n_restarts = 5;     ///< optimiser starts (the first is deterministic)
  std::size_t max_iter = 200;     ///< L-BFGS iterations per start
  bool normalize_x = true;        ///< standardise each feature before fitting
};

namespace detail {

// Negative concentrated log-likelihood of a GP and its gradient in log-parameters.
struct gp_likelihood {
  const matrix& X;  // normalised inputs
  const vector& y;  // normalised targets
  const col_matrix& F;
  const gp_params& p;
  Eigen::Index n_ls;  // number of lengthscale parameters

  struct state {
    Eigen::LLT<col_matrix> llt;
    vector alpha, beta;
    col_matrix Ainv;  // (F^T K^-1 F)^-1
    double sigma2 = 1;
  };

  static void correlation(gp_kernel k, const col_matrix& D2, col_matrix& R, col_matrix* G) {
    const Eigen::Index n = D2.rows(), m = D2.cols();
    R.resize(n, m);
    if (G) G->resize(n, m);
    const double s5 = std::sqrt(5.0);
    for (Eigen::Index j = 0; j < m; ++j)
      for (Eigen::Index i = 0; i < n; ++i) {
        const double d2 = D2(i, j);
        if (k == gp_kernel::squared_exponential) {
          R(i, j) = std::exp(-0.5 * d2);
          if (G) (*G)(i, j) = 0.5 * R(i, j);
        } else {
          const double s = std::sqrt(d2), e = std::exp(-s5 * s);
          R(i, j) = (1.0 + s5 * s + 5.0 / 3.0 * d2) * e;
          if (G) (*G)(i, j) = 5.0 / 6.0 * (1.0 + s5 * s) * e;
        }
      }
  }

  // Scaled inputs X / lengthscale.
  matrix scaled(const vector& theta) const {
    matrix Xs = X;
    for (Eigen::Index k = 0; k < X.cols(); ++k) Xs.col(k) /= std::exp(theta(n_ls == 1 ? 0 : k));
    return Xs;
  }

  double nugget(const vector& theta) const {
    return p.nugget ? std::exp(theta(theta.size() - 1)) : p.min_nugget;
  }

  // Fills `st`; returns the negative log-likelihood, +inf when K is not positive definite.
  // With grad != nullptr also its gradient (dG/dtheta via tr((K^-1 - a a^T / s2) dK) / 2).
  double evaluate(const vector& theta, state& st, vector* grad) const {
    const Eigen::Index n = X.rows();
    const matrix Xs = scaled(theta);
    const col_matrix D2 = squared_distances(Xs, Xs);
    col_matrix K, G;
    correlation(p.kernel, D2, K, grad ? &G : nullptr);
    const double g = nugget(theta);
    K.diagonal().array() += g;
    st.llt.compute(K);
    if (st.llt.info() != Eigen::Success) return std::numeric_limits<double>::infinity();
    const col_matrix KiF = st.llt.solve(F);
    const col_matrix A = F.transpose() * KiF;
    const auto cod = A.completeOrthogonalDecomposition();
    st.beta = cod.solve(KiF.transpose() * y);
    const vector r = y - F * st.beta;
    st.alpha = st.llt.solve(r);
    st.sigma2 = std::max(r.dot(st.alpha) / static_cast<double>(n), 1e-300);
    double logdet = 0;
    const auto& L = st.llt.matrixLLT();
    for (Eigen::Index i = 0; i < n; ++i) logdet += 2.0 * std::log(L(i, i));
    const double nll = 0.5 * static_cast<double>(n) * std::log(st.sigma2) + 0.5 * logdet;
    if (!std::isfinite(nll)) return std::numeric_limits<double>::infinity();
    if (grad) {
      col_matrix W = st.llt.solve(col_matrix::Identity(n, n));
      const double trace_kinv = W.trace();
      W.noalias() -= (st.alpha / st.sigma2) * st.alpha.transpose();
      // dR/dlog(l_k) = 2 G (x_ik - x_jk)^2 / l_k^2, with G as returned by correlation().
      const col_matrix H = W.cwiseProduct(G);
      grad->resize(theta.size());
      if (n_ls == 1) {
        (*grad)(0) = H.cwiseProduct(D2).sum();
      } else {
        const vector h1 = H.rowwise().sum();
        const col_matrix XHX = Xs.transpose() * H * Xs;
        for (Eigen::Index k = 0; k < n_ls; ++k)
          (*grad)(k) = 2.0 * (Xs.col(k).array().square().matrix().dot(h1) - XHX(k, k));
      }
      if (p.nugget)
        (*grad)(theta.size() - 1) = 0.5 * g * (trace_kinv - st.alpha.squaredNorm() / st.sigma2);
    }
    return nll;
  }
};

}  // namespace detail

/// Gaussian-process regressor: constant or linear trend, squared-exponential or Matern-5/2
/// correlation (isotropic or one lengthscale per feature), optional nugget, maximum likelihood by
/// multi-start bounded L-BFGS. predict() is the posterior mean, predict_variance() the posterior
/// variance of the latent function (in target units, nugget excluded).
///
/// Duplicate rows are fine (the nugget, or a jitter of min_nugget, keeps K positive definite);
/// constant targets give a constant model with zero variance.
class gaussian_process : public regressor {
 public:
  /// An unfitted GP; `seed` fixes the random optimiser starts.
  explicit gaussian_process(std::uint64_t seed = 0, gp_params params = {})
      : params_(params), seed_(seed) {
    auto bad = [](double v) { return !(v > 0) || !std::isfinite(v); };
    if (bad(params.min_lengthscale) || bad(params.max_lengthscale) ||
        params.min_lengthscale > params.max_lengthscale)
      throw config_error("gaussian_process: need 0 < min_lengthscale <= max_lengthscale, got " +
                         std::to_string(params.min_lengthscale) + " and " +
                         std::to_string(params.max_lengthscale));
    if (bad(params.min_nugget) || bad(params.max_nugget) || params.min_nugget > params.max_nugget)
      throw config_error("gaussian_process: need 0 < min_nugget <= max_nugget, got " +
                         std::to_string(params.min_nugget) + " and " +
                         std::to_string(params.max_nugget));
    if (params.n_restarts == 0)
      throw config_error("gaussian_process: n_restarts must be >= 1, got 0");
  }

  void fit(const points& X, const std::vector<double>& y) override {
    d_ = detail::check_training("gaussian_process::fit", X, y);
    fitted_ = false;
    constant_ = detail::is_constant(y);
    const auto d = static_cast<Eigen::Index>(d_);
    detail::matrix M = detail::to_matrix(X);
    x_mean_ = detail::vector::Zero(d);
    x_scale_ = detail::vector::Ones(d);
    if (params_.normalize_x) {
      x_mean_ = M.colwise().mean().transpose();
      for (Eigen::Index k = 0; k < d; ++k) {
        const double sd = std::sqrt((M.col(k).array() - x_mean_(k)).square().mean());
        x_scale_(k) = sd > 0 ? sd : 1.0;
      }
    }
    for (Eigen::Index k = 0; k < d; ++k) M.col(k) = (M.col(k).array() - x_mean_(k)) / x_scale_(k);
    const detail::vector t =
        Eigen::Map<const detail::vector>(y.data(), static_cast<Eigen::Index>(y.size()));
    y_mean_ = t.mean();
    y_scale_ = std::sqrt((t.array() - y_mean_).square().mean());
    if (constant_ || !(y_scale_ > 0)) {
      constant_ = true;
      y_mean_ = y[0];
      fitted_ = true;
      return;
    }
    y_ = (t.array() - y_mean_) / y_scale_;
    X_ = M;
    F_ = trend(X_);

    const Eigen::Index n_ls = params_.isotropic ? 1 : d;
    const Eigen::Index n_par = n_ls + (params_.nugget ? 1 : 0);
    detail::vector lo(n_par), hi(n_par);
    lo.head(n_ls).setConstant(std::log(params_.min_lengthscale));
    hi.head(n_ls).setConstant(std::log(params_.max_lengthscale));
    if (params_.nugget) {
      lo(n_par - 1) = std::log(params_.min_nugget);
      hi(n_par - 1) = std::log(params_.max_nugget);
    }
    // Starts: lengthscale sqrt(d) (the typical distance between standardised points) with a 1%
    // nugget, then log-uniform draws around it.
    std::vector<detail::vector> starts(params_.n_restarts, detail::vector(n_par));
    rng r(seed_);
    const double l0 = std::log(std::sqrt(static_cast<double>(d)));
    for (std::size_t s = 0; s < starts.size(); ++s) {
      for (Eigen::Index k = 0; k < n_ls; ++k)
        starts[s](k) = s == 0 ? l0 : l0 + r.uniform(-std::log(10.0), std::log(10.0));
      if (params_.nugget) starts[s](n_par - 1) = s == 0 ? std::log(1e-2) : r.uniform(-9.0, 0.0);
      starts[s] = starts[s].cwiseMax(lo).cwiseMin(hi);
    }
    const detail::gp_likelihood lik{X_, y_, F_, params_, n_ls};
    std::vector<detail::lbfgs_result> results(starts.size());
    parallel_for_each_index(0, starts.size(), [&](std::size_t s) {
      detail::gp_likelihood::state st;
      auto fg = [&](const detail::vector& th, detail::vector& g) {
        return lik.evaluate(th, st, &g);
      };
      results[s] = detail::bounded_lbfgs(fg, starts[s], lo, hi, params_.max_iter);
    });
    std::size_t best = 0;
    for (std::size_t s = 1; s < results.size(); ++s)
      if (results[s].f < results[best].f) best = s;
    theta_ = results[best].x;
    if (!std::isfinite(results[best].f)) {
      // No start gave a positive definite K: fall back to the largest nugget allowed.
      theta_ = starts[0];
      if (params_.nugget) theta_(n_par - 1) = hi(n_par - 1);
    }
    detail::gp_likelihood::state st;
    double nll = lik.evaluate(theta_, st, nullptr);
    for (int k = 0; !std::isfinite(nll) && k < 12; ++k) {  // last resort: grow the jitter
      extra_jitter_ = extra_jitter_ > 0 ? extra_jitter_ * 10 : 1e-8;
      nll = evaluate_with_jitter(lik, st);
    }
    if (!std::isfinite(nll))
      throw error("gaussian_process::fit: covariance matrix is not positive definite");
    nll_ = nll;
    llt_ = st.llt;
    alpha_ = st.alpha;
    beta_ = st.beta;
    sigma2_ = st.sigma2;
    const detail::col_matrix KiF = llt_.solve(F_);
    Ainv_ = (F_.transpose() * KiF).completeOrthogonalDecomposition().pseudoInverse();
    fitted_ = true;
  }

  std::vector<double> predict(const points& X) const override {
    detail::check_query("gaussian_process::predict", X, d_, fitted_);
    if (constant_ || X.empty()) return std::vector<double>(X.size(), y_mean_);
    const detail::matrix Q = normalise(X);
    const detail::col_matrix R = cross_correlation(Q);
    const detail::vector m = trend(Q) * beta_ + R * alpha_;
    std::vector<double> out(X.size());
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = y_mean_ + y_scale_ * m(static_cast<Eigen::Index>(i));
    return out;
  }

  bool has_variance() const override { return true; }

  std::vector<double> predict_variance(const points& X) const override {
    detail::check_query("gaussian_process::predict_variance", X, d_, fitted_);
    if (constant_ || X.empty()) return std::vector<double>(X.size(), 0.0);
    const detail::matrix Q = normalise(X);
    const detail::col_matrix Rt = cross_correlation(Q).transpose();  // n x q
    const detail::col_matrix V = llt_.solve(Rt);                     // K^-1 r
    const detail::col_matrix U = F_.transpose() * V - trend(Q).transpose();
    std::vector<double> out(X.size());
    for (Eigen::Index i = 0; i < Rt.cols(); ++i) {
      const double v = 1.0 - Rt.col(i).dot(V.col(i)) + U.col(i).dot(Ainv_ * U.col(i));
      out[static_cast<std::size_t>(i)] = std::max(0.0, v) * sigma2_ * y_scale_ * y_scale_;
    }
    return out;
  }

  std::string name() const override { return "gp"; }
  std::unique_ptr<regressor> clone() const override {
    return std::make_unique<gaussian_process>(*this);
  }
  bool fitted() const override { return fitted_; }

  /// Fitted lengthscales (in standardised-input units; one entry when isotropic).
  std::vector<double> lengthscales() const {
    const Eigen::Index n_ls = params_.isotropic ? 1 : static_cast<Eigen::Index>(d_);
    std::vector<double> l;
    for (Eigen::Index k = 0; k < n_ls && k < theta_.size(); ++k) l.push_back(std::exp(theta_(k)));
    return l;
  }
  /// Fitted nugget (noise variance / process variance); min_nugget when not estimated.
  double nugget() const {
    return params_.nugget && theta_.size() ? std::exp(theta_(theta_.size() - 1))
                                           : params_.min_nugget;
  }
  /// Negative concentrated log-likelihood at the optimum (normalised data, constants dropped).
  double negative_log_likelihood() const { return nll_; }
  /// The settings of this GP.
  const gp_params& params() const { return params_; }

 private:
  detail::col_matrix trend(const detail::matrix& Q) const {
    const Eigen::Index p = params_.mean == gp_mean::linear ? Q.cols() + 1 : 1;
    detail::col_matrix F(Q.rows(), p);
    F.col(0).setOnes();
    if (p > 1) F.rightCols(Q.cols()) = Q;
    return F;
  }

  detail::matrix normalise(const points& X) const {
    detail::matrix Q = detail::to_matrix(X);
    for (Eigen::Index k = 0; k < Q.cols(); ++k)
      Q.col(k) = (Q.col(k).array() - x_mean_(k)) / x_scale_(k);
    return Q;
  }

  detail::col_matrix cross_correlation(const detail::matrix& Q) const {
    const detail::gp_likelihood lik{X_, y_, F_, params_, params_.isotropic ? 1 : X_.cols()};
    detail::matrix Qs = Q;
    for (Eigen::Index k = 0; k < Q.cols(); ++k)
      Qs.col(k) /= std::exp(theta_(params_.isotropic ? 0 : k));
    detail::col_matrix R;
    detail::gp_likelihood::correlation(
        params_.kernel, detail::squared_distances(Qs, lik.scaled(theta_)), R, nullptr);
    return R;
  }

  double evaluate_with_jitter(const detail::gp_likelihood& lik, detail::gp_likelihood::state& st) {
    gp_params p = params_;
    p.min_nugget += extra_jitter_;
    detail::vector th = theta_;
    if (p.nugget) th(th.size() - 1) = std::log(std::exp(th(th.size() - 1)) + extra_jitter_);
    const detail::gp_likelihood l2{lik.X, lik.y, lik.F, p, lik.n_ls};
    const double f = l2.evaluate(th, st, nullptr);
    if (std::isfinite(f)) {
      theta_ = th;
      if (!p.nugget) params_.min_nugget = p.min_nugget;
    }
    return f;
  }

  gp_params params_;
  std::uint64_t seed_;
  std::size_t d_ = 0;
  bool fitted_ = false, constant_ = false;
  detail::vector x_mean_, x_scale_, y_, theta_, alpha_, beta_;
  detail::matrix X_;
  detail::col_matrix F_, Ainv_;
  Eigen::LLT<detail::col_matrix> llt_;
  double y_mean_ = 0, y_scale_ = 1, sigma2_ = 1, nll_ = 0, extra_jitter_ = 0;
};

}  // namespace nat::surrogate
