#pragma once
/// \file NSGA-III (Deb & Jain 2014, "An evolutionary many-objective optimization algorithm using
/// reference-point-based nondominated sorting approach, part I", IEEE TEVC 18(4)): non-dominated
/// sorting, then niching on reference directions after normalising with the ideal point and the
/// hyperplane through the extreme points (§IV-C to §IV-E), as pymoo 0.4 implements it.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/points.hpp"
#include "nat/core/rng.hpp"
#include "nat/evo/algorithm.hpp"
#include "nat/evo/non_dominated_sort.hpp"
#include "nat/evo/population.hpp"
#include "nat/evo/problem.hpp"
#include "nat/evo/selection.hpp"

namespace nat::evo {

/// NSGA-III settings with pymoo 0.4's defaults: random sampling, SBX (p 1.0, eta 30), polynomial
/// mutation (eta 20, p 1/n_var), duplicate elimination. pop_size must be at least the number of
/// reference directions (Deb & Jain use the next multiple of 4, e.g. 92 for 91 directions).
struct nsga3_params : evolution_params {
  nsga3_params() {
    crossover = crossover_params{crossover_kind::sbx, 1.0, 30.0};
    mutation = mutation_params{true, 20.0, -1.0};
  }
  /// NAT's many-objective search settings (nat_spec §4.1): pop 100 and the integer operators
  /// (use with riesz_energy_directions(n_obj, 100, 42)).
  static nsga3_params nat() {
    nsga3_params p;
    p.pop_size = 100;
    p.use_nat_integer_operators();
    return p;
  }
};

namespace detail {

/// Solves the m x m system A x = b by Gaussian elimination with partial pivoting; false when A is
/// (numerically) singular.
inline bool solve_linear(std::vector<double> A, std::vector<double> b, std::size_t m,
                         std::vector<double>& x) {
  for (std::size_t c = 0; c < m; ++c) {
    std::size_t piv = c;
    for (std::size_t r = c + 1; r < m; ++r)
      if (std::fabs(A[r * m + c]) > std::fabs(A[piv * m + c])) piv = r;
    if (!(std::fabs(A[piv * m + c]) > 1e-300)) return false;
    if (piv != c) {
      for (std::size_t k = 0; k < m; ++k) std::swap(A[c * m + k], A[piv * m + k]);
      std::swap(b[c], b[piv]);
    }
    for (std::size_t r = c + 1; r < m; ++r) {
      const double f = A[r * m + c] / A[c * m + c];
      for (std::size_t k = c; k < m; ++k) A[r * m + k] -= f * A[c * m + k];
      b[r] -= f * b[c];
    }
  }
  x.assign(m, 0.0);
  for (std::size_t c = m; c-- > 0;) {
    double s = b[c];
    for (std::size_t k = c + 1; k < m; ++k) s -= A[c * m + k] * x[k];
    x[c] = s / A[c * m + c];
  }
  for (double v : x)
    if (!std::isfinite(v)) return false;
  return true;
}

/// Reference-direction survival. Keeps the ideal point, the worst point seen and the extreme
/// points across generations, as Deb & Jain (2014) §IV-C and pymoo do.
class reference_direction_survival {
 public:
  reference_direction_survival(const std::vector<double>& dirs, std::size_t n_dirs, std::size_t m)
      : m_(m), n_dirs_(n_dirs), unit_(dirs) {
    for (std::size_t k = 0; k < n_dirs; ++k) {
      double n2 = 0.0;
      for (std::size_t j = 0; j < m; ++j) n2 += unit_[k * m + j] * unit_[k * m + j];
      const double n = std::sqrt(n2);
      for (std::size_t j = 0; j < m; ++j) unit_[k * m + j] /= n;
    }
    ideal_.assign(m, std::numeric_limits<double>::infinity());
    worst_.assign(m, -std::numeric_limits<double>::infinity());
  }

