#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nat/core/json.hpp>
#include <nat/core/rng.hpp>
#include <nat/search/dynamic_mbv3_space.hpp>
#include <nat/search/mbv3_space.hpp>
#include <set>
#include <string>
#include <vector>

using nat::search::genome;
using nat::search::nat_mbv3_space;

namespace {

struct expected_net {
  const char* encoding;
  int r;
  double w;
  std::vector<int> d, ks, e;
};

// Hand-decoded from the 23-digit strings with v = 1 + 3 e_idx + k_idx (nat_spec §1); M1's and
// M4's r/w/d are the values nat_spec lists for the released nets.
const std::vector<expected_net>& nat_models() {
  static const std::vector<expected_net> m = {
      {"08011001440551052208877",
       224,
       1.0,
       {2, 3, 3, 3, 4},
       {3, 3, 3, 3, 3, 5, 5, 3, 5, 5, 5, 5, 5, 3, 3},
       {3, 3, 3, 4, 4, 4, 4, 3, 4, 3, 3, 6, 6, 6, 6}},
      {"08111003100632076009771",
       224,
       1.2,
       {2, 2, 3, 2, 4},
       {3, 3, 7, 3, 7, 7, 5, 3, 7, 7, 3, 3, 3},
       {3, 3, 3, 3, 4, 3, 3, 6, 4, 6, 6, 6, 3}},
      {"08121105451581189759771",
       224,
       1.2,
       {3, 4, 4, 4, 4},
       {5, 3, 3, 5, 3, 5, 3, 5, 5, 3, 3, 5, 7, 3, 5, 7, 3, 3, 3},
       {3, 3, 3, 4, 4, 4, 3, 4, 6, 3, 3, 6, 6, 6, 4, 6, 6, 6, 3}},
      {"12115105572981578947781",
       240,
       1.2,
       {3, 4, 4, 4, 4},
       {3, 5, 3, 5, 5, 3, 5, 7, 5, 3, 5, 3, 5, 7, 3, 3, 3, 5, 3},
       {3, 4, 3, 4, 4, 6, 3, 6, 6, 3, 4, 6, 6, 6, 4, 6, 6, 6, 3}},
  };
  return m;
}

// Random genes around (and beyond) the bounds, so repair has work to do.
genome wild_genome(nat::rng& r, std::size_t n) {
  genome g(n);
  for (auto& x : g) x = static_cast<int>(r.uniform_int(-3, 12));
  g[0] = static_cast<int>(r.uniform_int(-2, 20));
  g[1] = static_cast<int>(r.uniform_int(-1, 3));
  return g;
}

// Independent decode oracle: table lookup of (k, e) per gene value and skip-dropping by hand.
nat::subnet_config oracle_decode(const genome& g) {
  static const int kk[10] = {0, 3, 5, 7, 3, 5, 7, 3, 5, 7};
  static const int ee[10] = {0, 3, 3, 3, 4, 4, 4, 6, 6, 6};
  nat::subnet_config c;
  c.r = 192 + 4 * g[0];
  c.w = g[1] == 0 ? 1.0 : 1.2;
  for (int s = 0; s < 5; ++s) {
    int d = 0;
    for (int j = 0; j < 4; ++j) {
      const int v = g[2 + 4 * s + j];
      if (v == 0) continue;
      ++d;
      c.ks.push_back(kk[v]);
      c.e.push_back(ee[v]);
    }
    c.d.push_back(d);
  }
  return c;
}

template <class F>
std::string thrown_message(F f) {
  try {
    f();
  } catch (const nat::config_error& e) {
    return e.what();
  }
  return "<nothing thrown>";
}

}  // namespace

