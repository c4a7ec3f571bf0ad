// MAC/param counts against independent numbers: NAT's published MAdds for NAT-M1..M4 (nat_spec §1,
// §7) and the OFA largest/smallest subnets (ofa_spec §1.1).
#include <doctest/doctest.h>

#include <cmath>
#include <nat/elastic/count.hpp>
#include <nat/elastic/subnet_config.hpp>
#include <string>

namespace {

// Decodes NAT's 23-character net.encoding independently of nat::search (nat_spec §1): 2-digit
// resolution index (R = 192 + 4 idx), width index (1.0 / 1.2), 20 genes v = 1 + 3 e_idx + k_idx
// with 0 = skipped layer; zeros of a stage are pushed to its end.
nat::elastic::subnet_config decode_nat(const std::string& s) {
  nat::elastic::subnet_config c;
  c.r = 192 + 4 * std::stoi(s.substr(0, 2));
  c.w = s[2] == '0' ? 1.0 : 1.2;
  const int ks[3] = {3, 5, 7}, es[3] = {3, 4, 6};
  for (int st = 0; st < 5; ++st) {
    int d = 0;
    for (int j = 0; j < 4; ++j) {
      const int v = s[3 + 4 * st + j] - '0';
      if (v == 0) continue;
      ++d;
      c.ks.push_back(ks[(v - 1) % 3]);
      c.e.push_back(es[(v - 1) / 3]);
    }
    c.d.push_back(d);
  }
  return c;
}

double rel(double a, double b) { return std::fabs(a - b) / std::fabs(b); }

}  // namespace

TEST_CASE("make_divisible reproduces OFA's width tables") {
  using nat::elastic::make_divisible;
  const int base[9] = {16, 16, 24, 40, 80, 112, 160, 960, 1280};
  const int w12[9] = {24, 24, 32, 48, 96, 136, 192, 1152, 1536};
  for (int i = 0; i < 9; ++i) {
    CHECK(make_divisible(base[i] * 1.0) == base[i]);
    CHECK(make_divisible(base[i] * 1.2) == w12[i]);
  }
  // ofa_spec §1.1 middle/SE widths for w1.0
  CHECK(nat::elastic::middle_channels(24, 3) == 72);
  CHECK(nat::elastic::se_channels(72) == 24);
  CHECK(nat::elastic::se_channels(96) == 24);
  CHECK(nat::elastic::se_channels(144) == 40);
  CHECK(nat::elastic::se_channels(336) == 88);
  CHECK(nat::elastic::se_channels(480) == 120);
}

TEST_CASE("decode_nat reads NAT-M1 as nat_spec §1 lists it") {
  auto c = decode_nat("08011001440551052208877");
  CHECK(c.r == 224);
  CHECK(c.w == 1.0);
  CHECK(c.d == std::vector<int>{2, 3, 3, 3, 4});
  CHECK(c.ks == std::vector<int>{3, 3, 3, 3, 3, 5, 5, 3, 5, 5, 5, 5, 5, 3, 3});
  CHECK(c.e == std::vector<int>{3, 3, 3, 4, 4, 4, 4, 3, 4, 3, 3, 6, 6, 6, 6});
  CHECK(decode_nat("12115105572981578947781").r == 240);
}

TEST_CASE("NAT-M1..M4 MACs match the published MAdds within 3 %") {
  const struct {
    const char* enc;
    double madds;
  } nets[] = {{"08011001440551052208877", 225e6},
              {"08111003100632076009771", 312e6},
              {"08121105451581189759771", 490e6},
              {"12115105572981578947781", 600e6}};
  for (const auto& n : nets) {
    CAPTURE(n.enc);
    const auto cfg = decode_nat(n.enc);
    const double macs = static_cast<double>(nat::elastic::count_macs(cfg));
    CAPTURE(macs);
    CHECK(rel(macs, n.madds) < 0.03);
  }
  // HA-NAT #6 gives NAT-M1's parameter count (with its 1000-class head).
  CHECK(nat::elastic::count_params(decode_nat("08011001440551052208877")) == 6067408);
}