  void operator()(const population& in, std::size_t n_survive, nat::rng& gen, population& out) {
    const std::size_t m = m_;
    split_feasible(in, feas_, infeas_);
    out.clear();
    out.n_var = in.n_var;
    out.n_obj = m;
    if (!feas_.empty()) select_feasible(in, n_survive, gen, out);
    for (std::size_t t = 0; t < infeas_.size() && out.size() < n_survive; ++t)
      out.push_back_from(in, infeas_[t]);
  }

  /// Current ideal point (for tests and inspection).
  const std::vector<double>& ideal() const { return ideal_; }
  /// Current nadir estimate.
  const std::vector<double>& nadir() const { return nadir_; }

 private:
  void select_feasible(const population& in, std::size_t n_survive, nat::rng& gen,
                       population& out) {
    const std::size_t m = m_;
    const std::size_t nf_pts = feas_.size();
    ff_.resize(nf_pts * m);
    for (std::size_t t = 0; t < nf_pts; ++t)
      std::copy(in.f(feas_[t]), in.f(feas_[t]) + m, ff_.begin() + t * m);
    rank_.resize(nf_pts);
    const std::size_t nf = non_dominated_rank(ff_.data(), nf_pts, m, rank_.data(), ws_);

    // Ideal and worst points over everything seen so far.
    for (std::size_t t = 0; t < nf_pts; ++t)
      for (std::size_t j = 0; j < m; ++j) {
        ideal_[j] = std::min(ideal_[j], ff_[t * m + j]);
        worst_[j] = std::max(worst_[j], ff_[t * m + j]);
      }

    // Fronts taken: whole fronts until n_survive is reached (the last one may split).
    std::vector<std::size_t> count(nf, 0);
    for (std::size_t t = 0; t < nf_pts; ++t) ++count[rank_[t]];
    std::size_t last = 0, taken = 0;
    for (; last < nf; ++last) {
      taken += count[last];
      if (taken >= n_survive) break;
    }
    if (last == nf) last = nf - 1;
    sel_.clear();
    for (std::size_t t = 0; t < nf_pts; ++t)
      if (rank_[t] <= last) sel_.push_back(t);

    update_extremes_and_nadir();

    // Associate every selected point with its nearest reference line in normalised space.
    niche_.resize(sel_.size());
    dist_.resize(sel_.size());
    std::vector<double> nrm(m);
    for (std::size_t s = 0; s < sel_.size(); ++s) {
      const double* f = ff_.data() + sel_[s] * m;
      double n2 = 0.0;
      for (std::size_t j = 0; j < m; ++j) {
        double den = nadir_[j] - ideal_[j];
        if (den == 0.0) den = 1e-12;
        nrm[j] = (f[j] - ideal_[j]) / den;
        n2 += nrm[j] * nrm[j];
      }
      std::size_t best = 0;
      double best_d = std::numeric_limits<double>::infinity();
      for (std::size_t k = 0; k < n_dirs_; ++k) {
        double dot = 0.0;
        for (std::size_t j = 0; j < m; ++j) dot += nrm[j] * unit_[k * m + j];
        const double d = n2 - dot * dot;
        if (d < best_d) {
          best_d = d;
          best = k;
        }
      }
      niche_[s] = best;
      dist_[s] = std::sqrt(std::max(best_d, 0.0));
    }

    std::vector<std::size_t> chosen;  // positions in sel_
    std::vector<std::size_t> last_front;
    niche_count_.assign(n_dirs_, 0);
    for (std::size_t s = 0; s < sel_.size(); ++s) {
      if (taken <= n_survive || rank_[sel_[s]] < last) {
        chosen.push_back(s);
        ++niche_count_[niche_[s]];
      } else {
        last_front.push_back(s);
      }
    }
    if (chosen.size() < n_survive) niching(n_survive - chosen.size(), last_front, chosen, gen);
    std::sort(chosen.begin(), chosen.end());
    for (std::size_t s : chosen) out.push_back_from(in, feas_[sel_[s]]);
  }

