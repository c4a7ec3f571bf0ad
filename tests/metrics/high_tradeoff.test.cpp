#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nat/core/rng.hpp>
#include <nat/metrics/high_tradeoff.hpp>
#include <numeric>
#include <vector>

using nat::points;

namespace {

// A line-by-line transcription of pymoo 0.4 HighTradeoffPoints._do (normalise, ball query of
// radius 0.125 including the point itself, k-nearest fallback, nanmin of sacrifice / gain).
std::vector<double> oracle_mu(points F) {
  const std::size_t n = F.size(), m = F[0].size();
  for (std::size_t c = 0; c < m; ++c) {
    double lo = 1e300, hi = -1e300;
    for (auto& f : F) lo = std::min(lo, f[c]), hi = std::max(hi, f[c]);
    for (auto& f : F) f[c] = (f[c] - lo) / (hi - lo);
  }
  const std::size_t n_min = std::min(2 * m, n - 1);
  std::vector<double> mu(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::pair<double, std::size_t>> dist;
    std::vector<std::size_t> nb;
    for (std::size_t k = 0; k < n; ++k) {
      double s = 0;
      for (std::size_t c = 0; c < m; ++c) s += std::pow(F[k][c] - F[i][c], 2);
      dist.push_back({std::sqrt(s), k});
      if (std::sqrt(s) <= 0.125) nb.push_back(k);
    }
    if (nb.size() < n_min) {
      std::stable_sort(dist.begin(), dist.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      nb.clear();
      for (std::size_t t = 0; t <= n_min; ++t) nb.push_back(dist[t].second);
    }
    double best = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t k : nb) {
      double sac = 0, gain = 0;
      for (std::size_t c = 0; c < m; ++c) {
        sac += std::max(0.0, F[k][c] - F[i][c]);
        gain += std::max(0.0, F[i][c] - F[k][c]);
      }
      const double t = sac / gain;  // NaN for 0/0, inf for x/0
      if (!std::isnan(t) && (std::isnan(best) || t < best)) best = t;
    }
    mu[i] = best;
  }
  return mu;
}

}  // namespace

TEST_CASE("high_tradeoff_points: the knee of a hand-made front") {
  // Already normalised; no neighbour within 0.125, so each point uses the min(4, 4) = 4 others.
  const points F = {{0, 1}, {0.05, 0.5}, {0.1, 0.1}, {0.5, 0.05}, {1, 0}};
  const auto mu = nat::metrics::tradeoff_mu(F);
  // By hand: mu_0 = min(0.05/0.5, 0.1/0.9, 0.5/0.95, 1/1) = 0.1; mu_1 = 0.05/0.4 = 0.125;
  // the knee mu_2 = min(0.9/0.1, 0.4/0.05, ...) = 8; the rest by symmetry.
  CHECK(mu[0] == doctest::Approx(0.1));
  CHECK(mu[1] == doctest::Approx(0.125));
  CHECK(mu[2] == doctest::Approx(8.0));
  CHECK(mu[3] == doctest::Approx(0.125));
  CHECK(mu[4] == doctest::Approx(0.1));
  CHECK(nat::metrics::high_tradeoff_points(F, 1) == std::vector<std::size_t>{2});
  CHECK(nat::metrics::high_tradeoff_points(F, 3) == std::vector<std::size_t>{2, 1, 3});
  CHECK(nat::metrics::high_tradeoff_points(F) == std::vector<std::size_t>{2});
  CHECK(nat::metrics::high_tradeoff_points(F, 10).size() == 5);
  // Normalisation makes the answer independent of each objective's scale and offset.
  points G = F;
  for (auto& g : G) g = {100 + 250 * g[0], -3 + 0.01 * g[1]};
  const auto mu_g = nat::metrics::tradeoff_mu(G);
  for (std::size_t i = 0; i < F.size(); ++i) CHECK(mu_g[i] == doctest::Approx(mu[i]));
}

TEST_CASE("tradeoff_mu: agrees with a transcription of pymoo on random fronts") {
  nat::rng r(8);
  for (int rep = 0; rep < 60; ++rep) {
    const std::size_t m = 2 + r.index(3), n = 3 + r.index(60);
    points F(n, std::vector<double>(m));
    for (auto& f : F) {  // points near the simplex: a rough, mostly non-dominated front
      double s = 0;
      for (auto& x : f) s += (x = r.uniform());
      for (auto& x : f) x = x / s + 0.05 * r.uniform();
    }
    const auto mu = nat::metrics::tradeoff_mu(F);
    const auto ref = oracle_mu(F);
    for (std::size_t i = 0; i < n; ++i) {
      if (std::isinf(ref[i]))
        CHECK(std::isinf(mu[i]));
      else
        CHECK(mu[i] == doctest::Approx(ref[i]).epsilon(1e-12));
    }
  }
}

TEST_CASE("high_tradeoff_points: duplicates, dominated points, degenerate input") {
  // A point that dominates all its neighbours has mu = +inf and ranks first.
  const points F = {{0, 0}, {1, 2}, {2, 1}};
  const auto mu = nat::metrics::tradeoff_mu(F);
  CHECK(std::isinf(mu[0]));
  CHECK(nat::metrics::high_tradeoff_points(F, 1) == std::vector<std::size_t>{0});
  // Only duplicates around: NaN, ranked last; no outliers among equal values.
  const points D = {{1, 1}, {1, 1}};
  CHECK(std::isnan(nat::metrics::tradeoff_mu(D)[0]));
  CHECK(nat::metrics::high_tradeoff_points(D).empty());
  const points E = {{0, 1}, {1, 0}, {0.5, 0.5}, {0.5, 0.5}};
  CHECK(nat::metrics::high_tradeoff_points(E, 4).size() == 4);
  CHECK_THROWS_AS(nat::metrics::tradeoff_mu({{1}, {2}}), nat::config_error);
  CHECK_THROWS_AS(nat::metrics::tradeoff_mu(points{}), nat::config_error);
  CHECK_THROWS_AS(nat::metrics::tradeoff_mu({{1, 2}, {1}}), nat::shape_error);
  CHECK_THROWS_AS(nat::metrics::tradeoff_mu({{1, NAN}, {1, 2}}), nat::config_error);
  CHECK_THROWS_AS(nat::metrics::tradeoff_mu({{1, 2}, {2, 1}}, {-1.0, true}), nat::config_error);
}
