#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nat/core/rng.hpp>
#include <nat/evo/crossover.hpp>
#include <nat/evo/duplicates.hpp>
#include <nat/evo/mutation.hpp>
#include <nat/evo/sampling.hpp>
#include <vector>

using namespace nat::evo;

namespace {
problem box(std::size_t n, double lo, double hi, bool integer) {
  problem p;
  p.n_var = n;
  p.n_obj = 1;
  p.lower.assign(n, lo);
  p.upper.assign(n, hi);
  if (integer) p.integer.assign(n, true);
  p.evaluate = [](const nat::points& X) { return nat::points(X.size(), {0.0}); };
  return p;
}
bool is_int(double v) { return v == std::round(v); }
}  // namespace

TEST_CASE("sampling: random and Latin hypercube stay in bounds; LHS fills every stratum") {
  const problem real = box(4, -2.0, 3.0, false);
  for (auto kind : {sampling_kind::random, sampling_kind::latin_hypercube}) {
    const auto X = sample(real, kind, 50, 1);
    REQUIRE(X.size() == 50);
    for (const auto& r : X)
      for (double v : r) CHECK((v >= -2.0 && v <= 3.0));
    CHECK(sample(real, kind, 50, 1) == X);
  }
  // LHS: with n samples each of the n strata of width 5/n holds exactly one value per variable.
  const auto X = sample(real, sampling_kind::latin_hypercube, 20, 9);
  for (std::size_t j = 0; j < 4; ++j) {
    std::vector<int> hits(20, 0);
    for (const auto& r : X) ++hits[std::min(19, int((r[j] + 2.0) / 5.0 * 20))];
    CHECK(std::count(hits.begin(), hits.end(), 1) == 20);
  }
  // Integer LHS over 0..4 with 50 samples: each value exactly 10 times (strata align).
  const problem ints = box(3, 0.0, 4.0, true);
  const auto Y = sample(ints, sampling_kind::latin_hypercube, 50, 2);
  for (std::size_t j = 0; j < 3; ++j) {
    std::vector<int> hits(5, 0);
    for (const auto& r : Y) {
      REQUIRE(is_int(r[j]));
      ++hits[std::size_t(r[j])];
    }
    for (int h : hits) CHECK(h == 10);
  }
  const auto Z = sample(ints, sampling_kind::random, 200, 3);
  for (const auto& r : Z)
    for (double v : r) CHECK((is_int(v) && v >= 0 && v <= 4));
}

TEST_CASE("two-point crossover swaps one contiguous block, uniform swaps genes") {
  const problem p = box(10, 0.0, 100.0, true);
  nat::rng gen(5);
  std::vector<double> a(10), b(10), c1(10), c2(10);
  for (std::size_t j = 0; j < 10; ++j) {
    a[j] = double(j);
    b[j] = double(50 + j);
  }
  for (auto kind : {crossover_kind::two_point, crossover_kind::uniform}) {
    int n_changed = 0;
    for (int rep = 0; rep < 200; ++rep) {
      detail::crossover(p, crossover_params{kind, 1.0, 15.0}, a.data(), b.data(), c1.data(),
                        c2.data(), gen);
      std::vector<int> from_b;
      for (std::size_t j = 0; j < 10; ++j) {
        // Each position holds the two parents' genes, exchanged or not.
        CHECK(c1[j] + c2[j] == a[j] + b[j]);
        CHECK((c1[j] == a[j] || c1[j] == b[j]));
        from_b.push_back(c1[j] == b[j]);
      }
      if (kind == crossover_kind::two_point) {
        // Exactly one run of swapped genes, not touching position 0.
        int runs = 0;
        for (std::size_t j = 0; j < 10; ++j)
          if (from_b[j] && (j == 0 || !from_b[j - 1])) ++runs;
        CHECK(runs == 1);
        CHECK(from_b[0] == 0);
      }
      if (c1 != a) ++n_changed;
    }
    CHECK(n_changed > 150);
  }
  // prob = 0: children are copies.
  detail::crossover(p, crossover_params{crossover_kind::two_point, 0.0, 15.0}, a.data(), b.data(),
                    c1.data(), c2.data(), gen);
  CHECK(c1 == a);
  CHECK(c2 == b);
}

