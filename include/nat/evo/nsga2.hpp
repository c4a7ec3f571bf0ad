#pragma once
/// \file NSGA-II (Deb, Pratap, Agarwal & Meyarivan 2002, IEEE TEVC 6(2)): non-dominated sorting
/// with crowding-distance survival and the crowded binary tournament.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "nat/core/rng.hpp"
#include "nat/evo/algorithm.hpp"
#include "nat/evo/crowding_distance.hpp"
#include "nat/evo/non_dominated_sort.hpp"
#include "nat/evo/population.hpp"
#include "nat/evo/problem.hpp"
#include "nat/evo/selection.hpp"

namespace nat::evo {

/// NSGA-II settings with pymoo 0.4's defaults: pop 100, random sampling, SBX (p 0.9, eta 15),
/// polynomial mutation (eta 20, p 1/n_var), duplicate elimination.
struct nsga2_params : evolution_params {
  nsga2_params() {
    crossover = crossover_params{crossover_kind::sbx, 0.9, 15.0};
    mutation = mutation_params{true, 20.0, -1.0};
  }
  /// NAT's bi-objective search settings (nat_spec §4.1): pop 100 and the integer operators.
  static nsga2_params nat() {
    nsga2_params p;
    p.pop_size = 100;
    p.use_nat_integer_operators();
    return p;
  }
};

namespace detail {

/// Rank-and-crowding survival (Deb et al. 2002, §III-C): whole fronts while they fit, then the
/// most isolated members of the splitting front (ties broken at random); infeasible rows last, by
/// increasing violation.
class rank_crowding_survival {
 public:
  void operator()(const population& in, std::size_t n_survive, nat::rng& gen, population& out) {
    const std::size_t m = in.n_obj;
    split_feasible(in, feas_, infeas_);
    ff_.resize(feas_.size() * m);
    for (std::size_t t = 0; t < feas_.size(); ++t)
      std::copy(in.f(feas_[t]), in.f(feas_[t]) + m, ff_.begin() + t * m);
    rank_.resize(feas_.size());
    const std::size_t nf = non_dominated_rank(ff_.data(), feas_.size(), m, rank_.data(), ws_);
    // Bucket by front (counting sort keeps index order inside a front).
    start_.assign(nf + 1, 0);
    for (std::size_t t = 0; t < feas_.size(); ++t) ++start_[rank_[t] + 1];
    for (std::size_t k = 0; k < nf; ++k) start_[k + 1] += start_[k];
    members_.resize(feas_.size());
    pos_.assign(start_.begin(), start_.end() - 1);
    for (std::size_t t = 0; t < feas_.size(); ++t) members_[pos_[rank_[t]]++] = t;

    out.clear();
    out.n_var = in.n_var;
    out.n_obj = m;
    for (std::size_t k = 0; k < nf && out.size() < n_survive; ++k) {
      const std::size_t* fr = members_.data() + start_[k];
      const std::size_t len = start_[k + 1] - start_[k];
      cd_.resize(len);
      crowding_distance(ff_.data(), m, fr, len, cd_.data(), scratch_);
      order_.resize(len);
      for (std::size_t t = 0; t < len; ++t) order_[t] = t;
      const std::size_t room = n_survive - out.size();
      if (len > room) {
        // Random tie-breaking, then the largest crowding distance first.
        gen.shuffle(order_.begin(), order_.end());
        std::stable_sort(order_.begin(), order_.end(),
                         [&](std::size_t a, std::size_t b) { return cd_[a] > cd_[b]; });
        order_.resize(room);
      }
      for (std::size_t t : order_) {
        out.push_back_from(in, feas_[fr[t]]);
        out.rank.push_back(k);
        out.crowding.push_back(cd_[t]);
      }
    }
    for (std::size_t t = 0; t < infeas_.size() && out.size() < n_survive; ++t) {
      out.push_back_from(in, infeas_[t]);
      out.rank.push_back(nf + t);
      out.crowding.push_back(0.0);
    }
  }

 private:
  std::vector<std::size_t> feas_, infeas_, rank_, start_, pos_, members_, order_, scratch_;
  std::vector<double> ff_, cd_;
  nds_workspace ws_;
};

}  // namespace detail

/// NSGA-II. `solve` runs it on a problem; the same seed gives the same result.
class nsga2 {
 public:
  /// An NSGA-II with the given settings (validated when solving).
  explicit nsga2(nsga2_params params = {}) : params_(std::move(params)) {}

  /// Runs for n_gen generations (the initial population counts as the first).
  result solve(const problem& prob, std::size_t n_gen, std::uint64_t seed) const {
    run_options opt;
    opt.term.n_gen = n_gen;
    return solve(prob, opt, seed);
  }

  /// Runs with a termination rule, per-generation callback and optional initial population.
  result solve(const problem& prob, const run_options& opt, std::uint64_t seed) const {
    if (prob.n_obj < 2 && prob.n_obj != 0)
      throw config_error("nsga2::solve: needs at least 2 objectives, got 1 (use ga)");
    detail::rank_crowding_survival survival;
    return detail::evolve(prob, params_, survival, detail::dominance_crowding_tournament{}, opt,
                          seed, false, "nsga2::solve");
  }

  /// The settings.
  const nsga2_params& params() const { return params_; }

 private:
  nsga2_params params_;
};

}  // namespace nat::evo
