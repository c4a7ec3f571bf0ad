#pragma once
/// \file Initial-population sampling: uniform random and Latin hypercube (integer-aware).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "nat/core/points.hpp"
#include "nat/core/rng.hpp"
#include "nat/evo/matrix.hpp"
#include "nat/evo/problem.hpp"

namespace nat::evo {

/// How the initial population is drawn.
enum class sampling_kind {
  /// Independent uniform values in [lower, upper] (integers uniform over the integer range).
  random,
  /// Latin hypercube (McKay, Beckman & Conover 1979): each variable's range is cut into n equal
  /// strata and every stratum is used once. Integer variables are sampled on the range widened by
  /// just under 0.5 on each side and rounded, so every integer gets an equal share (pymoo's
  /// int_lhs).
  latin_hypercube,
};

namespace detail {

/// Widening that makes rounding give every integer in [lo, hi] the same share (pymoo 0.4).
constexpr double integer_widening = 0.5 - 1e-7;

/// Rounds integer variables and clips every variable to its bounds.
inline void repair_row(const problem& prob, double* x) {
  for (std::size_t j = 0; j < prob.n_var; ++j) {
    double v = x[j];
    if (prob.is_integer(j)) v = std::nearbyint(v);
    x[j] = std::min(std::max(v, prob.lower[j]), prob.upper[j]);
  }
}

/// Appends n sampled rows to X (row-major, n_var columns).
inline void sample(const problem& prob, sampling_kind kind, std::size_t n, nat::rng& gen,
                   std::vector<double>& X) {
  const std::size_t first = X.size();
  const std::size_t nv = prob.n_var;
  X.resize(first + n * nv);
  double* out = X.data() + first;
  if (kind == sampling_kind::random) {
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < nv; ++j) {
        const double lo = prob.lower[j], hi = prob.upper[j];
        out[i * nv + j] = prob.is_integer(j)
                              ? static_cast<double>(gen.uniform_int(static_cast<std::int64_t>(lo),
                                                                    static_cast<std::int64_t>(hi)))
                              : gen.uniform(lo, hi);
      }
  } else {
    for (std::size_t j = 0; j < nv; ++j) {
      const std::vector<std::size_t> perm = gen.permutation(n);
      double lo = prob.lower[j], hi = prob.upper[j];
      if (prob.is_integer(j)) {
        lo -= integer_widening;
        hi += integer_widening;
      }
      for (std::size_t i = 0; i < n; ++i) {
        const double u = (static_cast<double>(perm[i]) + gen.uniform()) / static_cast<double>(n);
        out[i * nv + j] = lo + u * (hi - lo);
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i) repair_row(prob, out + i * nv);
}

}  // namespace detail

/// n design vectors drawn with the given sampling for a validated problem; deterministic in seed.
inline points sample(const problem& prob, sampling_kind kind, std::size_t n, std::uint64_t seed) {
  prob.validate("sample");
  nat::rng gen(seed);
  std::vector<double> X;
  detail::sample(prob, kind, n, gen, X);
  return detail::to_points(X.data(), n, prob.n_var);
}

}  // namespace nat::evo