TEST_CASE("nat_mbv3_space: genome length and bounds are compile-time constants") {
  static_assert(nat_mbv3_space::n_genes == 22);
  static_assert(nat_mbv3_space::lower_bounds[0] == 0 && nat_mbv3_space::upper_bounds[0] == 16);
  static_assert(nat_mbv3_space::upper_bounds[1] == 1);
  static_assert(nat_mbv3_space::lower_bounds[2] == 1 && nat_mbv3_space::lower_bounds[3] == 1 &&
                nat_mbv3_space::lower_bounds[4] == 0 && nat_mbv3_space::lower_bounds[5] == 0);
  static_assert(nat_mbv3_space::upper_bounds[21] == 9);
  const nat_mbv3_space s;
  CHECK(s.n_var() == 22);
  genome lo = {0, 0}, hi = {16, 1};
  for (int st = 0; st < 5; ++st) {
    lo.insert(lo.end(), {1, 1, 0, 0});
    hi.insert(hi.end(), {9, 9, 9, 9});
  }
  CHECK(s.lower() == lo);
  CHECK(s.upper() == hi);
  CHECK(s.resolutions().size() == 17);
  CHECK(s.resolutions().front() == 192);
  CHECK(s.resolutions().back() == 256);
  CHECK(s.widths() == std::vector<double>{1.0, 1.2});
  // nat_spec §2: decode(lb) / decode(ub) are the smallest and largest subnets.
  const auto small = s.decode(s.lower()), large = s.decode(s.upper());
  CHECK(small.r == 192);
  CHECK(small.d == std::vector<int>(5, 2));
  CHECK(std::all_of(small.ks.begin(), small.ks.end(), [](int k) { return k == 3; }));
  CHECK(large.r == 256);
  CHECK(large.w == 1.2);
  CHECK(large.d == std::vector<int>(5, 4));
  CHECK(std::all_of(large.e.begin(), large.e.end(), [](int e) { return e == 6; }));
}

TEST_CASE("nat_mbv3_space: NAT-M1..M4 parse, format round trip and decode") {
  const nat_mbv3_space s;
  for (const auto& m : nat_models()) {
    CAPTURE(m.encoding);
    const genome g = s.parse_encoding(m.encoding);
    CHECK(g.size() == 22);
    CHECK(s.format_encoding(g) == m.encoding);
    CHECK(s.is_repaired(g));
    const auto c = s.decode(g);
    CHECK(c.r == m.r);
    CHECK(c.w == m.w);
    CHECK(c.d == m.d);
    CHECK(c.ks == m.ks);
    CHECK(c.e == m.e);
    CHECK(c == s.decode_encoding(m.encoding));
    CHECK(s.encode(c) == g);
    CHECK(s.encoding_of(c) == m.encoding);
    // Through the JSON of net.subnet files as well.
    CHECK(s.encoding_of(nat::parse_subnet_config(nat::to_json(c).dump())) == m.encoding);
  }
}

TEST_CASE("nat_mbv3_space: bad encodings name what is wrong") {
  const nat_mbv3_space s;
  auto msg = [&](const std::string& t) { return thrown_message([&] { s.parse_encoding(t); }); };
  CHECK(msg("0801100144055105220887").find("expected 23 characters") != std::string::npos);
  CHECK(msg("080110014405510522088777").find("got 24") != std::string::npos);
  CHECK(msg("").find("got 0") != std::string::npos);
  CHECK(msg("08011001440551052208x77").find("character 20") != std::string::npos);
  CHECK(msg("0801100144055105220887-").find("not a digit") != std::string::npos);
  CHECK(msg("17011001440551052208877").find("resolution index 17") != std::string::npos);
  CHECK(msg("08211001440551052208877").find("width index 2") != std::string::npos);
  const auto m0 = msg("08001001440551052208877");  // stage 0, layer 0 skipped
  CHECK(m0.find("layer gene 0 of stage 0") != std::string::npos);
  CHECK(msg("08011001440551052208077").find("layer gene 1 of stage 4") != std::string::npos);
  CHECK(m0.find("parse_encoding") != std::string::npos);
  // A non-repaired but in-bounds string parses as written and decodes like its repair.
  const genome g = s.parse_encoding("08011011440551052208877");
  CHECK(g[4] == 0);
  CHECK(g[5] == 1);
  CHECK(s.decode(g).d[0] == 3);
  CHECK(s.format_encoding(g) == "08011011440551052208877");
  genome bad = g;
  bad[7] = 10;
  CHECK_THROWS_AS(s.format_encoding(bad), nat::config_error);
  CHECK_THROWS_AS(s.format_encoding(genome(21, 1)), nat::config_error);
}

