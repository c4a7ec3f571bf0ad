#pragma once
/// \file Rank and error metrics for judging surrogate models: Kendall's tau-b, Spearman's rho,
/// RMSE.
///
/// NAT (Lu et al. 2021, §III-B and Fig. 5) judges accuracy predictors by how well they rank
/// architectures, i.e. by Kendall's tau between predicted and true accuracy on unseen subnets.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "nat/core/error.hpp"

namespace nat::metrics {

namespace detail {

inline void check_pair(const char* fn, const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size())
    throw shape_error(std::string(fn) + ": inputs must have equal length, got " +
                      std::to_string(a.size()) + " and " + std::to_string(b.size()));
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!std::isfinite(a[i]) || !std::isfinite(b[i]))
      throw config_error(std::string(fn) + ": inputs must be finite, entry " + std::to_string(i) +
                         " is not");
}

// Number of pairs tied within runs of equal values of a sorted sequence.
template <class Get>
std::int64_t tied_pairs(std::size_t n, Get get) {
  std::int64_t ties = 0, run = 1;
  for (std::size_t i = 1; i <= n; ++i) {
    if (i < n && get(i) == get(i - 1)) {
      ++run;
    } else {
      ties += run * (run - 1) / 2;
      run = 1;
    }
  }
  return ties;
}

// Average (fractional) ranks, 1-based; ties share the mean of their ranks.
inline std::vector<double> average_ranks(const std::vector<double>& v) {
  const std::size_t n = v.size();
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  std::stable_sort(idx.begin(), idx.end(),
                   [&](std::size_t i, std::size_t j) { return v[i] < v[j]; });
  std::vector<double> r(n);
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && v[idx[j]] == v[idx[i]]) ++j;
    const double avg = 0.5 * static_cast<double>(i + j - 1) + 1.0;
    for (std::size_t k = i; k < j; ++k) r[idx[k]] = avg;
    i = j;
  }
  return r;
}

}  // namespace detail

/// Kendall's tau-b between two samples (tie-corrected), in O(n log n) by Knight's algorithm
/// (Knight 1966, "A computer method for calculating Kendall's tau with ungrouped data").
///
/// Matches scipy.stats.kendalltau (variant "b"). Degenerate inputs (fewer than two points, or
/// either sample constant) carry no ranking information; where scipy returns NaN this returns 0.
/// Throws shape_error for unequal lengths and config_error for non-finite values.
inline double kendall_tau(const std::vector<double>& a, const std::vector<double>& b) {
  detail::check_pair("kendall_tau", a, b);
  const std::size_t n = a.size();
  if (n < 2) return 0.0;
  std::vector<std::size_t> perm(n);
  std::iota(perm.begin(), perm.end(), std::size_t{0});
  // Sort lexicographically by (a, b); ties in a and joint ties in (a, b) are then adjacent.
  std::sort(perm.begin(), perm.end(), [&](std::size_t i, std::size_t j) {
    return a[i] < a[j] || (a[i] == a[j] && b[i] < b[j]);
  });
  const std::int64_t a_ties = detail::tied_pairs(n, [&](std::size_t i) { return a[perm[i]]; });
  std::int64_t joint_ties = 0;
  {
    std::int64_t run = 1;
    for (std::size_t i = 1; i <= n; ++i) {
      if (i < n && a[perm[i]] == a[perm[i - 1]] && b[perm[i]] == b[perm[i - 1]]) {
        ++run;
      } else {
        joint_ties += run * (run - 1) / 2;
        run = 1;
      }
    }
  }
  // Bottom-up merge sort by b counts the exchanges, i.e. the discordant pairs.
  std::int64_t swaps = 0;
  std::vector<std::size_t> buf(n);
  for (std::size_t width = 1; width < n; width *= 2) {
    for (std::size_t lo = 0; lo < n; lo += 2 * width) {
      const std::size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      std::size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (b[perm[j]] < b[perm[i]]) {
          buf[k++] = perm[j++];
          swaps += static_cast<std::int64_t>(mid - i);
        } else {
          buf[k++] = perm[i++];
        }
      }
      while (i < mid) buf[k++] = perm[i++];
      while (j < hi) buf[k++] = perm[j++];
    }
    perm.swap(buf);
  }
  const std::int64_t b_ties = detail::tied_pairs(n, [&](std::size_t i) { return b[perm[i]]; });
  const std::int64_t total = static_cast<std::int64_t>(n) * static_cast<std::int64_t>(n - 1) / 2;
  if (a_ties == total || b_ties == total) return 0.0;
  const double concordant_minus_discordant =
      static_cast<double>(total - a_ties - b_ties + joint_ties - 2 * swaps);
  return concordant_minus_discordant / std::sqrt(static_cast<double>(total - a_ties)) /
         std::sqrt(static_cast<double>(total - b_ties));
}

/// Spearman's rank correlation: Pearson's correlation of average ranks (ties share their mean
/// rank), as scipy.stats.spearmanr. Returns 0 when either sample is constant or has < 2 points.
inline double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  detail::check_pair("spearman", a, b);
  const std::size_t n = a.size();
  if (n < 2) return 0.0;
  const auto ra = detail::average_ranks(a), rb = detail::average_ranks(b);
  const double mean = 0.5 * static_cast<double>(n + 1);
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double da = ra[i] - mean, db = rb[i] - mean;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa == 0.0 || sbb == 0.0) return 0.0;
  return sab / std::sqrt(saa * sbb);
}

/// Root-mean-square error between predictions and targets; throws config_error when empty.
inline double rmse(const std::vector<double>& predicted, const std::vector<double>& actual) {
  detail::check_pair("rmse", predicted, actual);
  if (predicted.empty()) throw config_error("rmse: inputs must be non-empty, got 0 entries");
  double s = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    const double e = predicted[i] - actual[i];
    s += e * e;
  }
  return std::sqrt(s / static_cast<double>(predicted.size()));
}

}  // namespace nat::metrics
