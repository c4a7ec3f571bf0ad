#pragma once
/// \file Single-objective genetic algorithm (pymoo 0.4's GA: tournament on feasibility and fitness,
/// (mu + lambda) fitness survival).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "nat/core/rng.hpp"
#include "nat/evo/algorithm.hpp"
#include "nat/evo/population.hpp"
#include "nat/evo/problem.hpp"
#include "nat/evo/selection.hpp"

namespace nat::evo {

/// GA settings with pymoo 0.4's defaults: pop 100, random sampling, SBX (p 0.9, eta 3),
/// polynomial mutation (eta 5, p 1/n_var), duplicate elimination.
struct ga_params : evolution_params {
  ga_params() {
    crossover = crossover_params{crossover_kind::sbx, 0.9, 3.0};
    mutation = mutation_params{true, 5.0, -1.0};
  }
  /// NAT's single-objective search settings (nat_spec §4.1): pop 100 and the integer operators.
  static ga_params nat() {
    ga_params p;
    p.pop_size = 100;
    p.use_nat_integer_operators();
    return p;
  }
};

namespace detail {

/// Keeps the best n: feasible rows by increasing objective (ties by index), then infeasible rows
/// by increasing violation.
class fitness_survival {
 public:
  void operator()(const population& in, std::size_t n_survive, nat::rng&, population& out) {
    split_feasible(in, feas_, infeas_);
    std::stable_sort(feas_.begin(), feas_.end(),
                     [&](std::size_t a, std::size_t b) { return in.f(a)[0] < in.f(b)[0]; });
    out.clear();
    out.n_var = in.n_var;
    out.n_obj = in.n_obj;
    for (std::size_t i : feas_) {
      if (out.size() >= n_survive) break;
      out.push_back_from(in, i);
    }
    for (std::size_t i : infeas_) {
      if (out.size() >= n_survive) break;
      out.push_back_from(in, i);
    }
  }

 private:
  std::vector<std::size_t> feas_, infeas_;
};

}  // namespace detail

/// Single-objective GA. `solve` runs it on a problem with n_obj = 1; the same seed gives the same
/// result. result::X / F hold the best row.
class ga {
 public:
  /// A GA with the given settings (validated when solving).
  explicit ga(ga_params params = {}) : params_(std::move(params)) {}

  /// Runs for n_gen generations (the initial population counts as the first).
  result solve(const problem& prob, std::size_t n_gen, std::uint64_t seed) const {
    run_options opt;
    opt.term.n_gen = n_gen;
    return solve(prob, opt, seed);
  }

  /// Runs with a termination rule, per-generation callback and optional initial population.
  result solve(const problem& prob, const run_options& opt, std::uint64_t seed) const {
    if (prob.n_obj > 1)
      throw config_error("ga::solve: needs exactly 1 objective, got " + std::to_string(prob.n_obj) +
                         " (use nsga2 or nsga3)");
    detail::fitness_survival survival;
    return detail::evolve(prob, params_, survival, detail::fitness_tournament{}, opt, seed, true,
                          "ga::solve");
  }

  /// The settings.
  const ga_params& params() const { return params_; }

 private:
  ga_params params_;
};

}  // namespace nat::evo