TEST_CASE("nat_mbv3_space: repair by hand") {
  const nat_mbv3_space s;
  genome g = s.parse_encoding("08011001440551052208877");
  // stage 1 = genes 6..9: [0 5 0 3] -> [5 3 0 0]; stage 2 = 10..13: [0 0 0 7] -> [7 1 0 0].
  g[6] = 0, g[7] = 5, g[8] = 0, g[9] = 3;
  g[10] = 0, g[11] = 0, g[12] = 0, g[13] = 7;
  g[14] = 12, g[15] = -4, g[16] = 2, g[17] = 0;  // clipped to [9 0 2 0] then [9 2 0 0]
  g[0] = 40;
  g[1] = -1;
  const genome r = s.repair(g);
  CHECK(r[0] == 16);
  CHECK(r[1] == 0);
  CHECK(genome(r.begin() + 6, r.begin() + 10) == genome{5, 3, 0, 0});
  CHECK(genome(r.begin() + 10, r.begin() + 14) == genome{7, 1, 0, 0});
  CHECK(genome(r.begin() + 14, r.begin() + 18) == genome{9, 2, 0, 0});
  CHECK(genome(r.begin() + 18, r.end()) == genome(g.begin() + 18, g.end()));
  CHECK_THROWS_AS(s.repair(genome(23, 1)), nat::config_error);
  CHECK(thrown_message([&] { s.decode(genome(3, 1)); }).find("22 genes, got 3") !=
        std::string::npos);
}

TEST_CASE(
    "nat_mbv3_space: repair is idempotent, in bounds, zeros last; encode(decode(g)) == "
    "repair(g)") {
  const nat_mbv3_space s;
  nat::rng r(20210101);
  const genome lo = s.lower(), hi = s.upper();
  for (int it = 0; it < 5000; ++it) {
    const genome g = wild_genome(r, 22);
    const genome h = s.repair(g);
    CHECK(s.repair(h) == h);
    for (std::size_t i = 0; i < 22; ++i) REQUIRE((h[i] >= lo[i] && h[i] <= hi[i]));
    for (int st = 0; st < 5; ++st)
      for (int j = 0; j + 1 < 4; ++j)
        if (h[2 + 4 * st + j] == 0) REQUIRE(h[2 + 4 * st + j + 1] == 0);
    CHECK(s.encode(s.decode(g)) == h);
    CHECK(s.decode(h) == oracle_decode(h));
    // Where no clipping was needed, repair keeps the stage's non-zero genes in order.
    bool in_range = true;
    for (std::size_t i = 0; i < 22; ++i) in_range = in_range && g[i] >= 0 && g[i] <= hi[i];
    if (in_range) {
      for (int st = 0; st < 5; ++st) {
        genome nz;
        for (int j = 0; j < 4; ++j)
          if (g[2 + 4 * st + j] != 0) nz.push_back(g[2 + 4 * st + j]);
        if (nz.size() >= 2)
          CHECK(genome(h.begin() + 2 + 4 * st, h.begin() + 2 + 4 * st + nz.size()) == nz);
      }
    }
  }
}

