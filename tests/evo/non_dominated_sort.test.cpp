#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nat/core/rng.hpp>
#include <nat/evo/dominance.hpp>
#include <nat/evo/non_dominated_sort.hpp>
#include <vector>

using nat::points;
using nat::evo::non_dominated_sort;

namespace {

// Brute-force oracle, O(M N^2) per front: peel off the points no remaining point dominates.
std::vector<std::vector<std::size_t>> oracle_fronts(const points& F) {
  auto dom = [](const std::vector<double>& a, const std::vector<double>& b) {
    bool strict = false;
    for (std::size_t j = 0; j < a.size(); ++j) {
      if (a[j] > b[j]) return false;
      if (a[j] < b[j]) strict = true;
    }
    return strict;
  };
  std::vector<char> left(F.size(), 1);
  std::size_t n_left = F.size();
  std::vector<std::vector<std::size_t>> fronts;
  while (n_left > 0) {
    std::vector<std::size_t> front;
    for (std::size_t i = 0; i < F.size(); ++i) {
      if (!left[i]) continue;
      bool dominated = false;
      for (std::size_t k = 0; k < F.size() && !dominated; ++k)
        if (left[k] && dom(F[k], F[i])) dominated = true;
      if (!dominated) front.push_back(i);
    }
    for (std::size_t i : front) left[i] = 0;
    n_left -= front.size();
    fronts.push_back(front);
  }
  return fronts;
}

}  // namespace

TEST_CASE("non_dominated_sort: hand-computed fronts in 2-D") {
  // (1,5) (2,3) (4,1) are mutually non-dominated; (3,4) is dominated by (2,3); (5,5) by (3,4);
  // (2,3) appears twice (duplicates share a front).
  const points F = {{1, 5}, {2, 3}, {4, 1}, {3, 4}, {5, 5}, {2, 3}};
  const auto fronts = non_dominated_sort(F);
  REQUIRE(fronts.size() == 3);
  CHECK(fronts[0] == std::vector<std::size_t>{0, 1, 2, 5});
  CHECK(fronts[1] == std::vector<std::size_t>{3});
  CHECK(fronts[2] == std::vector<std::size_t>{4});
}

TEST_CASE("non_dominated_sort: hand-computed fronts in 3-D with equal first objectives") {
  const points F = {{0, 0, 1}, {0, 1, 0}, {0, 1, 1}, {1, 1, 1}, {0, 0, 1}, {2, 0, 0}, {2, 2, 2}};
  // (0,1,1) is dominated by (0,0,1) and (0,1,0); (1,1,1) by (0,1,1); (2,2,2) by (1,1,1).
  // (2,0,0) is dominated by nobody; the duplicate (0,0,1) shares front 0.
  const auto fronts = non_dominated_sort(F);
  REQUIRE(fronts.size() == 4);
  CHECK(fronts[0] == std::vector<std::size_t>{0, 1, 4, 5});
  CHECK(fronts[1] == std::vector<std::size_t>{2});
  CHECK(fronts[2] == std::vector<std::size_t>{3});
  CHECK(fronts[3] == std::vector<std::size_t>{6});
}

TEST_CASE("non_dominated_sort: one objective groups equal values") {
  const auto fronts = non_dominated_sort(points{{3}, {1}, {2}, {1}});
  REQUIRE(fronts.size() == 3);
  CHECK(fronts[0] == std::vector<std::size_t>{1, 3});
  CHECK(fronts[1] == std::vector<std::size_t>{2});
  CHECK(fronts[2] == std::vector<std::size_t>{0});
}

TEST_CASE(
    "non_dominated_sort: agrees with a brute-force oracle on random sets with ties (2-8 "
    "objectives)") {
  nat::rng gen(7);
  int cases = 0;
  for (std::size_t m = 2; m <= 8; ++m) {
    for (int rep = 0; rep < 80; ++rep) {
      const std::size_t n = 1 + gen.index(120);
      // Small integer grids force ties and duplicates; continuous values test the generic path.
      const int levels = rep % 3 == 0 ? 0 : (rep % 3 == 1 ? 3 : 8);
      points F(n, std::vector<double>(m));
      for (auto& r : F)
        for (double& v : r)
          v = levels == 0 ? gen.uniform() : static_cast<double>(gen.uniform_int(0, levels - 1));
      if (rep % 5 == 0 && n > 3) F[n - 1] = F[0];  // explicit duplicate
      const auto got = non_dominated_sort(F);
      const auto want = oracle_fronts(F);
      REQUIRE(got == want);
      const auto rank = nat::evo::non_dominated_rank(F);
      for (std::size_t k = 0; k < want.size(); ++k)
        for (std::size_t i : want[k]) CHECK(rank[i] == k);
      ++cases;
    }
  }
  CHECK(cases == 560);
}

TEST_CASE("non_dominated_sort: anti-chain and chain") {
  points line, chain;
  for (int i = 0; i < 50; ++i) {
    line.push_back({double(i), double(49 - i), 0.5});
    chain.push_back({double(i), double(i), double(i)});
  }
  CHECK(non_dominated_sort(line).size() == 1);
  const auto fronts = non_dominated_sort(chain);
  REQUIRE(fronts.size() == 50);
  for (std::size_t k = 0; k < 50; ++k) CHECK(fronts[k] == std::vector<std::size_t>{k});
}

TEST_CASE("non_dominated_sort: bad input") {
  CHECK(non_dominated_sort(points{}).empty());
  CHECK_THROWS_AS(non_dominated_sort(points{{1, 2}, {1}}), nat::shape_error);
  CHECK_THROWS_AS(non_dominated_sort(points{{1, NAN}}), nat::config_error);
  CHECK_THROWS_AS(non_dominated_sort(points{{}, {}}), nat::config_error);
  CHECK(nat::evo::dominates({1, 2}, {1, 3}));
  CHECK_FALSE(nat::evo::dominates({1, 2}, {1, 2}));
  CHECK_FALSE(nat::evo::dominates({0, 3}, {1, 2}));
  CHECK_THROWS_AS(nat::evo::dominates({1, 2}, {1}), nat::shape_error);
}
