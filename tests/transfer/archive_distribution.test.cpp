#include <doctest/doctest.h>

#include <cmath>
#include <nat/transfer/archive_distribution.hpp>

TEST_CASE("archive_distribution: frequencies are the empirical ones and sampling follows them") {
  std::vector<std::vector<int>> g = {{0, 5}, {0, 6}, {1, 6}, {0, 6}};
  nat::transfer::archive_distribution d(g, {0, 4}, {2, 6});
  CHECK(d.probabilities(0) == std::vector<double>{0.75, 0.25, 0.0});
  CHECK(d.probabilities(1) == std::vector<double>{0.0, 0.25, 0.75});
  nat::rng r(3);
  std::vector<int> c0(3, 0), c1(3, 0);
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    auto s = d.sample(r);
    ++c0[static_cast<std::size_t>(s[0])];
    ++c1[static_cast<std::size_t>(s[1] - 4)];
  }
  CHECK(c0[2] == 0);
  CHECK(c1[0] == 0);
  CHECK(std::abs(c0[0] / double(n) - 0.75) < 0.01);
  CHECK(std::abs(c1[1] / double(n) - 0.25) < 0.01);
}

TEST_CASE("archive_distribution: smoothing, repair hook, determinism, bad input") {
  nat::transfer::archive_distribution d({{1}}, {0}, {3}, 1.0);
  CHECK(d.probabilities(0)[1] == doctest::Approx(2.0 / 5.0));
  CHECK(d.probabilities(0)[0] == doctest::Approx(1.0 / 5.0));
  nat::rng a(9), b(9);
  for (int i = 0; i < 50; ++i) CHECK(d.sample(a) == d.sample(b));
  auto fixed = d.sample(a, [](std::vector<int> x) {
    x[0] = 3;
    return x;
  });
  CHECK(fixed[0] == 3);
  CHECK_THROWS_AS(nat::transfer::archive_distribution({{5}}, {0}, {3}), nat::config_error);
  CHECK_THROWS_AS(nat::transfer::archive_distribution({}, {0}, {3}), nat::config_error);
  CHECK_THROWS_AS(nat::transfer::archive_distribution({{1, 2}}, {0}, {3}), nat::config_error);
  CHECK_THROWS_AS(nat::transfer::archive_distribution().sample(a), nat::config_error);
}
