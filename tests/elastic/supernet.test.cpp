// The elastic supernet against independent references: extracted static subnets (their own
// forward) must reproduce the supernet's output; channel sorting must not change the largest
// subnet's function; save -> load must reproduce outputs; parameter counts must match the
// analytic count.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <nat/autograd/grad_check.hpp>
#include <nat/elastic/bn_recalibration.hpp>
#include <nat/elastic/count.hpp>
#include <nat/elastic/supernet.hpp>
#include <nat/io/safetensors.hpp>

namespace {

double max_rel_diff(const nat::tensorf& a, const nat::tensorf& b) {
  REQUIRE(a.shape() == b.shape());
  const auto x = a.to_vector(), y = b.to_vector();
  double num = 0, den = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    num = std::max(num, double(std::fabs(x[i] - y[i])));
    den = std::max(den, double(std::fabs(y[i])));
  }
  return num / std::max(den, 1e-30);
}

// Small layout for fast tests: mbv3_small with 1 input channel.
nat::elastic::supernet_config small_preset() { return nat::elastic::mbv3_small(1, 10); }

// Gives the BN layers non-trivial statistics so eval-mode comparisons exercise them.
void warm_bn(nat::elastic::supernet& net, std::uint64_t seed) {
  nat::autograd::no_grad g;
  net.train();
  for (int i = 0; i < 2; ++i) net.forward(nat::tensorf::randn({4, 1, 28, 28}, seed + i));
  net.eval();
}

}  // namespace

TEST_CASE(
    "supernet: state-dict names follow OFA and the largest subnet's params match count_params") {
  auto p = small_preset();
  nat::elastic::supernet net(p, 1);
  bool has_matrix = false, has_dyn = false, has_static_b0 = false;
  for (const auto& [name, t] : net.state_dict()) {
    if (name == "blocks.1.conv.depth_conv.conv.7to5_matrix")
      has_matrix = t.shape() == nat::shape{25, 25};
    if (name == "blocks.1.conv.inverted_bottleneck.conv.conv.weight") has_dyn = true;
    if (name == "blocks.0.conv.depth_conv.conv.weight") has_static_b0 = true;
  }
  CHECK(has_matrix);
  CHECK(has_dyn);
  CHECK(has_static_b0);
  auto sub = net.extract();
  CHECK(sub->n_parameters() == std::size_t(nat::elastic::count_params(p, net.active())));
  net.set_active(p.smallest(28));
  CHECK(net.extract()->n_parameters() == std::size_t(nat::elastic::count_params(p, net.active())));
  auto bad = p.largest(28);
  bad.ks[0] = 9;
  CHECK_THROWS_AS(net.set_active(bad), nat::config_error);
}

TEST_CASE(
    "supernet: 20 random extracted subnets reproduce the supernet (eval, after recalibration)") {
  auto p = small_preset();
  nat::elastic::supernet net(p, 2);
  warm_bn(net, 100);
  nat::rng g(3);
  for (int i = 0; i < 20; ++i) {
    auto cfg = net.sample_active(g);
    CAPTURE(nat::to_json(cfg).dump());
    const int r = 28 + 4 * int(g.index(2));  // keep the test fast: 28 or 32 px
    std::vector<nat::tensorf> calib{
        nat::tensorf::randn({8, 1, std::size_t(r), std::size_t(r)}, 50 + i)};
    nat::elastic::recalibrate_bn<float>(net, calib);
    auto sub = net.extract();
    sub->eval();
    net.eval();
    auto x = nat::tensorf::randn({2, 1, std::size_t(r), std::size_t(r)}, 200 + i);
    nat::autograd::no_grad ng;
    const auto a = net.forward(x), b = sub->forward(x);
    CHECK(max_rel_diff(b, a) < 1e-5);
    // recalibrating the extracted copy on the same batch gives the same statistics
    nat::elastic::recalibrate_bn<float>(*sub, calib);
    CHECK(max_rel_diff(sub->forward(x), a) < 1e-5);
  }
}

