#include <doctest/doctest.h>

#include <cmath>
#include <nat/evo/test_problems.hpp>

using namespace nat::evo;
using nat::points;

TEST_CASE("ZDT: Pareto-optimal inputs land on the stated fronts") {
  for (double x0 : {0.0, 0.25, 0.64, 1.0}) {
    std::vector<double> x(30, 0.0);
    x[0] = x0;
    const auto f1 = zdt1().evaluate({x})[0];
    CHECK(f1[0] == x0);
    CHECK(f1[1] == doctest::Approx(1.0 - std::sqrt(x0)));
    CHECK(zdt2().evaluate({x})[0][1] == doctest::Approx(1.0 - x0 * x0));
    CHECK(zdt3().evaluate({x})[0][1] ==
          doctest::Approx(1.0 - std::sqrt(x0) - x0 * std::sin(10 * M_PI * x0)));
    std::vector<double> y(10, 0.0);
    y[0] = x0;
    CHECK(zdt4().evaluate({y})[0][1] == doctest::Approx(1.0 - std::sqrt(x0)));
  }
  // ZDT1 with g at its maximum 10 (all tail variables 1): f2 = 10 (1 - sqrt(x0 / 10)).
  std::vector<double> x(30, 1.0);
  x[0] = 0.4;
  CHECK(zdt1().evaluate({x})[0][1] == doctest::Approx(10.0 * (1.0 - std::sqrt(0.04))));
  CHECK(zdt4().lower[1] == -5.0);
  CHECK_THROWS_AS(zdt1(1), nat::config_error);
}

TEST_CASE("DTLZ: Pareto-optimal inputs land on the stated fronts") {
  for (std::size_t m : {3u, 5u}) {
    const problem p1 = dtlz1(m), p2 = dtlz2(m), p3 = dtlz3(m), p4 = dtlz4(m);
    CHECK(p1.n_var == m + 4);
    CHECK(p2.n_var == m + 9);
    nat::rng gen(1);
    for (int rep = 0; rep < 20; ++rep) {
      std::vector<double> x1(p1.n_var, 0.5), x2(p2.n_var, 0.5);
      for (std::size_t j = 0; j + 1 < m; ++j) x1[j] = x2[j] = gen.uniform();
      // Keep the rows alive: a range-for over a temporary's element would dangle.
      const auto f1 = p1.evaluate({x1})[0], f2 = p2.evaluate({x2})[0];
      const auto f3 = p3.evaluate({x2})[0], f4 = p4.evaluate({x2})[0];
      double s = 0.0, n2 = 0.0, n3 = 0.0, n4 = 0.0;
      for (double v : f1) s += v;
      for (double v : f2) n2 += v * v;
      for (double v : f3) n3 += v * v;
      for (double v : f4) n4 += v * v;
      CHECK(s == doctest::Approx(0.5));
      CHECK(n2 == doctest::Approx(1.0));
      CHECK(n3 == doctest::Approx(1.0));
      CHECK(n4 == doctest::Approx(1.0));
    }
    for (const auto& f : dtlz1_front(m, 100)) {
      double s = 0.0;
      for (double v : f) s += v;
      CHECK(s == doctest::Approx(0.5));
    }
    for (const auto& f : dtlz2_front(m, 100)) {
      double s = 0.0;
      for (double v : f) s += v * v;
      CHECK(s == doctest::Approx(1.0));
    }
  }
  // DTLZ7 (3 objectives): 4 disconnected regions; f3 = 2 (3 - sum f_i / 2 (1 + sin 3 pi f_i)).
  const points f7 = dtlz7_front(3, 2500);
  CHECK(non_dominated_sort(f7).size() == 1);
  for (const auto& f : f7) {
    const double h = 3.0 - f[0] / 2 * (1 + std::sin(3 * M_PI * f[0])) -
                     f[1] / 2 * (1 + std::sin(3 * M_PI * f[1]));
    CHECK(f[2] == doctest::Approx(2.0 * h));
  }
  std::vector<double> x(dtlz7(3).n_var, 0.0);
  x[0] = 0.2;
  x[1] = 0.7;
  const auto f = dtlz7(3).evaluate({x})[0];
  CHECK(f[2] == doctest::Approx(2.0 * (3.0 - 0.1 * (1 + std::sin(0.6 * M_PI)) -
                                       0.35 * (1 + std::sin(2.1 * M_PI)))));
  CHECK_THROWS_AS(dtlz2(1), nat::config_error);
}

TEST_CASE("fronts: ZDT3 keeps five arcs; IGD of a front to itself is zero") {
  const points f3 = zdt3_front();
  CHECK(non_dominated_sort(f3).size() == 1);
  std::size_t arcs = 1;
  for (std::size_t i = 1; i < f3.size(); ++i) arcs += f3[i][0] - f3[i - 1][0] > 0.01;
  CHECK(arcs == 5);
  CHECK(detail::igd(zdt1_front(), zdt1_front()) == 0.0);
  // Shifting a front by (0.1, 0.1) gives IGD = 0.1 * sqrt(2) at most, and more than 0.05.
  points shifted = zdt1_front(200);
  for (auto& r : shifted) r = {r[0] + 0.1, r[1] + 0.1};
  const double igd = detail::igd(shifted, zdt1_front(200));
  CHECK(igd <= 0.1 * std::sqrt(2.0) + 1e-12);
  CHECK(igd > 0.05);
}
