#pragma once
/// \file Radial basis function interpolation with a linear polynomial tail.
///
/// The accuracy predictor of NSGANetV2 / NAT (nat_spec.md §3; pySOT's RBFInterpolant): solve
///   [[Phi + eta I, P], [P^T, 0]] [c; lambda] = [y; 0],  P = [1, x],
/// and predict s(x) = sum_j c_j phi(|x - x_j|) + lambda . [1, x].
#include <Eigen/Dense>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"
#include "nat/surrogate/regressor.hpp"

namespace nat::surrogate {

/// The radial kernel phi(r).
enum class rbf_kernel {
  cubic,       ///< r^3 (conditionally positive definite of order 2; NAT's choice)
  thin_plate,  ///< r^2 log r
  gaussian     ///< exp(-(epsilon r)^2)
};

/// Settings of an RBF interpolant (defaults: NAT's cubic kernel, eta = 1e-6).
struct rbf_params {
  rbf_kernel kernel = rbf_kernel::cubic;  ///< radial kernel
  double ridge = 1e-6;                    ///< eta added to the kernel diagonal
  double epsilon = 1.0;                   ///< shape parameter of the Gaussian kernel
};

namespace detail {

inline double rbf_phi(rbf_kernel k, double r, double eps) {
  switch (k) {
    case rbf_kernel::cubic:
      return r * r * r;
    case rbf_kernel::thin_plate:
      return r > 0 ? r * r * std::log(r) : 0.0;
    case rbf_kernel::gaussian:
      return std::exp(-(eps * r) * (eps * r));
  }
  return 0.0;
}

/// A fitted interpolant on (already merged) centres; shared by rbf and rbf_ensemble.
struct rbf_model {
  matrix centres;
  vector coef;  // n kernel weights, then 1 + d tail coefficients
  rbf_params params;

  /// Fits the interpolant. When `loo_rows` is given, `loo` receives Rippa's (1999) leave-one-out
  /// residuals y_i - s_{-i}(x_i) = c_i / (A^-1)_ii at those rows, from the same factorisation
  /// (one multi-right-hand-side solve); +inf where the LU path was not usable.
  void fit(const matrix& X, const vector& y, const rbf_params& p,
           const std::vector<Eigen::Index>* loo_rows = nullptr, vector* loo = nullptr) {
    params = p;
    centres = X;
    const Eigen::Index n = X.rows(), d = X.cols(), m = n + d + 1;
    col_matrix A = col_matrix::Zero(m, m);
    const col_matrix D2 = squared_distances(X, X);
    for (Eigen::Index j = 0; j < n; ++j)
      for (Eigen::Index i = 0; i < n; ++i)
        A(i, j) = rbf_phi(p.kernel, std::sqrt(D2(i, j)), p.epsilon);
    A.topLeftCorner(n, n).diagonal().array() += p.ridge;
    A.block(0, n, n, 1).setOnes();
    A.block(n, 0, 1, n).setOnes();
    A.block(0, n + 1, n, d) = X;
    A.block(n + 1, 0, d, n) = X.transpose();
    vector rhs = vector::Zero(m);
    rhs.head(n) = y;
    // LU is fast and accurate when the system is well posed; few or collinear centres (n <= d
    // after merging duplicates, all points on a hyperplane) make it singular, and then the
    // minimum-norm least-squares solution is the answer that stays finite.
    Eigen::PartialPivLU<col_matrix> lu(A);
    const double rcond = lu.rcond();
    bool ok = std::isfinite(rcond) && rcond > 1e-13;
    if (ok) {
      coef = lu.solve(rhs);
      ok = coef.allFinite();
    }
    if (loo_rows && loo) {
      const auto q = static_cast<Eigen::Index>(loo_rows->size());
      loo->setConstant(q, std::numeric_limits<double>::infinity());
      if (ok && q > 0) {
        col_matrix E = col_matrix::Zero(m, q);
        for (Eigen::Index k = 0; k < q; ++k) E((*loo_rows)[static_cast<std::size_t>(k)], k) = 1;
        const col_matrix Z = lu.solve(E);
        for (Eigen::Index k = 0; k < q; ++k) {
          const Eigen::Index i = (*loo_rows)[static_cast<std::size_t>(k)];
          const double e = coef(i) / Z(i, k);
          if (std::isfinite(e)) (*loo)(k) = e;
        }
      }
    }
    if (!ok) coef = A.completeOrthogonalDecomposition().solve(rhs);
    if (!coef.allFinite()) {  // cannot happen with finite input; keep the promise of no NaN
      coef.setZero();
      coef(n) = y.mean();
    }
  }

  vector predict(const matrix& Q) const {
    const Eigen::Index n = centres.rows(), d = centres.cols();
    col_matrix K = squared_distances(Q, centres);
    K = K.unaryExpr(
        [&](double r2) { return rbf_phi(params.kernel, std::sqrt(r2), params.epsilon); });
    vector out = K * coef.head(n);
    out.array() += coef(n);
    out += Q * coef.segment(n + 1, d);
    return out;
  }
};

}  // namespace detail

/// RBF interpolant (cubic, thin-plate or Gaussian kernel) with a linear polynomial tail.
///
/// Needs more rows than features (n > d) for the tail; fit throws config_error otherwise.
/// Identical rows are merged and their targets averaged. Constant targets give a constant model.
/// An ill-conditioned system falls back to minimum-norm least squares, so predictions are always
/// finite.
class rbf : public regressor {
 public:
  /// An unfitted interpolant with the given settings.
  explicit rbf(rbf_params params = {}) : params_(params) {
    if (!(params.ridge >= 0) || !std::isfinite(params.ridge))
      throw config_error("rbf: ridge must be finite and >= 0, got " + std::to_string(params.ridge));
    if (!(params.epsilon > 0) || !std::isfinite(params.epsilon))
      throw config_error("rbf: epsilon must be finite and > 0, got " +
                         std::to_string(params.epsilon));
  }

  void fit(const points& X, const std::vector<double>& y) override {
    d_ = detail::check_training("rbf::fit", X, y);
    if (X.size() <= d_)
      throw config_error(
          "rbf::fit: the linear tail needs more samples than features (n > d), got n = " +
          std::to_string(X.size()) + ", d = " + std::to_string(d_));
    detail::matrix M = detail::to_matrix(X);
    detail::vector t =
        Eigen::Map<const detail::vector>(y.data(), static_cast<Eigen::Index>(y.size()));
    constant_ = detail::is_constant(y);
    mean_ = y[0];
    if (!constant_) {
      detail::merge_duplicates(M, t);
      model_.fit(M, t, params_);
    }
    fitted_ = true;
  }

  std::vector<double> predict(const points& X) const override {
    detail::check_query("rbf::predict", X, d_, fitted_);
    if (constant_ || X.empty()) return std::vector<double>(X.size(), mean_);
    const detail::vector p = model_.predict(detail::to_matrix(X));
    return std::vector<double>(p.data(), p.data() + p.size());
  }

  std::string name() const override { return "rbf"; }
  std::unique_ptr<regressor> clone() const override { return std::make_unique<rbf>(*this); }
  bool fitted() const override { return fitted_; }

  /// The settings this interpolant was built with.
  const rbf_params& params() const { return params_; }

 private:
  rbf_params params_;
  detail::rbf_model model_;
  std::size_t d_ = 0;
  bool fitted_ = false, constant_ = false;
  double mean_ = 0.0;
};

}  // namespace nat::surrogate
