#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nat/core/rng.hpp>
#include <nat/metrics/igd.hpp>
#include <vector>

using nat::points;

namespace {

// Straight from the definitions: an all-pairs distance matrix, then mean of row/column minima.
double oracle(const points& a, const points& z, bool over_reference, bool plus) {
  std::vector<std::vector<double>> D(z.size(), std::vector<double>(a.size()));
  for (std::size_t i = 0; i < z.size(); ++i)
    for (std::size_t j = 0; j < a.size(); ++j) {
      double s = 0;
      for (std::size_t c = 0; c < z[i].size(); ++c) {
        double d = a[j][c] - z[i][c];
        if (plus) d = std::max(d, 0.0);
        s += d * d;
      }
      D[i][j] = std::sqrt(s);
    }
  double total = 0;
  if (over_reference) {
    for (const auto& row : D) total += *std::min_element(row.begin(), row.end());
    return total / double(z.size());
  }
  for (std::size_t j = 0; j < a.size(); ++j) {
    double best = 1e300;
    for (std::size_t i = 0; i < z.size(); ++i) best = std::min(best, D[i][j]);
    total += best;
  }
  return total / double(a.size());
}

points random_set(nat::rng& r, std::size_t n, std::size_t d) {
  points p(n, std::vector<double>(d));
  for (auto& q : p)
    for (auto& x : q) x = r.uniform(-1, 2);
  return p;
}

}  // namespace

TEST_CASE("igd, igd_plus, gd, gd_plus: hand-computed values") {
  using namespace nat::metrics;
  const points a = {{0, 0}};
  const points z = {{3, 4}, {0, 1}};
  CHECK(igd(a, z) == 3.0);       // (5 + 1) / 2
  CHECK(gd(a, z) == 1.0);        // nearest reference point is (0,1)
  CHECK(igd_plus(a, z) == 0.0);  // a dominates every reference point: no shortfall
  CHECK(gd_plus(a, z) == 0.0);
  CHECK(igd({{2, 0}}, {{0, 1}}) == doctest::Approx(std::sqrt(5.0)));
  CHECK(igd_plus({{2, 0}}, {{0, 1}}) == 2.0);  // only the 2 units worse in objective 0 count
  CHECK(gd({{2, 0}, {0, 1}}, {{0, 1}}) == doctest::Approx(std::sqrt(5.0) / 2));
  CHECK(igd(z, z) == 0.0);
}

TEST_CASE("igd family: agrees with the all-pairs oracle; IGD+ <= IGD") {
  nat::rng r(3);
  for (int rep = 0; rep < 100; ++rep) {
    const std::size_t d = 2 + r.index(4);
    const points a = random_set(r, 1 + r.index(30), d), z = random_set(r, 1 + r.index(30), d);
    CHECK(nat::metrics::igd(a, z) == doctest::Approx(oracle(a, z, true, false)).epsilon(1e-13));
    CHECK(nat::metrics::igd_plus(a, z) == doctest::Approx(oracle(a, z, true, true)).epsilon(1e-13));
    CHECK(nat::metrics::gd(a, z) == doctest::Approx(oracle(a, z, false, false)).epsilon(1e-13));
    CHECK(nat::metrics::gd_plus(a, z) == doctest::Approx(oracle(a, z, false, true)).epsilon(1e-13));
    CHECK(nat::metrics::igd_plus(a, z) <= nat::metrics::igd(a, z) + 1e-15);
  }
}

TEST_CASE("igd family: bad input") {
  using namespace nat::metrics;
  CHECK_THROWS_AS(igd(points{}, {{1, 2}}), nat::config_error);
  CHECK_THROWS_AS(igd({{1, 2}}, points{}), nat::config_error);
  CHECK_THROWS_AS(gd({{}}, {{}}), nat::config_error);
  CHECK_THROWS_AS(igd({{1, 2}}, {{1, 2, 3}}), nat::shape_error);
  CHECK_THROWS_AS(igd_plus({{1, 2}, {1}}, {{1, 2}}), nat::shape_error);
  CHECK_THROWS_AS(gd_plus({{1, NAN}}, {{1, 2}}), nat::config_error);
  CHECK_THROWS_AS(igd({{1, 2}}, {{INFINITY, 2}}), nat::config_error);
}
