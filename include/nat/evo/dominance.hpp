#pragma once
/// \file Pareto dominance between objective vectors (all objectives minimised).
#include <cstddef>
#include <string>
#include <vector>

#include "nat/core/error.hpp"

namespace nat::evo {

/// Relation of a to b under Pareto dominance (minimisation).
enum class dominance { a_dominates, b_dominates, indifferent };

/// Compares two objective vectors of length m (Deb 2001, def. 2.5): a dominates b when it is no
/// worse in every objective and strictly better in at least one. Equal vectors are indifferent.
inline dominance compare_dominance(const double* a, const double* b, std::size_t m) {
  bool a_better = false, b_better = false;
  for (std::size_t j = 0; j < m; ++j) {
    if (a[j] < b[j]) {
      a_better = true;
    } else if (b[j] < a[j]) {
      b_better = true;
    }
    if (a_better && b_better) return dominance::indifferent;
  }
  if (a_better) return dominance::a_dominates;
  if (b_better) return dominance::b_dominates;
  return dominance::indifferent;
}

/// True when objective vector a Pareto-dominates b (minimisation).
inline bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size())
    throw shape_error("dominates: vectors have " + std::to_string(a.size()) + " and " +
                      std::to_string(b.size()) + " objectives");
  return compare_dominance(a.data(), b.data(), a.size()) == dominance::a_dominates;
}

}  // namespace nat::evo
