#pragma once
/// \file Recombination operators: simulated binary (SBX), two-point and uniform crossover.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/rng.hpp"
#include "nat/evo/detail/power.hpp"
#include "nat/evo/problem.hpp"
#include "nat/evo/sampling.hpp"

namespace nat::evo {

/// Which crossover makes two children from two parents.
enum class crossover_kind {
  /// Simulated binary crossover (Deb & Agrawal 1995; bounded form of Deb's NSGA-II code): each
  /// variable recombined with probability 0.5, children swapped with probability 0.5 (pymoo 0.4).
  /// Integer variables use bounds widened by just under 0.5 and are rounded ("SBX with rounding").
  sbx,
  /// Two distinct cut points; the genes between them are exchanged (pymoo's int_two_point).
  two_point,
  /// Every gene exchanged independently with probability 0.5.
  uniform,
};

/// Crossover settings.
struct crossover_params {
  /// Operator.
  crossover_kind kind = crossover_kind::sbx;
  /// Probability that a pair of parents is recombined at all (else the children are copies).
  double prob = 0.9;
  /// SBX distribution index (larger = children closer to the parents); ignored otherwise.
  double eta = 15.0;

  /// Throws config_error when a setting is out of range.
  void validate(const char* fn) const {
    if (!(prob >= 0.0 && prob <= 1.0))
      throw config_error(std::string(fn) + ": crossover prob must be in [0, 1], got " +
                         std::to_string(prob));
    if (!(eta >= 0.0) || !std::isfinite(eta))
      throw config_error(std::string(fn) + ": crossover eta must be finite and >= 0, got " +
                         std::to_string(eta));
  }
};

namespace detail {

/// SBX on one variable pair within [lo, hi] (Deb's bounded SBX as in NSGA-II's reference code).
inline void sbx_variable(double& a, double& b, double lo, double hi, double eta, nat::rng& gen) {
  const double y1 = std::min(a, b), y2 = std::max(a, b);
  const double delta = y2 - y1;
  if (!(delta > 1e-14)) return;
  const double r = gen.uniform();
  auto betaq_of = [&](double beta) {
    const double alpha = 2.0 - power(beta, -(eta + 1.0));
    if (r <= 1.0 / alpha) return root(r * alpha, 1.0 / (eta + 1.0));
    return root(1.0 / (2.0 - r * alpha), 1.0 / (eta + 1.0));
  };
  double c1 = 0.5 * (y1 + y2 - betaq_of(1.0 + 2.0 * (y1 - lo) / delta) * delta);
  double c2 = 0.5 * (y1 + y2 + betaq_of(1.0 + 2.0 * (hi - y2) / delta) * delta);
  c1 = std::min(std::max(c1, lo), hi);
  c2 = std::min(std::max(c2, lo), hi);
  if (gen.uniform() < 0.5) std::swap(c1, c2);
  a = c1;
  b = c2;
}

/// Two children c1, c2 from parents p1, p2 (rows of n_var values); integer genes stay integral.
inline void crossover(const problem& prob, const crossover_params& cp, const double* p1,
                      const double* p2, double* c1, double* c2, nat::rng& gen) {
  const std::size_t nv = prob.n_var;
  std::copy(p1, p1 + nv, c1);
  std::copy(p2, p2 + nv, c2);
  if (!(gen.uniform() < cp.prob)) return;
  switch (cp.kind) {
    case crossover_kind::sbx:
      for (std::size_t j = 0; j < nv; ++j) {
        if (!(gen.uniform() < 0.5)) continue;
        double lo = prob.lower[j], hi = prob.upper[j];
        if (prob.is_integer(j)) {
          lo -= integer_widening;
          hi += integer_widening;
        }
        sbx_variable(c1[j], c2[j], lo, hi, cp.eta, gen);
      }
      repair_row(prob, c1);
      repair_row(prob, c2);
      break;
    case crossover_kind::two_point: {
      if (nv < 2) return;
      // Cuts are distinct positions in [1, nv - 1]; genes in [a, b) swap (b = nv with one cut).
      std::size_t a = 1 + gen.index(nv - 1), b = nv;
      if (nv >= 3) {
        std::size_t t = 1 + gen.index(nv - 2);
        if (t >= a) ++t;
        b = std::max(a, t);
        a = std::min(a, t);
      }
      for (std::size_t j = a; j < b; ++j) std::swap(c1[j], c2[j]);
      break;
    }
    case crossover_kind::uniform:
      for (std::size_t j = 0; j < nv; ++j)
        if (gen.uniform() < 0.5) std::swap(c1[j], c2[j]);
      break;
  }
}

}  // namespace detail

}  // namespace nat::evo
