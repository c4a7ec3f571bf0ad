#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nat/core/rng.hpp>
#include <nat/evo/crowding_distance.hpp>

using nat::points;
using nat::evo::crowding_distance;

TEST_CASE("crowding_distance: hand-computed front") {
  // Objective 0 range 4, objective 1 range 4.
  const points F = {{0, 4}, {1, 2}, {3, 1}, {4, 0}};
  const auto d = crowding_distance(F);
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(d[0] == inf);
  CHECK(d[3] == inf);
  // Point 1: (3 - 0)/4 + (4 - 1)/4 = 1.5; point 2: (4 - 1)/4 + (2 - 0)/4 = 1.25.
  CHECK(d[1] == doctest::Approx(1.5));
  CHECK(d[2] == doctest::Approx(1.25));
}

TEST_CASE("crowding_distance: small fronts and zero range") {
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(crowding_distance(points{{1, 2}, {2, 1}}) == std::vector<double>{inf, inf});
  CHECK(crowding_distance(points{}).empty());
  // Objective 1 constant: contributes nothing; objective 0 gives (2-0)/2 to the middle point.
  const auto d = crowding_distance(points{{0, 5}, {1, 5}, {2, 5}});
  CHECK(d[1] == doctest::Approx(1.0));
  CHECK_THROWS_AS(crowding_distance(points{{1, NAN}}), nat::config_error);
}

TEST_CASE("crowding_distance: agrees with a neighbour-scan oracle on random fronts") {
  nat::rng gen(3);
  for (int rep = 0; rep < 200; ++rep) {
    const std::size_t m = 2 + gen.index(5), n = 3 + gen.index(60);
    points F(n, std::vector<double>(m));
    for (auto& r : F)
      for (double& v : r) v = gen.uniform();  // distinct with probability 1
    const auto d = crowding_distance(F);
    for (std::size_t i = 0; i < n; ++i) {
      double want = 0.0;
      for (std::size_t j = 0; j < m; ++j) {
        double lo = F[0][j], hi = F[0][j];
        double below = -INFINITY, above = INFINITY;
        for (std::size_t k = 0; k < n; ++k) {
          lo = std::min(lo, F[k][j]);
          hi = std::max(hi, F[k][j]);
          if (F[k][j] < F[i][j]) below = std::max(below, F[k][j]);
          if (F[k][j] > F[i][j]) above = std::min(above, F[k][j]);
        }
        if (F[i][j] == lo || F[i][j] == hi) {
          want = INFINITY;
        } else {
          want += (above - below) / (hi - lo);
        }
      }
      if (std::isinf(want)) {
        CHECK(std::isinf(d[i]));
      } else {
        CHECK(d[i] == doctest::Approx(want).epsilon(1e-12));
      }
    }
  }
}
