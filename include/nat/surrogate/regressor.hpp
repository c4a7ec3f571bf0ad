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

/// How an ensemble combines its members' predictions.
enum class ensemble_weighting {
  /// Plain mean, NAT's recipe (nat_spec.md §3).
  uniform,
  /// Weighted mean, each member weighted by (its out-of-sample mean squared error)^-power.
  /// Members on random feature subsets that miss an important input interpolate what they cannot
  /// see and drag the mean's ranking down; their held-out error exposes them.
  inverse_error
};

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
/// targets at one point; the mean is the least-squares compromise). Keeps first-seen order. When
/// `merged_row` is given it receives, for every original row, the index of its merged row.
inline void merge_duplicates(matrix& X, vector& y,
                             std::vector<Eigen::Index>* merged_row = nullptr) {
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
  if (!any) {
    if (merged_row) {
      merged_row->resize(static_cast<std::size_t>(n));
      for (Eigen::Index i = 0; i < n; ++i) (*merged_row)[static_cast<std::size_t>(i)] = i;
    }
    return;
  }
  std::vector<double> sum(static_cast<std::size_t>(n), 0.0), count(static_cast<std::size_t>(n), 0);
  for (Eigen::Index i = 0; i < n; ++i) {
    sum[static_cast<std::size_t>(group[static_cast<std::size_t>(i)])] += y(i);
    count[static_cast<std::size_t>(group[static_cast<std::size_t>(i)])] += 1;
  }
  Eigen::Index m = 0;
  if (merged_row) merged_row->resize(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto g = static_cast<std::size_t>(group[static_cast<std::size_t>(i)]);
    // A group's representative is its smallest row index, so it is always merged first.
    if (merged_row)
      (*merged_row)[static_cast<std::size_t>(i)] =
          g == static_cast<std::size_t>(i) ? m : (*merged_row)[g];
    if (group[static_cast<std::size_t>(i)] != i) continue;
    X.row(m) = X.row(i);
    y(m) = sum[static_cast<std::size_t>(i)] / count[static_cast<std::size_t>(i)];
    ++m;
  }
  X.conservativeResize(m, d);
  y.conservativeResize(m);
}

/// Normalised ensemble weights from members' held-out mean squared errors: mse^-power when
/// `weighted`, else uniform. Members without a usable error get weight 0; if none has one the
/// weights fall back to uniform. Errors are floored at a tiny fraction of var(y) so one perfect
/// member cannot take an infinite weight.
inline vector inverse_error_weights(const std::vector<double>& mse, bool weighted, const vector& y,
                                    double power) {
  const auto k = static_cast<Eigen::Index>(mse.size());
  vector w = vector::Constant(k, 1.0 / static_cast<double>(std::max<Eigen::Index>(k, 1)));
  if (!weighted || k == 0) return w;
  const double var = (y.array() - y.mean()).square().mean();
  const double floor = std::max(1e-12 * var, 1e-300);
  double total = 0;
  for (Eigen::Index m = 0; m < k; ++m) {
    const double e = mse[static_cast<std::size_t>(m)];
    const double s = std::isfinite(e) ? std::max(e, floor) / std::max(var, floor) : INFINITY;
    w(m) = std::isfinite(s) ? std::pow(s, -power) : 0.0;
    total += w(m);
  }
  if (!(total > 0) || !std::isfinite(total))
    return vector::Constant(k, 1.0 / static_cast<double>(k));
  return w / total;
}

}  // namespace detail
}  // namespace nat::surrogate