TEST_CASE("supernet: channel sorting leaves the largest subnet's function unchanged") {
  auto p = small_preset();
  nat::elastic::supernet net(p, 4);
  warm_bn(net, 300);
  net.set_active(p.largest(28));
  auto x = nat::tensorf::randn({2, 1, 28, 28}, 5);
  nat::autograd::no_grad ng;
  const auto before = net.forward(x);
  auto mid_before = net.forward(x);
  // a smaller subnet's output must change (the prefixes now hold other channels)
  auto cfg = p.uniform(7, 3, 4, 28);
  net.set_active(cfg);
  const auto small_before = net.forward(x);
  net.reorganize_middle_weights(0);
  net.set_active(p.largest(28));
  CHECK(max_rel_diff(net.forward(x), before) < 1e-5);
  net.set_active(cfg);
  CHECK(max_rel_diff(net.forward(x), small_before) > 1e-3);
  // after sorting, the projection's input-slice L1 norms are descending in every block
  for (std::size_t slot = 1; slot < net.blocks.size(); ++slot) {
    const auto& w = net.blocks[slot]->conv->point_linear->weight;
    const std::size_t out = w.size(0), mid = w.size(1);
    const auto v = w.to_vector();
    double prev = 1e300;
    for (std::size_t c = 0; c < mid; ++c) {
      double s = 0;
      for (std::size_t o = 0; o < out; ++o) s += std::fabs(v[o * mid + c]);
      CHECK(s <= prev + 1e-6);
      prev = s;
    }
  }
  // stage 1: channels only move within their band, so the e=4 prefix keeps its set of channels
  net.set_active(p.uniform(7, 4, 4, 28));
  const auto e4 = net.forward(x);
  net.reorganize_middle_weights(1);
  CHECK(max_rel_diff(net.forward(x), e4) < 1e-5);
  net.set_active(p.largest(28));
  CHECK(max_rel_diff(net.forward(x), before) < 1e-5);
}

TEST_CASE("supernet: save -> load gives identical outputs") {
  auto p = small_preset();
  nat::elastic::supernet a(p, 6), b(p, 7);
  warm_bn(a, 400);
  b.eval();
  nat::rng g(8);
  auto cfg = a.sample_active(g);
  b.set_active(cfg);
  const std::string path = "supernet_test.safetensors";
  nat::io::save_safetensors<float>(path, a.state_dict());
  nat::io::load_safetensors_into<float>(path, b.state_dict());
  std::remove(path.c_str());
  auto x = nat::tensorf::randn({2, 1, 32, 32}, 9);
  nat::autograd::no_grad ng;
  CHECK(max_rel_diff(b.forward(x), a.forward(x)) == 0.0);
}

TEST_CASE("elastic depthwise conv: finite-difference gradients through crop, transforms and conv") {
  nat::rng g(10);
  nat::nn::conv_spec s;
  s.out_channels = 6;
  s.kernels = {3, 5, 7};
  s.depthwise = true;
  s.stride = 2;
  s.use_bn = false;
  s.elastic_names = true;
  nat::nn::conv_layer<double> layer(s, g);
  // non-identity transforms so the check sees them
  layer.transforms[0].copy_from(nat::tensord::randn({9, 9}, 11));
  layer.transforms[1].copy_from(nat::tensord::randn({25, 25}, 12));
  auto x = nat::tensord::randn({2, 4, 7, 7}, 13).set_requires_grad(true);
  for (int k : {7, 5, 3}) {
    CAPTURE(k);
    layer.active_kernel = k;
    auto r = nat::autograd::grad_check(
        [&](const std::vector<nat::tensord>& in) {
          return nat::ops::depthwise_conv2d(in[0], layer.active_filter(in[0].size(1)), 2,
                                            std::size_t(k / 2));
        },
        {x, layer.weight, layer.transforms[0], layer.transforms[1]});
    CHECK_MESSAGE(r.ok, r.worst);
  }
}

