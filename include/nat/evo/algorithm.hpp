#pragma once
/// \file The generational loop shared by GA, NSGA-II and NSGA-III: sampling, mating (tournament,
/// crossover, mutation, duplicate elimination), evaluation and survival, with termination,
/// per-generation callback and history (the structure of pymoo 0.4's GeneticAlgorithm).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"
#include "nat/core/rng.hpp"
#include "nat/evo/crossover.hpp"
#include "nat/evo/duplicates.hpp"
#include "nat/evo/mutation.hpp"
#include "nat/evo/non_dominated_sort.hpp"
#include "nat/evo/population.hpp"
#include "nat/evo/problem.hpp"
#include "nat/evo/sampling.hpp"
#include "nat/evo/selection.hpp"

namespace nat::evo {

/// Settings every generational algorithm shares; the algorithm's params struct sets pymoo's
/// defaults.
struct evolution_params {
  /// Individuals kept after each survival step (any value >= 2; offspring come in pairs and an odd
  /// last child is dropped).
  std::size_t pop_size = 100;
  /// Offspring per generation; 0 means pop_size.
  std::size_t n_offsprings = 0;
  /// Initial sampling.
  sampling_kind sampling = sampling_kind::random;
  /// Crossover operator and its settings.
  crossover_params crossover{};
  /// Polynomial mutation settings.
  mutation_params mutation{};
  /// Discard offspring equal to a population member or an earlier offspring and mate again.
  bool eliminate_duplicates = true;
  /// Keep the non-dominated objectives of every generation in result::history.
  bool save_history = true;

  /// Throws config_error when a setting is out of range.
  void validate(const char* fn) const {
    if (pop_size < 2)
      throw config_error(std::string(fn) + ": pop_size must be at least 2, got " +
                         std::to_string(pop_size));
    crossover.validate(fn);
    mutation.validate(fn);
  }

