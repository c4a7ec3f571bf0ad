#pragma once
/// \file Candidate subset selection (nat_spec.md §4.4): choose K of the surrogate search's final
/// population so that, together with the archive's non-dominated front, they spread evenly along
/// every cheap objective.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <set>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"
#include "nat/core/rng.hpp"

namespace nat::transfer {

/// Settings of the binary GA that picks the subset (defaults: MOEA's SubsetSelectionProblem run).
struct subset_selection_params {
  std::size_t pop_size = 500;  ///< GA population
  std::size_t n_gen = 200;     ///< GA generations
};

namespace detail {

/// f(mask) = max over cheap objectives j of the population std (ddof 0) of the gaps between sorted
/// values of the front's and the selected candidates' objective j. Smaller = more even coverage.
inline double subset_spread(const nat::points& front, const nat::points& cands,
                            const std::vector<std::size_t>& chosen, std::vector<double>& buf) {
  const std::size_t n_obj = !cands.empty() ? cands[0].size() : 0;
  double worst = 0.0;
  for (std::size_t j = 0; j < n_obj; ++j) {
    buf.clear();
    for (const auto& row : front) buf.push_back(row[j]);
    for (std::size_t i : chosen) buf.push_back(cands[i][j]);
    std::sort(buf.begin(), buf.end());
    if (buf.size() < 2) continue;
    const std::size_t m = buf.size() - 1;
    double mean = 0.0;
    for (std::size_t i = 0; i < m; ++i) mean += buf[i + 1] - buf[i];
    mean /= static_cast<double>(m);
    double var = 0.0;
    for (std::size_t i = 0; i < m; ++i) {
      const double g = buf[i + 1] - buf[i] - mean;
      var += g * g;
    }
    worst = std::max(worst, std::sqrt(var / static_cast<double>(m)));
  }
  return worst;
}

}  // namespace detail

/// Indices of `k` rows of `candidates` (cheap objectives only, one row per candidate) that minimise
/// the spread objective against `front` (the archive's non-dominated rows, same columns). With at
/// most k candidates all are returned. Deterministic for a given seed.
inline std::vector<std::size_t> select_subset(const nat::points& front,
                                              const nat::points& candidates, std::size_t k,
                                              std::uint64_t seed,
                                              const subset_selection_params& params = {}) {
  const std::size_t m = candidates.size();
  if (k == 0) throw config_error("select_subset: k must be positive");
  if (params.pop_size < 2) throw config_error("select_subset: pop_size must be at least 2");
  const std::size_t n_obj = m ? candidates[0].size() : 0;
  for (const auto& r : candidates)
    if (r.size() != n_obj)
      throw shape_error("select_subset: candidate rows have " + std::to_string(r.size()) +
                        " objectives, expected " + std::to_string(n_obj));
  for (const auto& r : front)
    if (r.size() != n_obj)
      throw shape_error("select_subset: front rows have " + std::to_string(r.size()) +
                        " objectives, candidates have " + std::to_string(n_obj));
  std::vector<std::size_t> all(m);
  for (std::size_t i = 0; i < m; ++i) all[i] = i;
  if (m <= k) return all;

  rng gen(seed);
  std::vector<double> buf;
  struct individual {
    std::vector<std::size_t> chosen;  // sorted, size k
    double f;
  };
  auto evaluate = [&](std::vector<std::size_t> c) {
    std::sort(c.begin(), c.end());
    return individual{c, detail::subset_spread(front, candidates, c, buf)};
  };
  auto random_subset = [&] {
    auto p = gen.permutation(m);
    p.resize(k);
    return p;
  };

  // The number of distinct subsets may be smaller than the population (small m); cap it.
  double n_subsets = 1.0;
  for (std::size_t i = 0; i < k; ++i)
    n_subsets *= static_cast<double>(m - i) / static_cast<double>(i + 1);
  const std::size_t pop_size =
      static_cast<std::size_t>(std::min<double>(static_cast<double>(params.pop_size), n_subsets));

  std::set<std::vector<std::size_t>> seen;
  std::vector<individual> pop;
  for (std::size_t tries = 0; pop.size() < pop_size && tries < 50 * pop_size; ++tries) {
    auto ind = evaluate(random_subset());
    if (seen.insert(ind.chosen).second) pop.push_back(std::move(ind));
  }
  auto by_fitness = [](const individual& a, const individual& b) {
    return a.f < b.f || (a.f == b.f && a.chosen < b.chosen);
  };
  std::sort(pop.begin(), pop.end(), by_fitness);

  std::vector<char> in_a(m), in_b(m);
  for (std::size_t gen_i = 0; gen_i < params.n_gen && pop.size() > 1; ++gen_i) {
    std::vector<individual> offspring;
    for (std::size_t tries = 0; offspring.size() < pop.size() && tries < 4 * pop.size(); ++tries) {
      // Binary tournaments on fitness pick the parents.
      auto pick = [&]() -> const individual& {
        const auto& a = pop[gen.index(pop.size())];
        const auto& b = pop[gen.index(pop.size())];
        return by_fitness(a, b) ? a : b;
      };
      const auto& pa = pick();
      const auto& pb = pick();
      std::fill(in_a.begin(), in_a.end(), 0);
      std::fill(in_b.begin(), in_b.end(), 0);
      for (auto i : pa.chosen) in_a[i] = 1;
      for (auto i : pb.chosen) in_b[i] = 1;
      // Crossover: keep what both parents chose, fill up to k from what only one chose.
      std::vector<std::size_t> child, pool;
      for (std::size_t i = 0; i < m; ++i) {
        if (in_a[i] && in_b[i])
          child.push_back(i);
        else if (in_a[i] || in_b[i])
          pool.push_back(i);
      }
      gen.shuffle(pool.begin(), pool.end());
      for (std::size_t i = 0; child.size() < k; ++i) child.push_back(pool[i]);
      // Mutation: swap one chosen candidate for one not chosen.
      std::vector<char> in_child(m, 0);
      for (auto i : child) in_child[i] = 1;
      std::vector<std::size_t> outside;
      for (std::size_t i = 0; i < m; ++i)
        if (!in_child[i]) outside.push_back(i);
      if (!outside.empty()) child[gen.index(k)] = outside[gen.index(outside.size())];
      auto ind = evaluate(std::move(child));
      if (seen.insert(ind.chosen).second) offspring.push_back(std::move(ind));
    }
    for (auto& o : offspring) pop.push_back(std::move(o));
    std::sort(pop.begin(), pop.end(), by_fitness);
    pop.resize(std::min(pop.size(), pop_size));
  }
  return pop.front().chosen;
}

}  // namespace nat::transfer