TEST_CASE("recalibrate_bn: running stats = batch-size-weighted mean of batch means / biased vars") {
  auto p = small_preset();
  nat::elastic::supernet net(p, 14);
  net.eval();
  auto x1 = nat::tensorf::randn({3, 1, 28, 28}, 15, 0.5f, 2.0f);
  auto x2 = nat::tensorf::randn({5, 1, 28, 28}, 16, -0.3f, 1.0f);
  nat::elastic::recalibrate_bn<float>(net, {x1, x2});
  CHECK_FALSE(net.is_training());  // mode restored
  // the first conv's BN sees conv2d(x, W): compute its statistics directly
  nat::autograd::no_grad ng;
  const auto& fc = *net.first_conv;
  auto stats = [&](const nat::tensorf& x, std::size_t c, double& mean, double& var) {
    auto y = nat::ops::conv2d(x, fc.weight, 1, 1, 1);
    const std::size_t n = y.size(0), hw = y.size(2) * y.size(3);
    double s = 0, q = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < hw; ++j) s += y.data()[(i * y.size(1) + c) * hw + j];
    mean = s / double(n * hw);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < hw; ++j) {
        const double d = y.data()[(i * y.size(1) + c) * hw + j] - mean;
        q += d * d;
      }
    var = q / double(n * hw);
  };
  for (std::size_t c : {std::size_t(0), std::size_t(7), std::size_t(15)}) {
    double m1, v1, m2, v2;
    stats(x1, c, m1, v1);
    stats(x2, c, m2, v2);
    CHECK(fc.bn->running_mean.at(c) == doctest::Approx((3 * m1 + 5 * m2) / 8).epsilon(1e-4));
    CHECK(fc.bn->running_var.at(c) == doctest::Approx((3 * v1 + 5 * v2) / 8).epsilon(1e-4));
  }
}

TEST_CASE("supernet: OFA w1.2 layout — random subnets extract exactly, names and sizes as OFA") {
  auto p = nat::elastic::ofa_mbv3_w12(10);
  nat::elastic::supernet net(p, 30);
  // OFA's max-size tensors (ofa_spec §1.1, §6): stage-1 first block expands 24 -> 144 with a 7x7
  // depthwise kernel; stage 5's SE reduces 1152 -> md(1152 // 4) = 288.
  std::size_t found = 0;
  for (const auto& [name, t] : net.state_dict()) {
    if (name == "blocks.1.conv.inverted_bottleneck.conv.conv.weight")
      found += t.shape() == nat::shape{144, 24, 1, 1};
    if (name == "blocks.1.conv.depth_conv.conv.conv.weight")
      found += t.shape() == nat::shape{144, 1, 7, 7};
    if (name == "blocks.20.conv.depth_conv.se.fc.reduce.weight")
      found += t.shape() == nat::shape{288, 1152, 1, 1};
    if (name == "feature_mix_layer.conv.weight") found += t.shape() == nat::shape{1536, 1152, 1, 1};
    if (name == "classifier.linear.weight") found += t.shape() == nat::shape{10, 1536};
  }
  CHECK(found == 5);
  CHECK(net.blocks.size() == 21);
  net.eval();
  nat::rng g(31);
  for (int i = 0; i < 2; ++i) {
    auto cfg = net.sample_active(g);
    cfg.r = 128;
    net.set_active(cfg);
    auto sub = net.extract();
    sub->eval();
    CHECK(sub->n_parameters() == std::size_t(nat::elastic::count_params(p, cfg)));
    auto x = nat::tensorf::randn({1, 3, 128, 128}, 32 + i);
    nat::autograd::no_grad ng;
    CHECK(max_rel_diff(sub->forward(x), net.forward(x)) < 1e-5);
  }
}
