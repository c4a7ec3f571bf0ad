// End-to-end gradients through the supernet: input gradient against finite differences (double),
// gradients confined to the active subnet's weight prefixes, and SGD lowering the loss.
#include <doctest/doctest.h>

#include <cmath>
#include <nat/autograd/grad_check.hpp>
#include <nat/elastic/supernet.hpp>
#include <nat/nn/optim/optimizer.hpp>
#include <nat/ops/loss.hpp>

TEST_CASE("supernet<double>: input gradient of a subnet matches finite differences") {
  auto p = nat::elastic::mbv3_small(1, 3);
  nat::elastic::basic_supernet<double> net(p, 21);
  net.eval();  // running statistics: a smooth function of the input
  auto cfg = p.uniform(5, 4, 2, 28);
  cfg.ks[1] = 3;
  cfg.ks[4] = 7;
  net.set_active(cfg);
  auto x = nat::tensord::randn({1, 1, 8, 8}, 22).set_requires_grad(true);
  auto r = nat::autograd::grad_check([&](const auto& in) { return net.forward(in[0]); }, {x},
                                     {1e-6, 1e-7, 1e-4, 23});
  CHECK_MESSAGE(r.ok, r.worst);
}

TEST_CASE("supernet: gradients reach only the active subnet, and SGD lowers the loss") {
  auto p = nat::elastic::mbv3_small(1, 10);
  nat::elastic::supernet net(p, 24);
  net.train();
  auto cfg = p.uniform(3, 3, 2, 28);
  net.set_active(cfg);
  auto x = nat::tensorf::randn({8, 1, 28, 28}, 25);
  std::vector<int> y{0, 1, 2, 3, 4, 5, 6, 7};
  std::vector<nat::nn::optim::named_parameter<float>> params;
  for (const auto& [n, t] : net.named_parameters()) params.push_back({n, t});
  nat::nn::optim::sgd<float> opt(params, {0.05, 0.9, 0.0, false, true});
  float first = 0, last = 0;
  for (int step = 0; step < 8; ++step) {
    opt.zero_grad();
    auto loss = nat::ops::cross_entropy(net.forward(x), y, 0.1f);
    nat::autograd::backward(loss);
    if (step == 0) {
      first = loss.item();
      // skipped block (stage 0, slot 3): no gradient at all
      CHECK_FALSE(net.blocks[3]->conv->point_linear->weight.grad().defined());
      // active block 1: expand conv rows beyond mid = md(16*3) = 48 get zero gradient
      const auto g = net.blocks[1]->conv->inverted_bottleneck->weight.grad();
      REQUIRE(g.defined());
      double inside = 0, outside = 0;
      for (std::size_t o = 0; o < g.size(0); ++o)
        for (std::size_t i = 0; i < g.size(1); ++i)
          (o < 48 ? inside : outside) += std::fabs(g.at(o, i, 0, 0));
      CHECK(inside > 0);
      CHECK(outside == 0);
      // kernel 3 is active: the 7to5 and 5to3 matrices both receive gradients
      CHECK(net.blocks[1]->conv->depth_conv->transforms[0].grad().defined());
      CHECK(net.blocks[1]->conv->depth_conv->transforms[1].grad().defined());
    }
    last = loss.item();
    opt.step();
  }
  CHECK(last < 0.7f * first);
}

TEST_CASE(
    "supernet: classifier dropout only in training, reproducible, same in the extracted net") {
  auto p = nat::elastic::mbv3_small(1, 10);
  p.dropout = 0.5;
  nat::elastic::supernet net(p, 40);
  auto x = nat::tensorf::randn({4, 1, 28, 28}, 41);
  nat::autograd::no_grad ng;
  net.eval();
  const auto e1 = net.forward(x).to_vector(), e2 = net.forward(x).to_vector();
  CHECK(e1 == e2);
  net.train();
  const std::uint64_t s0 = net.dropout_seed;
  auto sub = net.extract();  // same weights, same dropout state
  const auto t1 = net.forward(x).to_vector();
  const auto t2 = net.forward(x).to_vector();
  CHECK(t1 != t2);  // a fresh mask per forward
  net.dropout_seed = s0;
  CHECK(net.forward(x).to_vector() == t1);  // reproducible from the seed
  CHECK(sub->forward(x).to_vector() == t1);
}
