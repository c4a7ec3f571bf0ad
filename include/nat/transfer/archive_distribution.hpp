#pragma once
/// \file The distribution over architectures that supernet adaptation samples from (nat_spec.md
/// §5.1): one categorical distribution per genome variable, fitted to the top-N archive members.
///
/// The reference code fits every scipy continuous distribution per variable; the authors describe
/// it as "the categorical distribution of the encodings in the archive" (HA-NAT #7), which is what
/// this is.
#include <cmath>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/rng.hpp"

namespace nat::transfer {

/// Independent per-variable categorical frequencies over integer genomes with bounds [lower,
/// upper].
class archive_distribution {
 public:
  archive_distribution() = default;

  /// Fits to `genomes` (rows of integers within [lower, upper]). `smoothing` adds that pseudo-count
  /// to every category, so choices absent from the top-N keep a small chance (0 = pure empirical
  /// frequencies).
  archive_distribution(const std::vector<std::vector<int>>& genomes, const std::vector<int>& lower,
                       const std::vector<int>& upper, double smoothing = 0.0)
      : lower_(lower) {
    if (lower.size() != upper.size())
      throw config_error("archive_distribution: lower has " + std::to_string(lower.size()) +
                         " entries, upper " + std::to_string(upper.size()));
    if (genomes.empty()) throw config_error("archive_distribution: no genomes to fit");
    if (!(smoothing >= 0.0)) throw config_error("archive_distribution: smoothing must be >= 0");
    const std::size_t n = lower.size();
    probs_.resize(n);
    for (std::size_t v = 0; v < n; ++v) {
      if (upper[v] < lower[v])
        throw config_error("archive_distribution: variable " + std::to_string(v) + " has lower " +
                           std::to_string(lower[v]) + " > upper " + std::to_string(upper[v]));
      probs_[v].assign(static_cast<std::size_t>(upper[v] - lower[v] + 1), smoothing);
    }
    for (const auto& g : genomes) {
      if (g.size() != n)
        throw config_error("archive_distribution: genome has " + std::to_string(g.size()) +
                           " variables, expected " + std::to_string(n));
      for (std::size_t v = 0; v < n; ++v) {
        if (g[v] < lower[v] || g[v] > upper[v])
          throw config_error("archive_distribution: variable " + std::to_string(v) + " = " +
                             std::to_string(g[v]) + " outside [" + std::to_string(lower[v]) + ", " +
                             std::to_string(upper[v]) + "]");
        probs_[v][static_cast<std::size_t>(g[v] - lower[v])] += 1.0;
      }
    }
    for (auto& p : probs_) {
      double s = 0.0;
      for (double x : p) s += x;
      for (double& x : p) x /= s;
    }
  }

  /// Number of variables.
  std::size_t n_var() const { return probs_.size(); }

  /// Probability of each category of variable v (index 0 = lower[v]).
  const std::vector<double>& probabilities(std::size_t v) const { return probs_.at(v); }

  /// Draws one genome; `repair` (e.g. the search space's) makes it valid afterwards.
  std::vector<int> sample(
      rng& gen, const std::function<std::vector<int>(std::vector<int>)>& repair = {}) const {
    if (probs_.empty())
      throw config_error("archive_distribution::sample: distribution is not fitted");
    std::vector<int> g(probs_.size());
    for (std::size_t v = 0; v < probs_.size(); ++v) {
      const double u = gen.uniform();
      double acc = 0.0;
      std::size_t c = 0;
      // Falls back to the last category with positive mass if rounding leaves u above the total.
      std::size_t last_positive = 0;
      for (; c < probs_[v].size(); ++c) {
        if (probs_[v][c] > 0) last_positive = c;
        acc += probs_[v][c];
        if (u < acc) break;
      }
      if (c == probs_[v].size()) c = last_positive;
      g[v] = lower_[v] + static_cast<int>(c);
    }
    return repair ? repair(std::move(g)) : g;
  }

 private:
  std::vector<int> lower_;
  std::vector<std::vector<double>> probs_;
};

}  // namespace nat::transfer