TEST_CASE("nat_mbv3_space: encode rejects configs outside the space") {
  const nat_mbv3_space s;
  auto c = s.decode_encoding("08011001440551052208877");
  auto msg = [&](nat::subnet_config x) { return thrown_message([&] { s.encode(x); }); };
  auto x = c;
  x.r = 226;
  CHECK(msg(x).find("resolution 226") != std::string::npos);
  x = c;
  x.w = 1.1;
  CHECK(msg(x).find("width multiplier 1.1") != std::string::npos);
  x = c;
  x.ks[3] = 9;
  CHECK(msg(x).find("kernel 9 of layer 3") != std::string::npos);
  x = c;
  x.e[0] = 5;
  CHECK(msg(x).find("expand ratio 5 of layer 0") != std::string::npos);
  x = c;
  x.d = {2, 3, 3, 3, 4, 1};
  x.ks.push_back(3);
  x.e.push_back(3);
  CHECK(msg(x).find("5 stage depths, got 6") != std::string::npos);
  x = c;
  x.d[0] = 1;
  x.ks.erase(x.ks.begin());
  x.e.erase(x.e.begin());
  CHECK(msg(x).find("depth 1 of stage 0") != std::string::npos);
  x = c;
  x.ks.pop_back();  // inconsistent with d: subnet_config::validate names it
  CHECK(msg(x).find("encode") != std::string::npos);
}

TEST_CASE("nat_mbv3_space: features are 209 one-hot dims (22 compact), of the repaired genome") {
  const nat_mbv3_space s;
  CHECK(s.n_features() == 209);
  CHECK(s.n_features(nat::search::feature_encoding::compact) == 22);
  nat::rng r(5);
  std::map<std::vector<double>, nat::subnet_config> seen;
  for (int it = 0; it < 2000; ++it) {
    const genome g = wild_genome(r, 22);
    const auto f = s.features(g);
    REQUIRE(f.size() == 209);
    double sum = 0;
    for (double v : f) {
      CHECK((v == 0.0 || v == 1.0));
      sum += v;
    }
    CHECK(sum == 22.0);  // one hot per variable
    CHECK(f == s.features(s.repair(g)));
    const auto c = s.features(g, nat::search::feature_encoding::compact);
    REQUIRE(c.size() == 22);
    for (double v : c) CHECK((v >= 0.0 && v <= 1.0));
    // Features identify the phenotype: equal features only for equal architectures.
    auto [pos, fresh] = seen.emplace(f, s.decode(g));
    if (!fresh) CHECK(pos->second == s.decode(g));
  }
  // Hand-computed positions for NAT-M1: resolution index 8 -> dim 8; width 0 -> dim 17;
  // stage 0 layer 0 gene 1 -> category 0 of a 9-way block starting at 19.
  const auto f = s.features(s.parse_encoding("08011001440551052208877"));
  CHECK(f[8] == 1.0);
  CHECK(f[17] == 1.0);
  CHECK(f[18] == 0.0);
  CHECK(f[19] == 1.0);
  // Layer 2 of stage 0 (a skippable gene, 10 categories 0..9 starting at 19 + 9 + 9 = 37) is 0.
  CHECK(f[37] == 1.0);
  const auto c = s.features(s.upper(), nat::search::feature_encoding::compact);
  CHECK(c == std::vector<double>(22, 1.0));
  CHECK(s.features(std::vector<genome>{s.lower(), s.upper()}).size() == 2);
}

TEST_CASE("nat_mbv3_space: size is 7.4e20 architectures and 1.19e21 genotypes") {
  const nat_mbv3_space s;
  const double per_stage = 81.0 + 81.0 * 9 + 81.0 * 81;  // 7371 (nat_spec §1)
  CHECK(per_stage == 7371.0);
  const double expected = std::pow(per_stage, 5) * 17 * 2;
  CHECK(s.size() == doctest::Approx(expected).epsilon(1e-12));
  CHECK(s.size() == doctest::Approx(7.4e20).epsilon(0.001));
  CHECK(s.log10_size() == doctest::Approx(std::log10(expected)).epsilon(1e-14));
  CHECK(s.genotype_size() == doctest::Approx(std::pow(8100.0, 5) * 34).epsilon(1e-12));
  CHECK(s.genotype_size() == doctest::Approx(1.19e21).epsilon(0.005));
}

