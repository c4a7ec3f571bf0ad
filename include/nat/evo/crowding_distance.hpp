#pragma once
/// \file Crowding distance of the points of one front (Deb, Pratap, Agarwal & Meyarivan 2002,
/// "A fast and elitist multiobjective genetic algorithm: NSGA-II", §III-B).
#include <algorithm>
#include <cstddef>
#include <limits>
#include <vector>

#include "nat/core/points.hpp"
#include "nat/evo/matrix.hpp"

namespace nat::evo {

namespace detail {

/// Crowding distance of the points idx[0..k) of a row-major n x m matrix, written to out[0..k).
/// Per objective, the members are sorted (ties by position in idx), the two extremes get +inf, and
/// each interior member adds the normalised gap between its neighbours. An objective with zero
/// range adds nothing. Fronts of one or two points are all +inf.
inline void crowding_distance(const double* F, std::size_t m, const std::size_t* idx, std::size_t k,
                              double* out, std::vector<std::size_t>& scratch) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (k <= 2) {
    std::fill(out, out + k, inf);
    return;
  }
  std::fill(out, out + k, 0.0);
  scratch.resize(k);
  for (std::size_t j = 0; j < m; ++j) {
    for (std::size_t t = 0; t < k; ++t) scratch[t] = t;
    std::sort(scratch.begin(), scratch.end(), [&](std::size_t a, std::size_t b) {
      const double fa = F[idx[a] * m + j], fb = F[idx[b] * m + j];
      return fa < fb || (fa == fb && a < b);
    });
    const double lo = F[idx[scratch.front()] * m + j];
    const double hi = F[idx[scratch.back()] * m + j];
    out[scratch.front()] = inf;
    out[scratch.back()] = inf;
    const double range = hi - lo;
    if (!(range > 0.0)) continue;
    for (std::size_t t = 1; t + 1 < k; ++t) {
      const double gap = F[idx[scratch[t + 1]] * m + j] - F[idx[scratch[t - 1]] * m + j];
      out[scratch[t]] += gap / range;
    }
  }
}

}  // namespace detail

/// Crowding distance of each point of a front (objectives minimised), as in NSGA-II: larger means
/// more isolated; the extremes of every objective get +inf. Throws on ragged rows or NaN.
inline std::vector<double> crowding_distance(const points& F) {
  std::vector<double> flat;
  const std::size_t m = detail::to_flat(F, flat, "crowding_distance");
  if (!F.empty() && m == 0) throw config_error("crowding_distance: points have zero objectives");
  std::vector<std::size_t> idx(F.size()), scratch;
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::vector<double> out(F.size());
  detail::crowding_distance(flat.data(), m, idx.data(), idx.size(), out.data(), scratch);
  return out;
}

}  // namespace nat::evo
