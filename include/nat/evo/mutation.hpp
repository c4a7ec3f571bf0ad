#pragma once
/// \file Polynomial mutation (Deb & Goyal 1996; the bounded form of Deb & Deb 2014, as in pymoo
/// 0.4).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "nat/core/error.hpp"
#include "nat/core/rng.hpp"
#include "nat/evo/detail/power.hpp"
#include "nat/evo/problem.hpp"
#include "nat/evo/sampling.hpp"

namespace nat::evo {

/// Polynomial mutation settings.
struct mutation_params {
  /// False disables mutation.
  bool enabled = true;
  /// Distribution index (larger = smaller perturbations).
  double eta = 20.0;
  /// Per-gene mutation probability; a negative value means 1 / n_var (pymoo's default).
  double prob = -1.0;

  /// Throws config_error when a setting is out of range.
  void validate(const char* fn) const {
    if (!(prob <= 1.0) || std::isnan(prob))
      throw config_error(std::string(fn) +
                         ": mutation prob must be <= 1 (negative = 1/n_var), got " +
                         std::to_string(prob));
    if (!(eta >= 0.0) || !std::isfinite(eta))
      throw config_error(std::string(fn) + ": mutation eta must be finite and >= 0, got " +
                         std::to_string(eta));
  }
};

namespace detail {

/// Mutates row x in place; integer genes use widened bounds and are rounded back into range.
inline void mutate(const problem& prob, const mutation_params& mp, double* x, nat::rng& gen) {
  if (!mp.enabled) return;
  const std::size_t nv = prob.n_var;
  const double p = mp.prob < 0.0 ? 1.0 / static_cast<double>(nv) : mp.prob;
  const double pw = 1.0 / (mp.eta + 1.0);
  for (std::size_t j = 0; j < nv; ++j) {
    if (!(gen.uniform() < p)) continue;
    double lo = prob.lower[j], hi = prob.upper[j];
    if (prob.is_integer(j)) {
      lo -= integer_widening;
      hi += integer_widening;
    }
    const double range = hi - lo;
    if (!(range > 0.0)) continue;
    const double y = x[j];
    const double d1 = (y - lo) / range, d2 = (hi - y) / range;
    const double r = gen.uniform();
    double dq;
    if (r < 0.5) {
      const double v = 2.0 * r + (1.0 - 2.0 * r) * power(1.0 - d1, mp.eta + 1.0);
      dq = root(v, pw) - 1.0;
    } else {
      const double v = 2.0 * (1.0 - r) + 2.0 * (r - 0.5) * power(1.0 - d2, mp.eta + 1.0);
      dq = 1.0 - root(v, pw);
    }
    x[j] = std::min(std::max(y + dq * range, lo), hi);
  }
  repair_row(prob, x);
}

}  // namespace detail

}  // namespace nat::evo