namespace {
// A space small enough to enumerate: 2 resolutions, 1 width, kernels {3,5}, expand {4},
// 2 stages of 1..3 layers (m = 2 layer choices, genes 0..2).
using tiny_space =
    nat::search::mbv3_space<nat::search::int_list<32, 40>, nat::search::int_list<100>,
                            nat::search::int_list<3, 5>, nat::search::int_list<4>, 2, 3, 1>;
template <class F>
void for_each_genome(const genome& lo, const genome& hi, F f) {
  genome g = lo;
  while (true) {
    f(g);
    std::size_t i = 0;
    while (i < g.size() && g[i] == hi[i]) g[i] = lo[i], ++i;
    if (i == g.size()) return;
    ++g[i];
  }
}
}  // namespace

TEST_CASE("mbv3_space: size() and genotype_size() match enumeration of a tiny space") {
  const tiny_space s;
  static_assert(tiny_space::n_genes == 8);
  std::set<std::vector<int>> pheno;
  double n_geno = 0;
  for_each_genome(s.lower(), s.upper(), [&](const genome& g) {
    ++n_geno;
    const auto c = s.decode(g);
    std::vector<int> key = {c.r};
    key.insert(key.end(), c.d.begin(), c.d.end());
    key.insert(key.end(), c.ks.begin(), c.ks.end());
    key.insert(key.end(), c.e.begin(), c.e.end());
    pheno.insert(key);
    CHECK(s.encode(c) == s.repair(g));
  });
  CHECK(n_geno == doctest::Approx(s.genotype_size()).epsilon(1e-12));
  CHECK(double(pheno.size()) == doctest::Approx(s.size()).epsilon(1e-12));
  CHECK(pheno.size() == 2 * 14 * 14);
}

TEST_CASE("mbv3_space: sample_uniform_phenotype is uniform over architectures; sample is seeded") {
  const tiny_space s;
  nat::rng r(77);
  std::map<genome, int> count;
  const int n = 196000;  // 392 phenotypes, 500 expected each
  for (int i = 0; i < n; ++i) {
    const genome g = s.sample_uniform_phenotype(r);
    REQUIRE(s.is_repaired(g));
    ++count[g];
  }
  CHECK(count.size() == 392);
  double chi2 = 0;
  for (const auto& kv : count) chi2 += (kv.second - 500.0) * (kv.second - 500.0) / 500.0;
  // 391 degrees of freedom: mean 391, sd 28; 391 + 6 sd is a very loose upper bound.
  CHECK(chi2 < 560);
  // Gene-uniform sampling (MOEA) over-weights shallow depths of this space: depth 1 arises from
  // 3 of the 9 patterns of the two optional genes, but only 2 of 14 phenotypes have depth 1.
  std::map<int, int> depth1;
  for (int i = 0; i < 20000; ++i) ++depth1[s.decode(s.sample(r)).d[0]];
  CHECK(depth1[1] / 20000.0 == doctest::Approx(1.0 / 9.0).epsilon(0.1));

  const nat_mbv3_space big;
  nat::rng a(42), b(42);
  for (int i = 0; i < 200; ++i) {
    const genome g = big.sample(a);
    CHECK(g == big.sample(b));
    CHECK(big.is_repaired(g));
    CHECK(big.sample_uniform_phenotype(a) == big.sample_uniform_phenotype(b));
  }
  CHECK(big.sample(10, a, true).size() == 10);
}