  /// NAT's integer operators (nat_spec §4.1-4.2): integer Latin hypercube sampling, two-point
  /// crossover with p = 0.9, polynomial mutation with eta = 1 and per-gene p = 1/n_var, duplicate
  /// elimination.
  void use_nat_integer_operators() {
    sampling = sampling_kind::latin_hypercube;
    crossover = crossover_params{crossover_kind::two_point, 0.9, 15.0};
    mutation = mutation_params{true, 1.0, -1.0};
    eliminate_duplicates = true;
  }
};

/// What a per-generation callback or stop criterion sees.
struct generation_state {
  /// Generation count; the initial population is generation 1 (pymoo's convention).
  std::size_t gen;
  /// Objective evaluations so far.
  std::size_t n_evals;
  /// The population after this generation's survival.
  const population& pop;
};

/// When to stop: after n_gen generations, after n_evals evaluations, or when `stop` returns true,
/// whichever comes first (criteria left at 0 / empty are off; at least one must be on).
struct termination {
  /// Maximum generations, counting the initial population as generation 1 (0 = off).
  std::size_t n_gen = 0;
  /// Maximum objective evaluations, checked after each generation (0 = off).
  std::size_t n_evals = 0;
  /// Custom criterion, called after each generation.
  std::function<bool(const generation_state&)> stop;
};

/// Everything besides the algorithm's params that a run may take.
struct run_options {
  /// Stopping rule.
  termination term;
  /// Called after every generation (including the initial one).
  std::function<void(const generation_state&)> callback;
  /// Initial genomes (e.g. NSGANetV2 seeds from the archive's non-dominated set): rounded and
  /// clipped to the bounds; topped up by sampling when fewer than pop_size.
  points initial_X;
};

/// One generation of the history.
struct generation_record {
  /// Generation count (initial population = 1).
  std::size_t gen;
  /// Objective evaluations so far.
  std::size_t n_evals;
  /// Objectives of the population's feasible non-dominated rows.
  points F;
};

/// Outcome of a run.
struct result {
  /// Genomes of the final population's feasible non-dominated rows (GA: the best row). When no
  /// row is feasible, the single row with the smallest constraint violation.
  points X;
  /// Objectives of the rows in X.
  points F;
  /// The whole final population.
  population pop;
  /// Per-generation record (empty when save_history is off).
  std::vector<generation_record> history;
  /// Generations run (initial population = 1).
  std::size_t n_gen = 0;
  /// Objective evaluations used.
  std::size_t n_evals = 0;
};

namespace detail {

/// Feasible indices in increasing order and infeasible ones by increasing violation.
inline void split_feasible(const population& pop, std::vector<std::size_t>& feasible,
                           std::vector<std::size_t>& infeasible) {
  feasible.clear();
  infeasible.clear();
  for (std::size_t i = 0; i < pop.size(); ++i)
    (pop.feasible(i) ? feasible : infeasible).push_back(i);
  std::stable_sort(infeasible.begin(), infeasible.end(),
                   [&](std::size_t a, std::size_t b) { return pop.CV[a] < pop.CV[b]; });
}

/// Indices of the feasible non-dominated rows (or the least infeasible row when none is feasible).
inline std::vector<std::size_t> best_rows(const population& pop, bool single_objective) {
  std::vector<std::size_t> feas, infeas;
  split_feasible(pop, feas, infeas);
  if (feas.empty()) {
    if (infeas.empty()) return {};
    return {infeas.front()};
  }
  std::vector<double> Ff(feas.size() * pop.n_obj);
  for (std::size_t t = 0; t < feas.size(); ++t)
    std::copy(pop.f(feas[t]), pop.f(feas[t]) + pop.n_obj, Ff.begin() + t * pop.n_obj);
  std::vector<std::size_t> out;
  if (single_objective) {
    std::size_t best = 0;
    for (std::size_t t = 1; t < feas.size(); ++t)
      if (Ff[t * pop.n_obj] < Ff[best * pop.n_obj]) best = t;
    return {feas[best]};
  }
  nds_workspace ws;
  std::vector<std::size_t> rank(feas.size());
  non_dominated_rank(Ff.data(), feas.size(), pop.n_obj, rank.data(), ws);
  for (std::size_t t = 0; t < feas.size(); ++t)
    if (rank[t] == 0) out.push_back(feas[t]);
  return out;
}

/// Copies the selected rows of pop into points.
inline void rows_to_points(const population& pop, const std::vector<std::size_t>& idx, points& X,
                           points& F) {
  X.assign(idx.size(), {});
  F.assign(idx.size(), {});
  for (std::size_t t = 0; t < idx.size(); ++t) {
    X[t].assign(pop.x(idx[t]), pop.x(idx[t]) + pop.n_var);
    F[t].assign(pop.f(idx[t]), pop.f(idx[t]) + pop.n_obj);
  }
}

/// The generational loop. Survival: `void(const population& merged, std::size_t n_survive,
/// nat::rng&, population& out)`; Tournament: `std::size_t(const population&, a, b, nat::rng&)`.
template <class Survival, class Tournament>
result evolve(const problem& prob, const evolution_params& params, Survival& survival,
              const Tournament& tournament, const run_options& opt, std::uint64_t seed,
              bool single_objective, const char* fn) {
  prob.validate(fn);
  params.validate(fn);
  const termination& term = opt.term;
  if (term.n_gen == 0 && term.n_evals == 0 && !term.stop)
    throw config_error(std::string(fn) +
                       ": termination needs n_gen > 0, n_evals > 0 or a stop callback");
  const std::size_t nv = prob.n_var, no = prob.n_obj;
  const std::size_t n_off = params.n_offsprings == 0 ? params.pop_size : params.n_offsprings;
  nat::rng gen(seed);
  result res;

  population pop, off, merged;
  for (population* p : {&pop, &off, &merged}) {
    p->n_var = nv;
    p->n_obj = no;
  }
  points scratch;
  row_set seen;

  // Initial population: user rows first (repaired), then sampled rows; duplicates removed.
  {
    std::vector<double> X;
    for (std::size_t i = 0; i < opt.initial_X.size(); ++i) {
      if (opt.initial_X[i].size() != nv)
        throw shape_error(std::string(fn) + ": initial_X row " + std::to_string(i) + " has " +
                          std::to_string(opt.initial_X[i].size()) +
                          " values, expected n_var = " + std::to_string(nv));
      for (double v : opt.initial_X[i])
        if (!std::isfinite(v))
          throw config_error(std::string(fn) + ": initial_X row " + std::to_string(i) +
                             " holds a non-finite value");
      X.insert(X.end(), opt.initial_X[i].begin(), opt.initial_X[i].end());
      repair_row(prob, X.data() + i * nv);
    }
    const std::size_t given = opt.initial_X.size();
    if (given < params.pop_size) sample(prob, params.sampling, params.pop_size - given, gen, X);
    if (params.eliminate_duplicates) {
      seen.reset(nv, X.size() / nv);
      for (std::size_t i = 0; i < X.size() / nv; ++i)
        if (seen.insert(X.data() + i * nv))
          pop.X.insert(pop.X.end(), X.data() + i * nv, X.data() + (i + 1) * nv);
    } else {
      pop.X = std::move(X);
    }
  }
  evaluate_rows(prob, pop, 0, scratch);
  res.n_evals = pop.size();
  {
    merged = pop;
    survival(merged, std::min(merged.size(), params.pop_size), gen, pop);
  }
  std::size_t generation = 1;

  auto record = [&]() {
    const generation_state st{generation, res.n_evals, pop};
    if (params.save_history) {
      generation_record r{generation, res.n_evals, {}};
      points X;
      rows_to_points(pop, best_rows(pop, single_objective), X, r.F);
      res.history.push_back(std::move(r));
    }
    if (opt.callback) opt.callback(st);
    if (term.n_gen > 0 && generation >= term.n_gen) return true;
    if (term.n_evals > 0 && res.n_evals >= term.n_evals) return true;
    if (term.stop && term.stop(st)) return true;
    return false;
  };

  tournament_stream stream;
  std::vector<double> child(2 * nv);
  bool done = record();
  while (!done) {
    // Mating: tournament, crossover, mutation; duplicates of the population or of earlier
    // offspring are discarded and mating is retried (at most 100 rounds, as pymoo).
    off.clear();
    stream.reset(pop.size());
    if (params.eliminate_duplicates) {
      seen.reset(nv, pop.size() + n_off);
      for (std::size_t i = 0; i < pop.size(); ++i) seen.insert(pop.x(i));
    }
    std::size_t n_have = 0;
    for (std::size_t round = 0; round < 100 && n_have < n_off; ++round) {
      const std::size_t n_pairs = (n_off - n_have + 1) / 2;
      for (std::size_t k = 0; k < n_pairs && n_have < n_off; ++k) {
        const std::size_t a = tournament(pop, stream.next(gen), stream.next(gen), gen);
        const std::size_t b = tournament(pop, stream.next(gen), stream.next(gen), gen);
        crossover(prob, params.crossover, pop.x(a), pop.x(b), child.data(), child.data() + nv, gen);
        for (std::size_t c = 0; c < 2 && n_have < n_off; ++c) {
          double* x = child.data() + c * nv;
          mutate(prob, params.mutation, x, gen);
          if (params.eliminate_duplicates && !seen.insert(x)) continue;
          off.X.insert(off.X.end(), x, x + nv);
          ++n_have;
        }
      }
    }
    evaluate_rows(prob, off, 0, scratch);
    res.n_evals += off.size();
    // Merge parents and offspring, then keep pop_size of them.
    merged.clear();
    merged.X.insert(merged.X.end(), pop.X.begin(), pop.X.end());
    merged.X.insert(merged.X.end(), off.X.begin(), off.X.end());
    merged.F.insert(merged.F.end(), pop.F.begin(), pop.F.end());
    merged.F.insert(merged.F.end(), off.F.begin(), off.F.end());
    merged.CV.insert(merged.CV.end(), pop.CV.begin(), pop.CV.end());
    merged.CV.insert(merged.CV.end(), off.CV.begin(), off.CV.end());
    survival(merged, std::min(merged.size(), params.pop_size), gen, pop);
    ++generation;
    done = record();
  }
  res.n_gen = generation;
  rows_to_points(pop, best_rows(pop, single_objective), res.X, res.F);
  res.pop = std::move(pop);
  return res;
}

}  // namespace detail

}  // namespace nat::evo