TEST_CASE("OFA largest/smallest subnets: MACs and params") {
  auto w10 = nat::elastic::ofa_mbv3_w10();
  auto w12 = nat::elastic::ofa_mbv3_w12();
  auto m = [](const auto& p, const auto& c) { return double(nat::elastic::count_macs(p, c)); };
  auto n = [](const auto& p, const auto& c) { return double(nat::elastic::count_params(p, c)); };
  CHECK(rel(m(w10, w10.largest(224)), 566.2e6) < 0.01);
  CHECK(rel(m(w10, w10.smallest(224)), 121.3e6) < 0.01);
  CHECK(rel(m(w10, w10.smallest(128)), 41.5e6) < 0.01);
  CHECK(rel(n(w10, w10.largest(224)), 7.66e6) < 0.01);
  CHECK(rel(n(w10, w10.smallest(224)), 3.41e6) < 0.01);
  CHECK(rel(m(w12, w12.largest(224)), 843.1e6) < 0.01);
  CHECK(rel(m(w12, w12.smallest(224)), 193.1e6) < 0.01);
  CHECK(rel(n(w12, w12.largest(224)), 10.70e6) < 0.01);
  CHECK(rel(n(w12, w12.smallest(224)), 4.60e6) < 0.01);
  // the w-dispatching overloads agree with the explicit preset
  CHECK(nat::elastic::count_macs(w12.largest(224)) ==
        nat::elastic::count_macs(w12, w12.largest(224)));
}

TEST_CASE("invalid subnets are rejected with config_error") {
  auto p = nat::elastic::ofa_mbv3_w10();
  auto c = p.largest(224);
  c.ks[3] = 9;
  CHECK_THROWS_AS(nat::elastic::count_macs(p, c), nat::config_error);
  c = p.largest(224);
  c.d[0] = 5;
  c.ks.push_back(7);
  c.e.push_back(6);
  CHECK_THROWS_AS(nat::elastic::count_macs(p, c), nat::config_error);
  c = p.largest(224);
  c.r = 225;
  CHECK_THROWS_AS(nat::elastic::count_macs(p, c), nat::config_error);
  c = p.largest(224);
  c.e[0] = 5;
  CHECK_THROWS_AS(nat::elastic::count_params(p, c), nat::config_error);
  c = p.largest(224);
  c.w = 1.2;  // w1.2 config against the w1.0 supernet
  CHECK_THROWS_AS(nat::elastic::count_macs(p, c), nat::config_error);
  c.w = 1.1;
  CHECK_THROWS_AS(nat::elastic::count_macs(c), nat::config_error);
  try {
    c = p.largest(224);
    c.ks[3] = 9;
    nat::elastic::count_macs(p, c);
  } catch (const nat::config_error& e) {
    CHECK(std::string(e.what()).find("kernel 9") != std::string::npos);
  }
}

TEST_CASE("mbv3_small: total stride 8, MACs grow with every choice") {
  auto p = nat::elastic::mbv3_small(1, 10);
  auto layers = nat::elastic::describe_layers(p, p.largest(28));
  CHECK(layers.front().out_size == 28);
  // final_expand runs on the last feature map: 28 / 8 rounded up = 4
  CHECK(layers[layers.size() - 4].kind == nat::elastic::layer_kind::final_expand);
  CHECK(layers[layers.size() - 4].in_size == 4);
  const auto big = nat::elastic::count_macs(p, p.largest(28));
  const auto small = nat::elastic::count_macs(p, p.smallest(28));
  CHECK(big > 2 * small);
  auto c = p.largest(28);
  c.ks[0] = 5;
  CHECK(nat::elastic::count_macs(p, c) < big);
  CHECK(nat::elastic::count_macs(p, p.largest(32)) > big);
  // the space has OFA's per-resolution size
  CHECK(rel(p.space_size() / p.resolutions.size(), std::pow(81.0 + 729.0 + 6561.0, 5)) < 1e-12);
}