TEST_CASE("SBX keeps children in bounds, rounds integers, preserves the mean on average") {
  nat::rng gen(11);
  const problem real = box(5, 0.0, 1.0, false);
  const problem ints = box(5, 0.0, 9.0, true);
  std::vector<double> a{0.2, 0.4, 0.6, 0.8, 0.5}, b{0.3, 0.1, 0.9, 0.7, 0.5}, c1(5), c2(5);
  double sum_diff = 0.0;
  for (int rep = 0; rep < 2000; ++rep) {
    detail::crossover(real, crossover_params{}, a.data(), b.data(), c1.data(), c2.data(), gen);
    for (std::size_t j = 0; j < 5; ++j) {
      CHECK((c1[j] >= 0.0 && c1[j] <= 1.0 && c2[j] >= 0.0 && c2[j] <= 1.0));
      sum_diff += (c1[j] + c2[j]) - (a[j] + b[j]);
    }
    CHECK(c1[4] == 0.5);  // equal parent genes are left alone
  }
  CHECK(std::fabs(sum_diff / 10000.0) < 0.01);
  std::vector<double> ia{0, 2, 4, 6, 9}, ib{9, 3, 4, 0, 1};
  for (int rep = 0; rep < 500; ++rep) {
    detail::crossover(ints, crossover_params{}, ia.data(), ib.data(), c1.data(), c2.data(), gen);
    for (std::size_t j = 0; j < 5; ++j)
      CHECK((is_int(c1[j]) && is_int(c2[j]) && c1[j] >= 0 && c1[j] <= 9 && c2[j] <= 9));
  }
}

TEST_CASE("polynomial mutation: per-gene rate, bounds, integer rounding") {
  nat::rng gen(13);
  const problem real = box(20, -1.0, 1.0, false);
  std::vector<double> x(20, 0.0);
  int changed = 0;
  for (int rep = 0; rep < 1000; ++rep) {
    std::fill(x.begin(), x.end(), 0.0);
    detail::mutate(real, mutation_params{}, x.data(), gen);
    for (double v : x) {
      CHECK((v >= -1.0 && v <= 1.0));
      changed += v != 0.0;
    }
  }
  // Default rate 1/n_var: one gene per call on average (1000 expected, binomial sd ~31).
  CHECK(changed > 850);
  CHECK(changed < 1150);
  mutation_params off{};
  off.prob = 0.0;
  std::fill(x.begin(), x.end(), 0.25);
  detail::mutate(real, off, x.data(), gen);
  CHECK(std::all_of(x.begin(), x.end(), [](double v) { return v == 0.25; }));
  // NAT's integer mutation (eta = 1): values stay integral and reach both ends of the range.
  const problem ints = box(4, 0.0, 3.0, true);
  std::vector<int> seen(4, 0);
  for (int rep = 0; rep < 2000; ++rep) {
    std::vector<double> y{1, 2, 1, 2};
    detail::mutate(ints, mutation_params{true, 1.0, 1.0}, y.data(), gen);
    for (double v : y) {
      REQUIRE((is_int(v) && v >= 0 && v <= 3));
      ++seen[std::size_t(v)];
    }
  }
  for (int s : seen) CHECK(s > 50);
  mutation_params bad{};
  bad.prob = 2.0;
  CHECK_THROWS_AS(bad.validate("test"), nat::config_error);
}

TEST_CASE("row_set finds exact duplicates") {
  detail::row_set s;
  s.reset(3, 2);
  std::vector<double> a{1, 2, 3}, b{1, 2, 4}, z{0.0, 0, 0}, nz{-0.0, 0, 0};
  CHECK(s.insert(a.data()));
  CHECK_FALSE(s.insert(a.data()));
  CHECK(s.insert(b.data()));
  CHECK(s.insert(z.data()));
  CHECK_FALSE(s.insert(nz.data()));  // -0 == +0
  for (int i = 0; i < 100; ++i) {
    std::vector<double> r{double(i), 0.5, -1};
    CHECK(s.insert(r.data()));
  }
  CHECK(s.contains(b.data()));
  std::vector<double> r{42, 0.5, -1};
  CHECK(s.contains(r.data()));
}