TEST_CASE("nat_mbv3_small_space: small-image resolutions, one width, same layer genes") {
  const nat::search::nat_mbv3_small_space s;
  CHECK(s.resolutions() == std::vector<int>{28, 32, 36, 40, 44, 48});
  CHECK(s.widths() == std::vector<double>{1.0});
  CHECK(s.n_var() == 22);
  CHECK(s.n_features() == 6 + 1 + 5 * 38);
  const genome g = s.parse_encoding("01011001440551052208877");
  CHECK(s.decode(g).r == 32);
  CHECK(s.decode(g).w == 1.0);
  CHECK(s.format_encoding(g) == "01011001440551052208877");
  CHECK_THROWS_AS(s.parse_encoding("06011001440551052208877"), nat::config_error);
  CHECK_THROWS_AS(s.parse_encoding("01111001440551052208877"), nat::config_error);
  CHECK(s.size() == doctest::Approx(std::pow(7371.0, 5) * 6).epsilon(1e-12));
}

TEST_CASE("dynamic_mbv3_space: same results as the compile-time space; presets; validation") {
  const nat_mbv3_space ct;
  const auto rt = nat::search::make_space("nat_mbv3");
  CHECK(rt.lower() == ct.lower());
  CHECK(rt.upper() == ct.upper());
  CHECK(rt.n_features() == 209);
  CHECK(rt.size() == ct.size());
  nat::rng r(9);
  for (int i = 0; i < 500; ++i) {
    const genome g = wild_genome(r, 22);
    CHECK(rt.repair(g) == ct.repair(g));
    CHECK(rt.decode(g) == ct.decode(g));
    CHECK(rt.features(g) == ct.features(g));
  }
  nat::rng a(3), b(3);
  CHECK(rt.sample(a) == ct.sample(b));
  for (const auto& m : nat_models())
    CHECK(rt.format_encoding(rt.parse_encoding(m.encoding)) == m.encoding);

  const auto small = nat::search::make_space("small");
  CHECK(small.resolutions() == nat::search::nat_mbv3_small_space{}.resolutions());
  CHECK(thrown_message([] { nat::search::make_space("nas101"); }).find("nat_mbv3") !=
        std::string::npos);

  // JSON round trip, and NAT's defaults for what is left out.
  const auto back = nat::search::dynamic_mbv3_space_from_json(rt.to_json());
  CHECK(back.to_json() == rt.to_json());
  const auto partial = nat::search::dynamic_mbv3_space_from_json(
      nat::json::parse(R"({"resolutions": [32, 64], "widths": [1.0]})"));
  CHECK(partial.kernels() == std::vector<int>{3, 5, 7});
  CHECK(partial.n_var() == 22);
  CHECK(partial.decode(partial.upper()).r == 64);

  using nat::search::dynamic_mbv3_space;
  CHECK_THROWS_AS(dynamic_mbv3_space({}, {1.0}), nat::config_error);
  CHECK_THROWS_AS(dynamic_mbv3_space({32, 28}, {1.0}), nat::config_error);
  CHECK_THROWS_AS(dynamic_mbv3_space({32}, {1.2, 1.0}), nat::config_error);
  CHECK_THROWS_AS(dynamic_mbv3_space({32}, {1.0}, {3, 4}), nat::config_error);
  CHECK_THROWS_AS(dynamic_mbv3_space({32}, {1.0}, {3}, {3}, 5, 2, 3), nat::config_error);
  CHECK_THROWS_AS(dynamic_mbv3_space({32}, {1.0}, {3}, {3}, 0), nat::config_error);
  CHECK_THROWS_AS(nat::search::dynamic_mbv3_space_from_json(nat::json::parse("[1]")),
                  nat::config_error);
  // Ten (kernel, expand) pairs do not fit one digit per gene.
  const dynamic_mbv3_space wide({32}, {1.0}, {3, 5}, {1, 2, 3, 4, 6});
  CHECK_THROWS_AS(wide.format_encoding(wide.lower()), nat::not_supported);
  CHECK(wide.decode(wide.upper()).e.back() == 6);
}