  // Deb & Jain 2014 §IV-E (Algorithm 4): repeatedly pick a least-crowded reference direction
  // that still has candidates; an empty niche takes its closest candidate, otherwise a random one.
  void niching(std::size_t n_remaining, std::vector<std::size_t>& cand,
               std::vector<std::size_t>& chosen, nat::rng& gen) {
    std::vector<char> avail(cand.size(), 1);
    std::vector<std::size_t> niches, pick, members;
    std::size_t n_left = cand.size();
    while (n_remaining > 0 && n_left > 0) {
      // Niches that still have candidates, with the smallest count.
      niches.clear();
      std::size_t min_count = std::numeric_limits<std::size_t>::max();
      std::vector<char> has(n_dirs_, 0);
      for (std::size_t c = 0; c < cand.size(); ++c)
        if (avail[c]) has[niche_[cand[c]]] = 1;
      for (std::size_t k = 0; k < n_dirs_; ++k)
        if (has[k]) {
          if (niche_count_[k] < min_count) {
            min_count = niche_count_[k];
            niches.clear();
          }
          if (niche_count_[k] == min_count) niches.push_back(k);
        }
      gen.shuffle(niches.begin(), niches.end());
      if (niches.size() > n_remaining) niches.resize(n_remaining);
      for (std::size_t k : niches) {
        members.clear();
        for (std::size_t c = 0; c < cand.size(); ++c)
          if (avail[c] && niche_[cand[c]] == k) members.push_back(c);
        std::size_t c_pick;
        if (niche_count_[k] == 0) {
          c_pick = members[0];
          for (std::size_t c : members)
            if (dist_[cand[c]] < dist_[cand[c_pick]]) c_pick = c;
        } else {
          c_pick = members[gen.index(members.size())];
        }
        avail[c_pick] = 0;
        --n_left;
        chosen.push_back(cand[c_pick]);
        ++niche_count_[k];
        --n_remaining;
      }
    }
  }

  // Extreme points by the achievement scalarising function with weights 1 / 1e6 (pymoo's
  // get_extreme_points_c), the hyperplane through them gives the intercepts (Deb & Jain 2014
  // §IV-C); degenerate hyperplanes fall back to the worst point of the first front, and tiny
  // ranges to the worst of the population.
  void update_extremes_and_nadir() {
    const std::size_t m = m_;
    std::vector<double> cand;
    cand.insert(cand.end(), extreme_.begin(), extreme_.end());
    std::vector<double> worst_front(m, -std::numeric_limits<double>::infinity());
    std::vector<double> worst_pop(m, -std::numeric_limits<double>::infinity());
    for (std::size_t s : sel_) {
      const double* f = ff_.data() + s * m;
      for (std::size_t j = 0; j < m; ++j) worst_pop[j] = std::max(worst_pop[j], f[j]);
      if (rank_[s] == 0) {
        cand.insert(cand.end(), f, f + m);
        for (std::size_t j = 0; j < m; ++j) worst_front[j] = std::max(worst_front[j], f[j]);
      }
    }
    const std::size_t nc = cand.size() / m;
    std::vector<double> ext(m * m);
    for (std::size_t i = 0; i < m; ++i) {
      std::size_t best = 0;
      double best_v = std::numeric_limits<double>::infinity();
      for (std::size_t c = 0; c < nc; ++c) {
        double v = -std::numeric_limits<double>::infinity();
        for (std::size_t j = 0; j < m; ++j) {
          double d = cand[c * m + j] - ideal_[j];
          if (d < 1e-3) d = 0.0;
          v = std::max(v, d * (j == i ? 1.0 : 1e6));
        }
        if (v < best_v) {
          best_v = v;
          best = c;
        }
      }
      std::copy(cand.begin() + best * m, cand.begin() + best * m + m, ext.begin() + i * m);
    }
    extreme_ = ext;

    nadir_.assign(m, 0.0);
    bool ok = true;
    {
      std::vector<double> A(m * m), b(m, 1.0), plane;
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < m; ++j) A[i * m + j] = ext[i * m + j] - ideal_[j];
      ok = solve_linear(A, b, m, plane);
      if (ok) {
        for (std::size_t i = 0; i < m && ok; ++i) {
          double r = 0.0;
          for (std::size_t j = 0; j < m; ++j) r += A[i * m + j] * plane[j];
          if (std::fabs(r - 1.0) > 1e-8 + 1e-5) ok = false;
        }
        for (std::size_t j = 0; j < m && ok; ++j) {
          const double intercept = 1.0 / plane[j];
          if (!(intercept > 1e-6) || !std::isfinite(intercept)) {
            ok = false;
            break;
          }
          nadir_[j] = std::min(ideal_[j] + intercept, worst_[j]);
        }
      }
    }
    if (!ok) nadir_ = worst_front;
    for (std::size_t j = 0; j < m; ++j)
      if (nadir_[j] - ideal_[j] <= 1e-6) nadir_[j] = worst_pop[j];
  }

