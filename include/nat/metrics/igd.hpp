#pragma once
/// \file Distance indicators between an approximation set and a reference front (minimisation):
/// IGD, IGD+, GD, GD+.
///
/// Definitions as in pymoo 0.4 (`performance_indicator/{igd,igd_plus,gd,gd_plus}.py`), which NAT's
/// search code builds on: IGD (Coello & Reyes Sierra 2004) averages, over the reference points,
/// the Euclidean distance to the nearest point of the set; GD (Van Veldhuizen & Lamont 1998)
/// averages, over the set, the distance to the nearest reference point; the "+" variants
/// (Ishibuchi et al. 2015, "Modified distance calculation in generational distance and inverted
/// generational distance", EMO) count only the amounts by which a set point is worse than a
/// reference point, d+(z, a) = sqrt(sum_i max(a_i - z_i, 0)^2), which makes IGD+ weakly
/// Pareto-compliant.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "nat/core/points.hpp"
#include "nat/metrics/detail/check_points.hpp"

namespace nat::metrics {

namespace detail {

// Mean over rows of `from` of the smallest distance to a row of `to`; `plus` uses d+ with the
// reference point z and the set point a taken from the right arguments.
inline double mean_min_distance(const char* fn, const points& set, const points& ref_front,
                                bool over_reference, bool plus) {
  const std::size_t d = check_points(fn, "points", set, 0, false);
  check_points(fn, "reference front", ref_front, d, false);
  const points& outer = over_reference ? ref_front : set;
  const points& inner = over_reference ? set : ref_front;
  double total = 0.0;
  for (const auto& o : outer) {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& in : inner) {
      const auto& z = over_reference ? o : in;  // the reference point
      const auto& a = over_reference ? in : o;  // the set point
      double s = 0.0;
      for (std::size_t c = 0; c < d; ++c) {
        const double diff = plus ? std::max(a[c] - z[c], 0.0) : a[c] - z[c];
        s += diff * diff;
        if (s >= best) break;  // squared distances: stop once this one cannot win
      }
      best = std::min(best, s);
    }
    total += std::sqrt(best);
  }
  return total / double(outer.size());
}

}  // namespace detail

/// Inverted generational distance: mean over `reference_front` of the Euclidean distance to the
/// nearest row of `points`. config_error for an empty set, zero objectives or non-finite values;
/// shape_error when row lengths differ.
inline double igd(const points& points, const nat::points& reference_front) {
  return detail::mean_min_distance("igd", points, reference_front, true, false);
}

/// IGD+: as igd() with the modified distance d+(z, a) = ||max(a - z, 0)|| (Ishibuchi et al. 2015).
inline double igd_plus(const points& points, const nat::points& reference_front) {
  return detail::mean_min_distance("igd_plus", points, reference_front, true, true);
}

/// Generational distance: mean over `points` of the Euclidean distance to the nearest reference
/// row (pymoo's GD, i.e. the p = 1 mean). Same checks as igd().
inline double gd(const points& points, const nat::points& reference_front) {
  return detail::mean_min_distance("gd", points, reference_front, false, false);
}

/// GD+: as gd() with the modified distance d+(z, a) = ||max(a - z, 0)||.
inline double gd_plus(const points& points, const nat::points& reference_front) {
  return detail::mean_min_distance("gd_plus", points, reference_front, false, true);
}

}  // namespace nat::metrics
