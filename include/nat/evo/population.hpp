#pragma once
/// \file A population: genomes, objectives and constraint violation in flat row-major storage.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"
#include "nat/evo/matrix.hpp"
#include "nat/evo/problem.hpp"

namespace nat::evo {

/// Individuals of an evolutionary algorithm. Row i of X (n_var values) is the genome, row i of F
/// (n_obj values) its objectives and CV[i] its constraint violation (0 = feasible, +inf for rows
/// whose objectives were not finite). rank and crowding are filled by rank-based survival
/// (NSGA-II) and are empty otherwise.
struct population {
  /// Genome length.
  std::size_t n_var = 0;
  /// Number of objectives.
  std::size_t n_obj = 0;
  /// Genomes, row-major size() x n_var.
  std::vector<double> X;
  /// Objectives, row-major size() x n_obj.
  std::vector<double> F;
  /// Constraint violation per individual.
  std::vector<double> CV;
  /// Non-domination rank per individual (rank-based survival only).
  std::vector<std::size_t> rank;
  /// Crowding distance per individual (NSGA-II survival only).
  std::vector<double> crowding;

  /// Number of individuals.
  std::size_t size() const { return CV.size(); }
  /// Genome of individual i.
  const double* x(std::size_t i) const { return X.data() + i * n_var; }
  /// Objectives of individual i.
  const double* f(std::size_t i) const { return F.data() + i * n_obj; }
  /// True when individual i satisfies the constraints and has finite objectives.
  bool feasible(std::size_t i) const { return CV[i] <= 0.0; }

  /// Drops every individual, keeping the dimensions and capacity.
  void clear() {
    X.clear();
    F.clear();
    CV.clear();
    rank.clear();
    crowding.clear();
  }

  /// Appends individual i of `other` (same dimensions).
  void push_back_from(const population& other, std::size_t i) {
    X.insert(X.end(), other.x(i), other.x(i) + n_var);
    F.insert(F.end(), other.f(i), other.f(i) + n_obj);
    CV.push_back(other.CV[i]);
  }

  /// Genomes as nat::points.
  points X_points() const { return detail::to_points(X.data(), size(), n_var); }
  /// Objectives as nat::points.
  points F_points() const { return detail::to_points(F.data(), size(), n_obj); }
};

namespace detail {

/// Evaluates rows [first, size) of pop.X with the problem, filling F and CV. Non-finite objectives
/// make a row infeasible (CV = +inf); a callback returning the wrong shape is a shape_error.
inline void evaluate_rows(const problem& prob, population& pop, std::size_t first,
                          points& x_scratch) {
  const std::size_t n_total = pop.X.size() / pop.n_var;
  const std::size_t n = n_total - first;
  pop.F.resize(n_total * pop.n_obj);
  pop.CV.resize(n_total);
  if (n == 0) return;
  const double* X = pop.X.data() + first * pop.n_var;
  double* F = pop.F.data() + first * pop.n_obj;
  const bool need_points = !prob.evaluate_flat || static_cast<bool>(prob.constraint_violation);
  if (need_points) {
    x_scratch.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      x_scratch[i].assign(X + i * pop.n_var, X + (i + 1) * pop.n_var);
  }
  if (prob.evaluate_flat) {
    prob.evaluate_flat(X, n, F);
  } else {
    const points out = prob.evaluate(x_scratch);
    if (out.size() != n)
      throw shape_error("evaluate: problem returned " + std::to_string(out.size()) +
                        " objective rows for " + std::to_string(n) + " inputs");
    for (std::size_t i = 0; i < n; ++i) {
      if (out[i].size() != pop.n_obj)
        throw shape_error("evaluate: objective row " + std::to_string(i) + " has " +
                          std::to_string(out[i].size()) +
                          " values, expected n_obj = " + std::to_string(pop.n_obj));
      std::copy(out[i].begin(), out[i].end(), F + i * pop.n_obj);
    }
  }
  double* CV = pop.CV.data() + first;
  if (prob.constraint_violation) {
    const std::vector<double> cv = prob.constraint_violation(x_scratch);
    if (cv.size() != n)
      throw shape_error("evaluate: constraint_violation returned " + std::to_string(cv.size()) +
                        " values for " + std::to_string(n) + " inputs");
    for (std::size_t i = 0; i < n; ++i)
      CV[i] = std::isnan(cv[i]) ? std::numeric_limits<double>::infinity() : std::max(cv[i], 0.0);
  } else {
    std::fill(CV, CV + n, 0.0);
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < pop.n_obj; ++j)
      if (!std::isfinite(F[i * pop.n_obj + j])) {
        CV[i] = std::numeric_limits<double>::infinity();
        break;
      }
}

}  // namespace detail

}  // namespace nat::evo
