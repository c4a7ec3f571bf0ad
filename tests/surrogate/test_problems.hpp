#pragma once
// Synthetic regression problems shared by the surrogate tests (not a test file itself).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <nat/core/points.hpp>
#include <nat/core/rng.hpp>
#include <vector>

namespace nat_test {

// A smooth 10-D test function on [0, 1]^10: a dominant smooth trend with weaker interactions
// (in the spirit of Friedman's #1 function, extended to 10 active inputs).
inline double smooth10(const std::vector<double>& x) {
  return 10 * std::sin(M_PI * x[0] * x[1]) + 20 * (x[2] - 0.5) * (x[2] - 0.5) + 10 * x[3] +
         5 * x[4] + 3 * std::exp(x[5]) - 2 * x[6] * x[6] + 2 * std::cos(x[7]) + x[8] + 0.5 * x[9];
}

struct dataset {
  nat::points X;
  std::vector<double> y;
};

inline dataset sample_smooth10(std::size_t n, std::uint64_t seed) {
  nat::rng r(seed);
  dataset d;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> x(10);
    for (auto& v : x) v = r.uniform();
    d.y.push_back(smooth10(x));
    d.X.push_back(std::move(x));
  }
  return d;
}

// NAS-like data: 22 integer genes in NAT's layout (resolution 0..4, width 0..1, 20 layer genes
// 0..9 with 0 = skipped except for the first two layers of each stage), scaled to [0, 1] by the
// fixed ranges, and a saturating "accuracy" of the network's capacity plus Gaussian noise.
inline dataset sample_nas_like(std::size_t n, std::uint64_t seed, double noise_sd = 0.2,
                               std::uint64_t function_seed = 1) {
  nat::rng f(function_seed);
  std::vector<double> w(22);
  for (auto& v : w) v = 0.5 + f.uniform();
  nat::rng r(seed);
  dataset d;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> g(22);
    g[0] = static_cast<double>(r.uniform_int(0, 4));
    g[1] = static_cast<double>(r.uniform_int(0, 1));
    for (int j = 2; j < 22; ++j) {
      const bool required = ((j - 2) % 4) < 2;
      g[j] = static_cast<double>(r.uniform_int(required ? 1 : 0, 9));
    }
    double capacity = w[0] * g[0] / 4 + w[1] * g[1];
    for (int j = 2; j < 22; ++j) {
      const double kernel = g[j] == 0 ? 0 : 1 + (static_cast<int>(g[j]) - 1) / 3;
      const double expand = g[j] == 0 ? 0 : 1 + (static_cast<int>(g[j]) - 1) % 3;
      capacity += w[j] * 0.15 * (kernel + expand) / 6.0 * (g[j] > 0);
    }
    const double acc = 70 + 20 * (1 - std::exp(-0.6 * capacity)) + 0.3 * std::sin(3 * capacity);
    std::vector<double> x(22);
    x[0] = g[0] / 4;
    x[1] = g[1];
    for (int j = 2; j < 22; ++j) x[j] = g[j] / 9;
    d.X.push_back(x);
    d.y.push_back(acc + noise_sd * r.normal());
  }
  return d;
}

}  // namespace nat_test

namespace nat_test {

// Smooth functions on [0, 1]^d, used with d = 10 for the recovery tests. `ridge10`: every input
// matters (a monotone transform of a weighted sum plus a wiggle); `dominant10`: one input
// dominates, nine add smooth wiggles (the kind of function an axis-aligned tree can rank with 200
// samples).
inline double ridge10(const std::vector<double>& x) {
  double s = 0;
  const std::size_t d = x.size();
  for (std::size_t i = 0; i < d; ++i) s += x[i] * (1.0 + static_cast<double>(i)) / 10;
  return std::exp(s / 2) + 0.1 * std::sin(5 * x[0]);
}
inline double dominant10(const std::vector<double>& x) {
  double s = 0;
  for (std::size_t i = 1; i < x.size(); ++i) s += 0.3 * std::sin(3 * x[i]);
  return 10 * x[0] * x[0] + 5 * x[0] + s;
}

template <class F>
dataset sample_function(F f, std::size_t n, std::size_t d, std::uint64_t seed) {
  nat::rng r(seed);
  dataset out;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> x(d);
    for (auto& v : x) v = r.uniform();
    out.y.push_back(f(x));
    out.X.push_back(std::move(x));
  }
  return out;
}

}  // namespace nat_test
