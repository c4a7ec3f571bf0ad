#pragma once
// Test fronts for hypervolume benchmarks, shared by bm_metrics and the pagmo comparison
// (benchmarks/compare/pagmo_hv): seeded, so both programs time the same point sets.
#include <cmath>
#include <cstdint>
#include <nat/core/points.hpp>
#include <nat/core/rng.hpp>
#include <string>
#include <vector>

namespace nat_bench {

// n points uniform on the positive unit sphere in d dimensions: a concave, mutually
// non-dominated front (the hard case for hypervolume: every point contributes).
inline nat::points sphere_front(std::size_t n, std::size_t d, std::uint64_t seed) {
  nat::rng r(seed);
  nat::points p(n, std::vector<double>(d));
  for (auto& q : p) {
    double norm = 0;
    for (auto& x : q) {
      x = std::fabs(r.normal());
      norm += x * x;
    }
    for (auto& x : q) x /= std::sqrt(norm);
  }
  return p;
}

// A random non-dominated set: the first d-1 objectives uniform in [0,1], the last
// 1 - sum_c w_c x_c^p_c / sum w with random weights w_c in [0.5, 1.5] and exponents p_c in
// [0.3, 3]. The last objective strictly decreases in each of the others, so no point dominates
// another; the random exponents mix convex and concave directions.
inline nat::points random_front(std::size_t n, std::size_t d, std::uint64_t seed) {
  nat::rng r(seed);
  std::vector<double> w(d - 1), e(d - 1);
  double wsum = 0;
  for (std::size_t c = 0; c + 1 < d; ++c) {
    w[c] = r.uniform(0.5, 1.5);
    e[c] = std::exp(r.uniform(std::log(0.3), std::log(3.0)));
    wsum += w[c];
  }
  nat::points p(n, std::vector<double>(d));
  for (auto& q : p) {
    double s = 0;
    for (std::size_t c = 0; c + 1 < d; ++c) {
      q[c] = r.uniform();
      s += w[c] * std::pow(q[c], e[c]);
    }
    q[d - 1] = 1.0 - s / wsum;
  }
  return p;
}

inline nat::points make_front(int kind, std::size_t n, std::size_t d) {
  return kind == 0 ? sphere_front(n, d, 1000 + 10 * n + d) : random_front(n, d, 2000 + 10 * n + d);
}

inline const char* front_name(int kind) { return kind == 0 ? "sphere" : "random_nd"; }

}  // namespace nat_bench
