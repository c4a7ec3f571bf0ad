#pragma once
/// \file The optimisation problem handed to nat's evolutionary algorithms.
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"

namespace nat::evo {

/// A box-constrained problem with n_obj minimised objectives, evaluated a population at a time.
///
/// `evaluate` receives one design vector per row and returns one objective row per input row.
/// Rows with a NaN or infinite objective are treated as infeasible (constraint violation +inf):
/// they never enter the non-dominated fronts and lose every tournament against a finite row.
struct problem {
  /// Number of decision variables.
  std::size_t n_var = 0;
  /// Number of objectives (all minimised).
  std::size_t n_obj = 0;
  /// Lower bounds, one per variable.
  std::vector<double> lower;
  /// Upper bounds, one per variable (lower[i] <= upper[i]).
  std::vector<double> upper;
  /// Which variables are integers; empty means all real. Integer variables take integer values
  /// between their (integer) bounds; operators round as in pymoo 0.4 (nat_spec §4.2).
  std::vector<bool> integer;
  /// Batch objective function: one row of n_obj objectives per input row.
  std::function<points(const points&)> evaluate;
  /// Optional faster batch objective function on row-major buffers: reads n rows of n_var from x,
  /// writes n rows of n_obj to f. Used instead of `evaluate` when set.
  std::function<void(const double* x, std::size_t n, double* f)> evaluate_flat;
  /// Optional constraint violation per row (0 = feasible, larger = worse; negative counts as 0).
  std::function<std::vector<double>(const points&)> constraint_violation;

  /// True when variable i is an integer variable.
  bool is_integer(std::size_t i) const { return !integer.empty() && integer[i]; }

  /// Throws config_error unless the problem is well formed.
  void validate(const char* fn = "problem") const {
    const std::string f(fn);
    if (n_var == 0) throw config_error(f + ": n_var must be positive, got 0");
    if (n_obj == 0) throw config_error(f + ": n_obj must be positive, got 0");
    if (lower.size() != n_var || upper.size() != n_var)
      throw config_error(f + ": expected " + std::to_string(n_var) +
                         " lower and upper bounds, got " + std::to_string(lower.size()) + " and " +
                         std::to_string(upper.size()));
    if (!integer.empty() && integer.size() != n_var)
      throw config_error(f + ": integer mask has " + std::to_string(integer.size()) +
                         " entries, expected 0 or " + std::to_string(n_var));
    for (std::size_t i = 0; i < n_var; ++i) {
      if (!std::isfinite(lower[i]) || !std::isfinite(upper[i]))
        throw config_error(f + ": bounds of variable " + std::to_string(i) + " must be finite");
      if (lower[i] > upper[i])
        throw config_error(f + ": lower bound " + std::to_string(lower[i]) + " > upper bound " +
                           std::to_string(upper[i]) + " for variable " + std::to_string(i));
      if (is_integer(i) && (lower[i] != std::round(lower[i]) || upper[i] != std::round(upper[i])))
        throw config_error(f + ": integer variable " + std::to_string(i) +
                           " needs integer bounds, got [" + std::to_string(lower[i]) + ", " +
                           std::to_string(upper[i]) + "]");
    }
    if (!evaluate && !evaluate_flat)
      throw config_error(f + ": neither evaluate nor evaluate_flat is set");
  }
};

}  // namespace nat::evo
