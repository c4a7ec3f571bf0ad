// Latency lookup table: keys as nat_spec §6, coverage of every subnet, JSON round trip.
#include <doctest/doctest.h>

#include <cstdio>
#include <nat/core/rng.hpp>
#include <nat/elastic/count.hpp>
#include <nat/elastic/latency_table.hpp>
#include <string>

TEST_CASE("latency keys follow NAT's CPU table format") {
  auto p = nat::elastic::ofa_mbv3_w10();
  auto layers = nat::elastic::describe_layers(p, p.largest(224));
  CHECK(nat::elastic::latency_key(layers[0]) == "first_conv-input:224x224x3-output:112x112x16");
  CHECK(nat::elastic::latency_key(layers[1]) ==
        "MBConv-input:112x112x16-output:112x112x16-expand:1-kernel:3-stride:1-idskip:1-se:0");
  // first block of stage 2 (SE stage, stride 2, 24 -> 40)
  CHECK(nat::elastic::latency_key(layers[6]) ==
        "MBConv-input:56x56x24-output:28x28x40-expand:6-kernel:7-stride:2-idskip:0-se:1");
  const auto n = layers.size();
  CHECK(nat::elastic::latency_key(layers[n - 4]) ==
        "final_expand_layer-input:7x7x160-output:7x7x960");
  CHECK(nat::elastic::latency_key(layers[n - 3]).empty());  // pooling has no entry
  CHECK(nat::elastic::latency_key(layers[n - 2]) ==
        "feature_mix_layer-input:1x1x960-output:1x1x1280");
  CHECK(nat::elastic::latency_key(layers[n - 1]) == "classifier-input:1280-output:1000");
}

TEST_CASE("a table built for a resolution answers every subnet at it; prediction = sum of layers") {
  auto p = nat::elastic::mbv3_small(1, 10);
  // synthetic 'measurement': latency proportional to the layer's MACs, so the prediction must
  // equal total MACs times the constant (pooling contributes 0 MACs and has no entry).
  auto t = nat::elastic::build_latency_table(p, {28, 32}, [](const nat::elastic::layer_info& l) {
    const double ms = 1e-6 * static_cast<double>(nat::elastic::layer_macs(l));
    return std::vector<double>{ms, ms};
  });
  // 5 stages: first block and later blocks distinct shapes, 9 (k,e) each; plus stem, blocks[0],
  // head (3) per resolution; minus keys both resolutions share: feature mix and classifier (1x1),
  // and at total stride 8 both 28 and 32 px end on 4x4 maps, so stage 5's later blocks (9 keys)
  // and the final expand layer coincide.
  CHECK(t.size() == 2 * (5 * 2 * 9 + 2 + 3) - 2 - 10);
  nat::rng g(7);
  for (int i = 0; i < 20; ++i) {
    auto c = p.largest(g.index(2) ? 28 : 32);
    std::size_t layer = 0;
    for (auto& d : c.d) d = p.depth_list[g.index(3)];
    c.ks.clear();
    c.e.clear();
    for (std::size_t s = 0; s < c.d.size(); ++s)
      for (int b = 0; b < c.d[s]; ++b, ++layer) {
        c.ks.push_back(p.kernel_list[g.index(3)]);
        c.e.push_back(p.expand_list[g.index(3)]);
      }
    CHECK(
        t.predict(p, c) ==
        doctest::Approx(1e-6 * static_cast<double>(nat::elastic::count_macs(p, c))).epsilon(1e-9));
  }
  auto c = p.largest(36);
  CHECK_THROWS_AS(t.predict(p, c), nat::config_error);  // resolution not in the table
}

TEST_CASE("latency table JSON round trip and statistics") {
  nat::elastic::latency_table t;
  t.add("a", {1.0, 2.0, 3.0});
  CHECK(t.query("a") == doctest::Approx(2.0));
  CHECK(t.entries().at("a").count == 3);
  CHECK(t.entries().at("a").var == doctest::Approx(2.0 / 3.0));
  const std::string path = "latency_table_test.json";
  t.save(path);
  auto u = nat::elastic::latency_table::load(path);
  CHECK(u.query("a") == doctest::Approx(2.0));
  CHECK(u.entries().at("a").count == 3);
  std::remove(path.c_str());
  CHECK_THROWS_AS(u.query("b"), nat::config_error);
}

TEST_CASE("measure_latency_ms returns the median of the timed runs") {
  int calls = 0;
  const double ms = nat::elastic::measure_latency_ms([&] { ++calls; }, 3, 5);
  CHECK(calls == 8);
  CHECK(ms >= 0.0);
  CHECK(ms < 1.0);
}

#include <nat/elastic/measure_latency.hpp>
#include <nat/elastic/supernet.hpp>

TEST_CASE("measured latency: a table of real layers answers every subnet; whole-network median") {
  auto p = nat::elastic::mbv3_small(1, 10);
  auto t = nat::elastic::build_measured_latency_table<float>(p, {28}, 1, 1, 0, 1);
  CHECK(t.size() == 5 * 2 * 9 + 2 + 3);
  for (const auto& kv : t.entries()) CHECK(kv.second.mean > 0.0);
  nat::elastic::supernet net(p, 1);
  net.set_active(p.smallest(28));
  const double small = t.predict(p, p.smallest(28)), big = t.predict(p, p.largest(28));
  // (no big > small check: single timed runs on a loaded machine can invert them)
  CHECK(small > 0.0);
  CHECK(big > 0.0);
  auto sub = net.extract();
  CHECK(nat::elastic::measure_network_latency_ms(*sub, 28, 2, 1, 3) > 0.0);
}
