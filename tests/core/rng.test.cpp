#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nat/core/rng.hpp>
#include <numeric>

TEST_CASE("rng: same seed gives the same stream, different seeds differ") {
  nat::rng a(7), b(7), c(8);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    CHECK(x == b.next());
    differs = differs || (x != c.next());
  }
  CHECK(differs);
}

TEST_CASE("rng: uniform_int covers the inclusive range without bias") {
  nat::rng r(1);
  std::vector<int> counts(6, 0);
  const int n = 60000;
  for (int i = 0; i < n; ++i) {
    const auto v = r.uniform_int(-2, 3);
    REQUIRE(v >= -2);
    REQUIRE(v <= 3);
    ++counts[static_cast<std::size_t>(v + 2)];
  }
  for (int c : counts) CHECK(std::abs(c - n / 6) < 5 * std::sqrt(n / 6.0));
  CHECK_THROWS_AS(r.uniform_int(3, 2), nat::config_error);
}

TEST_CASE("rng: normal has mean 0 and variance 1") {
  nat::rng r(3);
  double s = 0, s2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = r.normal();
    s += x;
    s2 += x * x;
  }
  CHECK(std::abs(s / n) < 0.01);
  CHECK(std::abs(s2 / n - 1.0) < 0.02);
}

TEST_CASE("rng: permutation is a permutation") {
  nat::rng r(5);
  auto p = r.permutation(1000);
  std::sort(p.begin(), p.end());
  for (std::size_t i = 0; i < p.size(); ++i) CHECK(p[i] == i);
}

TEST_CASE("rng: gamma and beta match their mean and variance") {
  nat::rng r(11);
  const int n = 200000;
  for (double shape : {0.5, 1.0, 2.5}) {
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      const double x = r.gamma(shape);
      REQUIRE(x >= 0);
      s += x;
      s2 += x * x;
    }
    const double mean = s / n, var = s2 / n - mean * mean;
    CAPTURE(shape);
    CHECK(std::abs(mean - shape) < 0.02 * std::max(1.0, shape));  // Gamma(k): mean k, variance k
    CHECK(std::abs(var - shape) < 0.05 * std::max(1.0, shape));
  }
  struct ab {
    double a, b;
  };
  for (ab p : {ab{1, 1}, ab{2, 5}, ab{0.5, 0.5}}) {
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      const double x = r.beta(p.a, p.b);
      REQUIRE(x >= 0);
      REQUIRE(x <= 1);
      s += x;
      s2 += x * x;
    }
    const double mean = s / n, var = s2 / n - mean * mean;
    const double m = p.a / (p.a + p.b);
    const double v = p.a * p.b / ((p.a + p.b) * (p.a + p.b) * (p.a + p.b + 1));
    CAPTURE(p.a);
    CAPTURE(p.b);
    CHECK(std::abs(mean - m) < 0.003);
    CHECK(std::abs(var - v) < 0.003);
  }
  CHECK_THROWS_AS(r.gamma(0.0), nat::config_error);
  CHECK_THROWS_AS(r.gamma(-1.0), nat::config_error);
}
