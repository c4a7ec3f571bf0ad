#pragma once
/// \file Reference directions on the unit simplex for NSGA-III: Das-Dennis lattice and Riesz
/// s-energy.
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
#include "nat/evo/detail/power.hpp"

namespace nat::evo {

/// Number of Das-Dennis directions, C(partitions + n_obj - 1, n_obj - 1).
inline std::size_t das_dennis_count(std::size_t n_obj, std::size_t partitions) {
  if (n_obj == 0) return 0;
  // C(n, k) computed incrementally stays exact: each partial product is itself a binomial.
  std::size_t r = 1;
  const std::size_t k = n_obj - 1;
  for (std::size_t i = 1; i <= k; ++i) r = r * (partitions + i) / i;
  return r;
}

/// Das & Dennis (1998) structured directions: every point of the unit simplex in n_obj dimensions
/// whose coordinates are multiples of 1/partitions (the lattice NSGA-III uses, Deb & Jain 2014
/// §IV-B). Returns das_dennis_count(n_obj, partitions) rows in lexicographically decreasing order.
inline points das_dennis(std::size_t n_obj, std::size_t partitions) {
  if (n_obj == 0) throw config_error("das_dennis: n_obj must be at least 1, got 0");
  if (partitions == 0) {
    if (n_obj == 1) return points{{1.0}};
    throw config_error("das_dennis: partitions must be at least 1 for " + std::to_string(n_obj) +
                       " objectives, got 0");
  }
  const std::size_t count = das_dennis_count(n_obj, partitions);
  if (count > 50'000'000)
    throw config_error("das_dennis: " + std::to_string(count) +
                       " directions requested; at most 5e7");
  points out;
  out.reserve(count);
  std::vector<std::size_t> c(n_obj, 0);
  // Enumerate compositions of `partitions` into n_obj non-negative parts.
  c[0] = partitions;
  while (true) {
    std::vector<double> row(n_obj);
    for (std::size_t j = 0; j < n_obj; ++j)
      row[j] = static_cast<double>(c[j]) / static_cast<double>(partitions);
    out.push_back(std::move(row));
    // Next composition in lexicographically decreasing order: take one unit from the rightmost
    // positive part before the last and move it, with the last part, one position right.
    std::size_t p = n_obj;
    for (std::size_t t = n_obj - 1; t-- > 0;)
      if (c[t] > 0) {
        p = t;
        break;
      }
    if (p == n_obj) break;
    const std::size_t tail = c[n_obj - 1];
    c[n_obj - 1] = 0;
    c[p] -= 1;
    c[p + 1] = tail + 1;
  }
  return out;
}

namespace detail {

/// Euclidean projection of v (length m) onto the unit simplex (Duchi et al. 2008, Fig. 1).
inline void project_to_simplex(double* v, std::size_t m, std::vector<double>& tmp) {
  tmp.assign(v, v + m);
  std::sort(tmp.begin(), tmp.end(), std::greater<double>());
  double cum = 0.0, theta = 0.0;
  for (std::size_t j = 0; j < m; ++j) {
    cum += tmp[j];
    const double t = (cum - 1.0) / static_cast<double>(j + 1);
    if (tmp[j] - t > 0.0) theta = t;
  }
  for (std::size_t j = 0; j < m; ++j) v[j] = std::max(v[j] - theta, 0.0);
}

}  // namespace detail

/// Smallest Euclidean distance between two rows (how well spread a set of directions is).
inline double min_pairwise_distance(const points& p) {
  double best = std::numeric_limits<double>::infinity();
  for (std::size_t a = 0; a < p.size(); ++a)
    for (std::size_t b = a + 1; b < p.size(); ++b) {
      double d = 0.0;
      for (std::size_t j = 0; j < p[a].size(); ++j) d += (p[a][j] - p[b][j]) * (p[a][j] - p[b][j]);
      best = std::min(best, std::sqrt(d));
    }
  return best;
}

/// n well-spread directions on the unit simplex by minimising the Riesz s-energy
/// sum_{i<j} 1/|x_i - x_j|^s with s = 2 n_obj (Blank, Deb, Dhebar, Bandaru & Seada 2021,
/// "Generating well-spaced points on a unit simplex for evolutionary many-objective optimization",
/// IEEE TEVC 25(1)); pymoo's get_reference_directions("energy", ...) follows the same paper. The
/// n_obj corner directions are included and kept fixed; the rest start from a greedy max-min subset
/// of random simplex points and move by projected, energy-decreasing steps along the normalised
/// gradient (at most 1000). Deterministic for a given seed (nat::rng); not bit-identical to pymoo.
inline points riesz_energy_directions(std::size_t n_obj, std::size_t n, std::uint64_t seed) {
  if (n_obj == 0) throw config_error("riesz_energy_directions: n_obj must be at least 1, got 0");
  if (n < n_obj)
    throw config_error("riesz_energy_directions: n must be at least n_obj (" +
                       std::to_string(n_obj) + ") so the corners fit, got " + std::to_string(n));
  if (n_obj == 1) return points(1, std::vector<double>{1.0});
  const std::size_t m = n_obj;
  nat::rng gen(seed);
  // Candidate pool: uniform points on the simplex (normalised exponentials).
  const std::size_t pool_n = std::max<std::size_t>(20 * n, 200);
  std::vector<double> pool(pool_n * m);
  for (std::size_t i = 0; i < pool_n; ++i) {
    double s = 0.0;
    for (std::size_t j = 0; j < m; ++j) {
      const double e = -std::log(1.0 - gen.uniform());
      pool[i * m + j] = e;
      s += e;
    }
    for (std::size_t j = 0; j < m; ++j) pool[i * m + j] /= s;
  }
  std::vector<double> X(n * m, 0.0);
  for (std::size_t j = 0; j < m; ++j) X[j * m + j] = 1.0;
  // Greedy farthest-point selection from the pool, starting from the corners.
  std::vector<double> dmin(pool_n, std::numeric_limits<double>::infinity());
  auto sqdist = [m](const double* a, const double* b) {
    double d = 0.0;
    for (std::size_t j = 0; j < m; ++j) d += (a[j] - b[j]) * (a[j] - b[j]);
    return d;
  };
  for (std::size_t c = 0; c < n; ++c) {
    if (c >= m) {
      std::size_t best = 0;
      for (std::size_t i = 1; i < pool_n; ++i)
        if (dmin[i] > dmin[best]) best = i;
      std::copy(pool.begin() + best * m, pool.begin() + best * m + m, X.begin() + c * m);
    }
    for (std::size_t i = 0; i < pool_n; ++i)
      dmin[i] = std::min(dmin[i], sqdist(pool.data() + i * m, X.data() + c * m));
  }
  // Projected descent on the energy with a normalised gradient: a step is kept only when the
  // energy drops (the step grows by 1.2 then) and is halved otherwise. Because the energy never
  // rises, points cannot collapse onto each other or onto the fixed corners, which a fixed-rate
  // optimiser such as Adam does when the spacing is below its step (e.g. 100 points in 2-D).
  const double s = 2.0 * static_cast<double>(m);
  auto energy = [&](const std::vector<double>& P) {
    double e = 0.0;
    for (std::size_t a = 0; a < n; ++a)
      for (std::size_t b = a + 1; b < n; ++b)
        e += detail::power(std::max(sqdist(P.data() + a * m, P.data() + b * m), 1e-300), -s / 2.0);
    return e;
  };
  std::vector<double> grad(n * m), trial(n * m), tmp;
  double e_cur = energy(X);
  double step = 0.01;
  for (std::size_t it = 0; it < 1000 && step > 1e-9; ++it) {
    std::fill(grad.begin(), grad.end(), 0.0);
    for (std::size_t a = 0; a < n; ++a)
      for (std::size_t b = a + 1; b < n; ++b) {
        const double d2 = std::max(sqdist(X.data() + a * m, X.data() + b * m), 1e-300);
        // d/dx_a of |x_a - x_b|^-s = -s (x_a - x_b) |x_a - x_b|^-(s+2)
        const double w = s * detail::power(d2, -(s + 2.0) / 2.0);
        for (std::size_t j = 0; j < m; ++j) {
          const double g = w * (X[a * m + j] - X[b * m + j]);
          grad[a * m + j] -= g;
          grad[b * m + j] += g;
        }
      }
    double gmax = 0.0;
    for (std::size_t i = m; i < n; ++i) {
      double gn = 0.0;
      for (std::size_t j = 0; j < m; ++j) gn += grad[i * m + j] * grad[i * m + j];
      gmax = std::max(gmax, std::sqrt(gn));
    }
    if (!(gmax > 0.0) || !std::isfinite(gmax)) break;
    while (step > 1e-9) {
      trial = X;
      for (std::size_t i = m; i < n; ++i) {
        for (std::size_t j = 0; j < m; ++j) trial[i * m + j] -= step * grad[i * m + j] / gmax;
        detail::project_to_simplex(trial.data() + i * m, m, tmp);
      }
      const double e_new = energy(trial);
      if (e_new < e_cur) {
        X.swap(trial);
        e_cur = e_new;
        step *= 1.2;
        break;
      }
      step *= 0.5;
    }
  }
  points out(n, std::vector<double>(m));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) out[i][j] = X[i * m + j];
  return out;
}

}  // namespace nat::evo
