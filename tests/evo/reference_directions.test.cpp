#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <nat/evo/reference_directions.hpp>
#include <set>

using nat::evo::das_dennis;
using nat::evo::riesz_energy_directions;

namespace {
double binomial(std::size_t n, std::size_t k) {
  double r = 1.0;
  for (std::size_t i = 1; i <= k; ++i) r = r * double(n - k + i) / double(i);
  return r;
}
}  // namespace

TEST_CASE("das_dennis: count matches C(p + m - 1, m - 1); rows lie on the lattice of the simplex") {
  for (std::size_t m = 1; m <= 6; ++m)
    for (std::size_t p = 1; p <= 12; ++p) {
      const auto d = das_dennis(m, p);
      CHECK(double(d.size()) == binomial(p + m - 1, m - 1));
      CHECK(nat::evo::das_dennis_count(m, p) == d.size());
      std::set<std::vector<double>> uniq(d.begin(), d.end());
      CHECK(uniq.size() == d.size());
      for (const auto& r : d) {
        REQUIRE(r.size() == m);
        double s = 0.0;
        for (double v : r) {
          CHECK(v >= 0.0);
          CHECK(std::fabs(v * double(p) - std::round(v * double(p))) < 1e-9);
          s += v;
        }
        CHECK(s == doctest::Approx(1.0));
      }
    }
  // Deb & Jain 2014 Table I: 91 directions for 3 objectives / 12 partitions, 210 for 5 / 6.
  CHECK(das_dennis(3, 12).size() == 91);
  CHECK(das_dennis(5, 6).size() == 210);
  CHECK(das_dennis(2, 2) == nat::points{{1, 0}, {0.5, 0.5}, {0, 1}});
  CHECK_THROWS_AS(das_dennis(0, 3), nat::config_error);
  CHECK_THROWS_AS(das_dennis(3, 0), nat::config_error);
}

TEST_CASE("riesz_energy_directions: on the simplex, includes corners, well spread, seeded") {
  for (std::size_t m : {2u, 3u, 5u}) {
    const std::size_t n = 100;
    const auto d = riesz_energy_directions(m, n, 42);
    REQUIRE(d.size() == n);
    for (const auto& r : d) {
      double s = 0.0;
      for (double v : r) {
        CHECK(v >= -1e-12);
        s += v;
      }
      CHECK(s == doctest::Approx(1.0).epsilon(1e-9));
    }
    for (std::size_t j = 0; j < m; ++j) CHECK(d[j][j] == 1.0);
    const double dmin = nat::evo::min_pairwise_distance(d);
    // Random simplex points of the same count are far less evenly spread.
    nat::rng gen(1);
    nat::points rnd(n, std::vector<double>(m));
    for (auto& r : rnd) {
      double s = 0.0;
      for (double& v : r) s += (v = -std::log(1.0 - gen.uniform()));
      for (double& v : r) v /= s;
    }
    const double rmin = nat::evo::min_pairwise_distance(rnd);
    MESSAGE("Riesz m=" << m << " n=" << n << ": min distance " << dmin << " (random: " << rmin
                       << ")");
    CHECK(dmin > 3.0 * rmin);
    CHECK(riesz_energy_directions(m, n, 42) == d);
    CHECK(riesz_energy_directions(m, n, 43) != d);
  }
  // 3 objectives, 91 points: a Das-Dennis lattice with 12 partitions has spacing 1/12*sqrt(2)
  // = 0.118; energy directions should be in that league.
  CHECK(nat::evo::min_pairwise_distance(riesz_energy_directions(3, 91, 42)) > 0.09);
  CHECK_THROWS_AS(riesz_energy_directions(3, 2, 1), nat::config_error);
  CHECK_THROWS_AS(riesz_energy_directions(0, 10, 1), nat::config_error);
}
