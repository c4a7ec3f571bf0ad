#pragma once
/// \file Binary tournament selection and the comparisons the algorithms plug into it.
#include <cstddef>
#include <vector>

#include "nat/core/rng.hpp"
#include "nat/evo/dominance.hpp"
#include "nat/evo/population.hpp"

namespace nat::evo::detail {

/// Draws tournament participants from successive random permutations of the population, so every
/// individual takes part about equally often (as pymoo's TournamentSelection does).
class tournament_stream {
 public:
  /// Starts a fresh stream over n individuals.
  void reset(std::size_t n) {
    n_ = n;
    pos_ = 0;
    perm_.clear();
  }
  /// Next participant.
  std::size_t next(nat::rng& gen) {
    if (pos_ >= perm_.size()) {
      perm_.resize(n_);
      for (std::size_t i = 0; i < n_; ++i) perm_[i] = i;
      gen.shuffle(perm_.begin(), perm_.end());
      pos_ = 0;
    }
    return perm_[pos_++];
  }

 private:
  std::size_t n_ = 0, pos_ = 0;
  std::vector<std::size_t> perm_;
};

/// Winner by constraint violation when either is infeasible; -1 when both are feasible.
inline long compare_cv(const population& pop, std::size_t a, std::size_t b, nat::rng& gen) {
  if (pop.CV[a] > 0.0 || pop.CV[b] > 0.0) {
    if (pop.CV[a] < pop.CV[b]) return static_cast<long>(a);
    if (pop.CV[b] < pop.CV[a]) return static_cast<long>(b);
    return static_cast<long>(gen.bernoulli(0.5) ? a : b);
  }
  return -1;
}

/// NSGA-II tournament (Deb et al. 2002, crowded-comparison operator; pymoo's binary_tournament):
/// feasibility, then Pareto dominance, then larger crowding distance, then a coin flip.
struct dominance_crowding_tournament {
  std::size_t operator()(const population& pop, std::size_t a, std::size_t b, nat::rng& gen) const {
    const long w = compare_cv(pop, a, b, gen);
    if (w >= 0) return static_cast<std::size_t>(w);
    const dominance d = compare_dominance(pop.f(a), pop.f(b), pop.n_obj);
    if (d == dominance::a_dominates) return a;
    if (d == dominance::b_dominates) return b;
    if (pop.crowding[a] > pop.crowding[b]) return a;
    if (pop.crowding[b] > pop.crowding[a]) return b;
    return gen.bernoulli(0.5) ? a : b;
  }
};

/// NSGA-III tournament (Deb & Jain 2014, §IV-E): feasibility, otherwise a random pick.
struct feasibility_tournament {
  std::size_t operator()(const population& pop, std::size_t a, std::size_t b, nat::rng& gen) const {
    const long w = compare_cv(pop, a, b, gen);
    if (w >= 0) return static_cast<std::size_t>(w);
    return gen.bernoulli(0.5) ? a : b;
  }
};

/// Single-objective tournament: feasibility, then the smaller objective, then a coin flip.
struct fitness_tournament {
  std::size_t operator()(const population& pop, std::size_t a, std::size_t b, nat::rng& gen) const {
    const long w = compare_cv(pop, a, b, gen);
    if (w >= 0) return static_cast<std::size_t>(w);
    if (pop.f(a)[0] < pop.f(b)[0]) return a;
    if (pop.f(b)[0] < pop.f(a)[0]) return b;
    return gen.bernoulli(0.5) ? a : b;
  }
};

}  // namespace nat::evo::detail
