#include <doctest/doctest.h>

#include <algorithm>
#include <nat/core/rng.hpp>
#include <nat/search/dedup.hpp>
#include <nat/search/mbv3_space.hpp>
#include <set>

using nat::search::genome;

TEST_CASE("dedup: phenotype equality, hash and unique indices") {
  const nat::search::nat_mbv3_space s;
  const genome a = s.parse_encoding("08011001440551052208877");
  genome a2 = a;  // same architecture written with a skip in the middle of stage 1
  a2[8] = 0, a2[9] = 4;
  CHECK(a2 != a);
  CHECK(nat::search::same_phenotype(s, a, a2));
  const genome b = s.parse_encoding("12115105572981578947781");
  CHECK(!nat::search::same_phenotype(s, a, b));
  const nat::search::subnet_config_hash h;
  CHECK(h(s.decode(a)) == h(s.decode(a2)));
  CHECK(h(s.decode(a)) != h(s.decode(b)));

  const std::vector<genome> gs = {a, b, a2, b, s.lower()};
  CHECK(nat::search::unique_indices(s, gs) == std::vector<std::size_t>{0, 1, 4});
  const auto kept = nat::search::drop_duplicates(s, gs, {b});
  CHECK(kept == std::vector<genome>{a, s.lower()});

  // Against brute force (pairwise decode comparison) on random genomes of a small pool.
  nat::rng r(11);
  std::vector<genome> pool;
  for (int i = 0; i < 300; ++i) {
    genome g = s.sample(r);
    g[0] = static_cast<int>(r.index(2));  // few resolutions, one width: many collisions
    g[1] = 0;
    for (std::size_t j = 2; j < 10; ++j) g[j] = std::min(g[j], 1);    // stages 0-1: depth only
    for (std::size_t j = 10; j < g.size(); ++j) g[j] = s.lower()[j];  // stages 2-4 fixed
    pool.push_back(g);
  }
  std::vector<std::size_t> brute;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    bool dup = false;
    for (std::size_t j = 0; j < i && !dup; ++j) dup = s.decode(pool[i]) == s.decode(pool[j]);
    if (!dup) brute.push_back(i);
  }
  CHECK(brute.size() > 2);
  CHECK(brute.size() <= 18);  // 2 resolutions x 3 x 3 depths
  CHECK(nat::search::unique_indices(s, pool) == brute);
}
