#pragma once
/// \file The genome vocabulary of nat's search spaces: integer vectors, and their conversion to and
/// from the real-valued rows that nat::evo works on.
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"

namespace nat::search {

/// One genotype: an integer per search variable (NAT's 22 integers for nat_mbv3_space).
using genome = std::vector<int>;

/// How `features()` turns a genome into a surrogate input.
enum class feature_encoding {
  one_hot,  ///< each variable one-hot over its categories (MOEA; 209 dims for NAT, nat_spec §1)
  compact   ///< one value per variable, (x - lower) / (upper - lower) in [0, 1] (NSV2-like)
};

/// Rounds a real-valued design row (as nat::evo produces for integer variables) to a genome;
/// config_error for a non-finite entry.
inline genome genome_from_row(const std::vector<double>& row) {
  genome g(row.size());
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (!std::isfinite(row[i]) || std::fabs(row[i]) > 1e9)
      throw config_error("genome_from_row: entry " + std::to_string(i) +
                         " must be a finite integer value, got " + std::to_string(row[i]));
    g[i] = static_cast<int>(std::lround(row[i]));
  }
  return g;
}

/// A genome as a real-valued design row for nat::evo.
inline std::vector<double> genome_to_row(const genome& g) {
  return std::vector<double>(g.begin(), g.end());
}

/// Genomes as design rows (one row each).
inline points genomes_to_rows(const std::vector<genome>& gs) {
  points p;
  p.reserve(gs.size());
  for (const auto& g : gs) p.push_back(genome_to_row(g));
  return p;
}

/// Design rows rounded to genomes.
inline std::vector<genome> genomes_from_rows(const points& rows) {
  std::vector<genome> gs;
  gs.reserve(rows.size());
  for (const auto& r : rows) gs.push_back(genome_from_row(r));
  return gs;
}

}  // namespace nat::search