  std::size_t m_, n_dirs_;
  std::vector<double> unit_, ideal_, worst_, nadir_, extreme_;
  std::vector<std::size_t> feas_, infeas_, rank_, sel_, niche_, niche_count_;
  std::vector<double> ff_, dist_;
  nds_workspace ws_;
};

}  // namespace detail

/// NSGA-III on a set of reference directions (e.g. das_dennis or riesz_energy_directions).
class nsga3 {
 public:
  /// An NSGA-III with the given settings and reference directions (rows of n_obj non-negative
  /// values, not all zero). Throws config_error for empty or malformed directions.
  nsga3(nsga3_params params, const points& ref_dirs) : params_(std::move(params)) {
    if (ref_dirs.empty()) throw config_error("nsga3: ref_dirs is empty");
    n_obj_ = detail::to_flat(ref_dirs, dirs_, "nsga3");
    if (n_obj_ == 0) throw config_error("nsga3: ref_dirs rows have zero objectives");
    for (std::size_t k = 0; k < ref_dirs.size(); ++k) {
      double s = 0.0;
      for (std::size_t j = 0; j < n_obj_; ++j) {
        const double v = dirs_[k * n_obj_ + j];
        if (!(v >= 0.0) || !std::isfinite(v))
          throw config_error("nsga3: ref_dirs row " + std::to_string(k) +
                             " has a negative or non-finite value");
        s += v;
      }
      if (!(s > 0.0)) throw config_error("nsga3: ref_dirs row " + std::to_string(k) + " is zero");
    }
  }

  /// Runs for n_gen generations (the initial population counts as the first).
  result solve(const problem& prob, std::size_t n_gen, std::uint64_t seed) const {
    run_options opt;
    opt.term.n_gen = n_gen;
    return solve(prob, opt, seed);
  }

  /// Runs with a termination rule, per-generation callback and optional initial population.
  result solve(const problem& prob, const run_options& opt, std::uint64_t seed) const {
    const std::size_t n_dirs = dirs_.size() / n_obj_;
    if (prob.n_obj != n_obj_)
      throw config_error("nsga3::solve: problem has " + std::to_string(prob.n_obj) +
                         " objectives, reference directions have " + std::to_string(n_obj_));
    if (params_.pop_size < n_dirs)
      throw config_error("nsga3::solve: pop_size " + std::to_string(params_.pop_size) +
                         " is smaller than the " + std::to_string(n_dirs) +
                         " reference directions (Deb & Jain use the next multiple of 4)");
    detail::reference_direction_survival survival(dirs_, n_dirs, n_obj_);
    return detail::evolve(prob, params_, survival, detail::feasibility_tournament{}, opt, seed,
                          false, "nsga3::solve");
  }

  /// The settings.
  const nsga3_params& params() const { return params_; }
  /// Number of reference directions.
  std::size_t n_ref_dirs() const { return dirs_.size() / n_obj_; }

 private:
  nsga3_params params_;
  std::vector<double> dirs_;
  std::size_t n_obj_ = 0;
};

}  // namespace nat::evo
