#pragma once
/// \file The abstract surrogate interface every accuracy predictor implements, and the input
/// checks they share.
///
/// NAT (Lu et al. 2021, §III-B) fits a regression model on the archive (architecture features ->
/// accuracy) and lets the evolutionary search query it instead of evaluating subnets; the NAT loop
/// picks the model from its configuration, so the models are usable polymorphically.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"

namespace nat::surrogate {

/// A regression model on tabular data: fit on rows X with targets y, then predict new rows.
class regressor {
 public:
  virtual ~regressor() = default;

  /// Fits the model on n rows of d features and n targets; refitting replaces the old model.
  virtual void fit(const points& X, const std::vector<double>& y) = 0;

  /// Predicted target for each row of X (same feature count as in fit).
  virtual std::vector<double> predict(const points& X) const = 0;

  /// True when predict_variance is available.
  virtual bool has_variance() const { return false; }

  /// Predictive variance (or ensemble spread) for each row of X; not_supported when has_variance()
  /// is false.
  virtual std::vector<double> predict_variance(const points& X) const {
    (void)X;
    throw not_supported(name() + "::predict_variance: this model has no predictive variance");
  }

  /// Short name of the model ("rbf", "gp", ...), as accepted by make_regressor.
  virtual std::string name() const = 0;

  /// An unfitted-or-fitted copy with the same settings (used to refit per cross-validation fold).
  virtual std::unique_ptr<regressor> clone() const = 0;

  /// True after a successful fit.
  virtual bool fitted() const = 0;
};

namespace detail {

using matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using col_matrix = Eigen::MatrixXd;
using vector = Eigen::VectorXd;

/// Checks a training set: non-empty, rectangular, finite, one target per row; returns d.
inline std::size_t check_training(const std::string& fn, const points& X,
                                  const std::vector<double>& y) {
  if (X.empty()) throw shape_error(fn + ": expected at least one training row, got 0");
  if (X.size() != y.size())
    throw shape_error(fn + ": X has " + std::to_string(X.size()) + " rows but y has " +
                      std::to_string(y.size()) + " targets");
  const std::size_t d = X[0].size();
  if (d == 0) throw shape_error(fn + ": expected at least one feature, got rows of length 0");
  for (std::size_t i = 0; i < X.size(); ++i) {
    if (X[i].size() != d)
      throw shape_error(fn + ": row " + std::to_string(i) + " has " + std::to_string(X[i].size()) +
                        " features, row 0 has " + std::to_string(d));
    for (double v : X[i])
      if (!std::isfinite(v))
        throw config_error(fn + ": X must be finite, row " + std::to_string(i) +
                           " holds NaN or inf");
    if (!std::isfinite(y[i]))
      throw config_error(fn + ": y must be finite, entry " + std::to_string(i) + " is NaN or inf");
  }
  return d;
}

/// Checks rows to predict against the fitted feature count.
inline void check_query(const std::string& fn, const points& X, std::size_t d, bool fitted) {
  if (!fitted) throw config_error(fn + ": the model is not fitted; call fit(X, y) first");
  for (std::size_t i = 0; i < X.size(); ++i) {
    if (X[i].size() != d)
      throw shape_error(fn + ": row " + std::to_string(i) + " has " + std::to_string(X[i].size()) +
                        " features, the model was fitted on " + std::to_string(d));
    for (double v : X[i])
      if (!std::isfinite(v))
        throw config_error(fn + ": X must be finite, row " + std::to_string(i) +
                           " holds NaN or inf");
  }
}

/// Squared Euclidean distances between the rows of A and of B (clamped at 0).
inline col_matrix squared_distances(const matrix& A, const matrix& B) {
  col_matrix D = (-2.0 * (A * B.transpose())).eval();
  const vector a2 = A.rowwise().squaredNorm(), b2 = B.rowwise().squaredNorm();
  D.colwise() += a2;
  D.rowwise() += b2.transpose();
  return D.cwiseMax(0.0);
}

/// Rows as a row-major Eigen matrix.
inline matrix to_matrix(const points& X) {
  const std::size_t n = X.size(), d = n ? X[0].size() : 0;
  matrix M(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j)
      M(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = X[i][j];
  return M;
}

/// True when every target equals the first (the documented degenerate case: constant model).
inline bool is_constant(const std::vector<double>& y) {
  return std::all_of(y.begin(), y.end(), [&](double v) { return v == y[0]; });
}

/// Merges identical rows of X, averaging their targets (interpolating models cannot honour two
/// targets at one point; the mean is the least-squares compromise). Keeps first-seen order.
inline void merge_duplicates(matrix& X, vector& y) {
  const Eigen::Index n = X.rows(), d = X.cols();
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  auto less = [&](Eigen::Index a, Eigen::Index b) {
    for (Eigen::Index j = 0; j < d; ++j)
      if (X(a, j) != X(b, j)) return X(a, j) < X(b, j);
    return a < b;
  };
  std::sort(order.begin(), order.end(), less);
  std::vector<Eigen::Index> group(static_cast<std::size_t>(n));
  bool any = false;
  for (std::size_t k = 0; k < order.size(); ++k) {
    group[static_cast<std::size_t>(order[k])] = order[k];
    if (k > 0 && (X.row(order[k]).array() == X.row(order[k - 1]).array()).all()) {
      group[static_cast<std::size_t>(order[k])] = group[static_cast<std::size_t>(order[k - 1])];
      any = true;
    }
  }
  if (!any) return;
  std::vector<double> sum(static_cast<std::size_t>(n), 0.0), count(static_cast<std::size_t>(n), 0);
  for (Eigen::Index i = 0; i < n; ++i) {
    sum[static_cast<std::size_t>(group[static_cast<std::size_t>(i)])] += y(i);
    count[static_cast<std::size_t>(group[static_cast<std::size_t>(i)])] += 1;
  }
  Eigen::Index m = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (group[static_cast<std::size_t>(i)] != i) continue;
    X.row(m) = X.row(i);
    y(m) = sum[static_cast<std::size_t>(i)] / count[static_cast<std::size_t>(i)];
    ++m;
  }
  X.conservativeResize(m, d);
  y.conservativeResize(m);
}

}  // namespace detail
}  // namespace nat::surrogate
