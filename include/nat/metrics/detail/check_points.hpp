#pragma once
/// \file Input checks shared by nat::metrics' set indicators. Not public API.
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"

namespace nat::metrics::detail {

// A row vector must be non-empty and finite; returns its length.
inline std::size_t check_vector(const char* fn, const char* what, const std::vector<double>& v) {
  if (v.empty())
    throw config_error(std::string(fn) + ": " + what + " needs at least one objective, got 0");
  for (std::size_t c = 0; c < v.size(); ++c)
    if (!std::isfinite(v[c]))
      throw config_error(std::string(fn) + ": " + what + " entry " + std::to_string(c) +
                         " must be finite, got " + std::to_string(v[c]));
  return v.size();
}

// Every row has `dim` finite entries (dim = 0: take the first row's length, which must be > 0).
// Empty sets are refused unless allow_empty. Returns the dimension.
inline std::size_t check_points(const char* fn, const char* what, const points& p, std::size_t dim,
                                bool allow_empty) {
  if (p.empty()) {
    if (allow_empty) return dim;
    throw config_error(std::string(fn) + ": " + what + " is empty");
  }
  if (dim == 0) dim = p.front().size();
  if (dim == 0)
    throw config_error(std::string(fn) + ": " + what + " rows need at least one objective, got 0");
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i].size() != dim)
      throw shape_error(std::string(fn) + ": " + what + " row " + std::to_string(i) + " has " +
                        std::to_string(p[i].size()) + " objectives, expected " +
                        std::to_string(dim));
    for (std::size_t c = 0; c < dim; ++c)
      if (!std::isfinite(p[i][c]))
        throw config_error(std::string(fn) + ": " + what + " row " + std::to_string(i) +
                           " objective " + std::to_string(c) + " must be finite, got " +
                           std::to_string(p[i][c]));
  }
  return dim;
}

}  // namespace nat::metrics::detail
