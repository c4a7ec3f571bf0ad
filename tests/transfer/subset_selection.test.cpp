#include <doctest/doctest.h>

#include <algorithm>
#include <nat/transfer/subset_selection.hpp>

namespace {
// Brute force over all k-subsets (small m) as the oracle.
double best_spread(const nat::points& front, const nat::points& cands, std::size_t k) {
  const std::size_t m = cands.size();
  std::vector<char> mask(m, 0);
  std::fill(mask.begin(), mask.begin() + static_cast<long>(k), 1);
  double best = 1e300;
  std::vector<double> buf;
  do {
    std::vector<std::size_t> chosen;
    for (std::size_t i = 0; i < m; ++i)
      if (mask[i]) chosen.push_back(i);
    best = std::min(best, nat::transfer::detail::subset_spread(front, cands, chosen, buf));
  } while (std::prev_permutation(mask.begin(), mask.end()));
  return best;
}
}  // namespace

TEST_CASE("subset selection fills the gaps of the front evenly (hand-made case)") {
  // Front at 0 and 10 on one cheap objective; candidates everywhere: the best 4 are 2, 4, 6, 8.
  nat::points front = {{0.0}, {10.0}};
  nat::points cands;
  for (int v = 1; v < 10; ++v) cands.push_back({static_cast<double>(v)});
  auto pick = nat::transfer::select_subset(front, cands, 4, 1);
  std::vector<double> vals;
  for (auto i : pick) vals.push_back(cands[i][0]);
  std::sort(vals.begin(), vals.end());
  CHECK(vals == std::vector<double>{2, 4, 6, 8});
}

TEST_CASE("subset selection reaches the brute-force optimum on random small cases") {
  nat::rng r(11);
  for (int trial = 0; trial < 20; ++trial) {
    const std::size_t m = 8 + r.index(5), k = 2 + r.index(3), n_obj = 1 + r.index(3);
    nat::points front(3, std::vector<double>(n_obj)), cands(m, std::vector<double>(n_obj));
    for (auto& row : front)
      for (auto& x : row) x = r.uniform(0, 10);
    for (auto& row : cands)
      for (auto& x : row) x = r.uniform(0, 10);
    auto pick = nat::transfer::select_subset(front, cands, k, 7, {100, 60});
    CHECK(pick.size() == k);
    std::vector<double> buf;
    CHECK(nat::transfer::detail::subset_spread(front, cands, pick, buf) ==
          doctest::Approx(best_spread(front, cands, k)).epsilon(1e-12));
  }
}

TEST_CASE("subset selection: small populations, determinism and bad input") {
  nat::points front = {{0.0, 1.0}};
  nat::points cands = {{1.0, 2.0}, {3.0, 1.0}};
  CHECK(nat::transfer::select_subset(front, cands, 8, 1) == std::vector<std::size_t>{0, 1});
  nat::points many;
  for (int i = 0; i < 40; ++i) many.push_back({i * 0.37, (i * 7 % 13) * 1.0});
  CHECK(nat::transfer::select_subset(front, many, 8, 5) ==
        nat::transfer::select_subset(front, many, 8, 5));
  CHECK_THROWS_AS(nat::transfer::select_subset(front, many, 0, 1), nat::config_error);
  CHECK_THROWS_AS(nat::transfer::select_subset({{1.0}}, many, 3, 1), nat::shape_error);
}
