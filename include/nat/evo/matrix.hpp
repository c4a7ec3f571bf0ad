#pragma once
/// \file Conversion between nat::points and the flat row-major matrices evo works on internally.
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"

namespace nat::evo::detail {

/// Copies a rectangular set of points into a row-major buffer; throws shape_error on ragged rows
/// and config_error on NaN when `require_finite_nan` is set. Returns the number of columns.
inline std::size_t to_flat(const points& p, std::vector<double>& out, const char* fn,
                           bool reject_nan = true) {
  const std::size_t m = p.empty() ? 0 : p[0].size();
  out.resize(p.size() * m);
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i].size() != m)
      throw shape_error(std::string(fn) + ": row " + std::to_string(i) + " has " +
                        std::to_string(p[i].size()) + " values, row 0 has " + std::to_string(m));
    for (std::size_t j = 0; j < m; ++j) {
      const double v = p[i][j];
      if (reject_nan && std::isnan(v))
        throw config_error(std::string(fn) + ": value (" + std::to_string(i) + ", " +
                           std::to_string(j) + ") is NaN; expected numbers");
      out[i * m + j] = v;
    }
  }
  return m;
}

/// Rows [0, n) of a row-major n x m buffer as nat::points.
inline points to_points(const double* data, std::size_t n, std::size_t m) {
  points p(n, std::vector<double>(m));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) p[i][j] = data[i * m + j];
  return p;
}

}  // namespace nat::evo::detail
