#include <doctest/doctest.h>

#include <nat/ops/conv2d.hpp>
#include <nat/ops/depthwise_conv2d.hpp>
#include <nat/ops/linear.hpp>
#include <nat/ops/reference/conv2d.hpp>
#include <nat/ops/reference/depthwise.hpp>

#include "helpers.hpp"

using nat_test::check_gradients;
using nat_test::param;
using nat_test::rel_error;

namespace {
struct conv_case {
  std::size_t n, c, h, o, k, stride, pad, groups;
};
}  // namespace

TEST_CASE("conv2d matches the naive reference (float, odd sizes, strides, groups, 1x1)") {
  const conv_case cases[] = {{3, 13, 7, 11, 3, 1, 1, 1},  {3, 13, 7, 8, 3, 2, 1, 1},
                             {3, 13, 7, 26, 1, 1, 0, 1},  {2, 12, 9, 6, 5, 2, 2, 3},
                             {3, 13, 7, 13, 3, 2, 1, 13}, {1, 4, 8, 5, 1, 2, 0, 1},
                             {8, 5, 7, 6, 1, 1, 0, 1},    {13, 3, 3, 4, 1, 1, 0, 1}};
  for (const auto& cc : cases) {
    CAPTURE(cc.c);
    CAPTURE(cc.k);
    CAPTURE(cc.stride);
    CAPTURE(cc.groups);
    auto x = nat::tensorf::randn({cc.n, cc.c, cc.h, cc.h}, 1).set_requires_grad(true);
    auto w = nat::tensorf::randn({cc.o, cc.c / cc.groups, cc.k, cc.k}, 2).set_requires_grad(true);
    auto b = nat::tensorf::randn({cc.o}, 3).set_requires_grad(true);
    auto y = nat::ops::conv2d(x, w, b, cc.stride, cc.pad, cc.groups);
    nat::ops::conv2d_shape g{cc.n, cc.c, cc.h,      cc.h,   cc.o,
                             cc.k, cc.k, cc.stride, cc.pad, cc.groups};
    REQUIRE(y.shape() == nat::shape{cc.n, cc.o, g.out_h(), g.out_w()});
    std::vector<float> ref(y.numel());
    nat::ops::reference::conv2d_forward(x.data(), w.data(), b.data(), ref.data(), g);
    CHECK(rel_error(y.to_vector(), ref) < 1e-5);

    auto gy = nat::tensorf::randn(y.shape(), 4);
    nat::autograd::backward(y, gy);
    std::vector<float> gx(x.numel()), gw(w.numel()), gb(cc.o);
    nat::ops::reference::conv2d_backward_input(gy.data(), w.data(), gx.data(), g);
    nat::ops::reference::conv2d_backward_weight(x.data(), gy.data(), gw.data(), gb.data(), g);
    CHECK(rel_error(x.grad().to_vector(), gx) < 1e-5);
    CHECK(rel_error(w.grad().to_vector(), gw) < 1e-5);
    CHECK(rel_error(b.grad().to_vector(), gb) < 1e-5);
  }
}

TEST_CASE("pointwise conv2d on small maps (direct kernel) matches the naive reference") {
  // Map sizes take every column-chunk width (AVX-512: 1..4 vectors of 16 and masked tails; AVX2:
  // chunks of 2 and 3 vectors of 8, two samples per vector at 2x2, Eigen for the odd maps) and
  // several chunks; channel counts leave remainders after every row tile (16, 8, 4 rows; 12, 6,
  // 4 and their halves). Seven samples give the AVX2 pair vectors a full task of six and an odd
  // sample paired with itself; 130 at 1x1 and 2x2 make several tasks, the last one short.
  for (const std::size_t h : {1, 2, 3, 4, 5, 7, 8, 11, 12, 14, 15}) {
    for (const auto& [c, o] : {std::make_pair(1, 1), std::make_pair(7, 19), std::make_pair(24, 40),
                               std::make_pair(33, 6), std::make_pair(16, 29)}) {
      for (const std::size_t n : {std::size_t(3), h <= 2 ? std::size_t(130) : std::size_t(7)}) {
        CAPTURE(h);
        CAPTURE(c);
        CAPTURE(o);
        CAPTURE(n);
        auto x = nat::tensorf::randn({n, std::size_t(c), h, h}, 5 + h).set_requires_grad(true);
        auto w =
            nat::tensorf::randn({std::size_t(o), std::size_t(c), 1, 1}, 6).set_requires_grad(true);
        auto y = nat::ops::conv2d(x, w);
        nat::ops::conv2d_shape g{n, std::size_t(c), h, h, std::size_t(o), 1, 1, 1, 0, 1};
        std::vector<float> ref(y.numel());
        nat::ops::reference::conv2d_forward<float>(x.data(), w.data(), nullptr, ref.data(), g);
        CHECK(rel_error(y.to_vector(), ref) < 1e-5);
        auto gy = nat::tensorf::randn(y.shape(), 7);
        nat::autograd::backward(y, gy);
        std::vector<float> gx(x.numel());
        nat::ops::reference::conv2d_backward_input(gy.data(), w.data(), gx.data(), g);
        CHECK(rel_error(x.grad().to_vector(), gx) < 1e-5);
      }
    }
  }
}

TEST_CASE("conv2d gradients match finite differences (double)") {
  auto x = param({2, 4, 5, 5}, 1);
  auto w = param({6, 2, 3, 3}, 2);
  auto b = param({6}, 3);
  check_gradients(
      [](const std::vector<nat::tensord>& in) {
        return nat::ops::conv2d(in[0], in[1], in[2], 2, 1, 2);
      },
      {x, w, b});
  auto pw = param({5, 4, 1, 1}, 4);
  check_gradients(
      [](const std::vector<nat::tensord>& in) { return nat::ops::conv2d(in[0], in[1]); }, {x, pw});
}

TEST_CASE("conv2d is deterministic across thread counts") {
  auto x = nat::tensorf::randn({16, 24, 8, 8}, 1).set_requires_grad(true);
  auto w = nat::tensorf::randn({40, 24, 1, 1}, 2).set_requires_grad(true);
  nat::autograd::backward(nat::ops::conv2d(x, w), nat::tensorf::randn({16, 40, 8, 8}, 3));
  const auto many = w.grad().to_vector();
  w.zero_grad();
  {
    nat::thread_limit one(1);
    nat::autograd::backward(nat::ops::conv2d(x, w), nat::tensorf::randn({16, 40, 8, 8}, 3));
  }
  CHECK(w.grad().to_vector() == many);
  // The forward and the input gradient at small maps (the direct pointwise kernels; on AVX2 the
  // forward only, with pair vectors at 2x2) as well.
  for (const std::size_t h : {7, 2}) {
    CAPTURE(h);
    auto xs = nat::tensorf::randn({17, 24, h, h}, 4).set_requires_grad(true);
    auto ws = nat::tensorf::randn({40, 24, 1, 1}, 5);
    auto ys = nat::ops::conv2d(xs, ws);
    nat::autograd::backward(ys, nat::tensorf::randn(ys.shape(), 6));
    const auto y_many = ys.to_vector(), gx_many = xs.grad().to_vector();
    xs.zero_grad();
    {
      nat::thread_limit one(1);
      auto y1 = nat::ops::conv2d(xs, ws);
      nat::autograd::backward(y1, nat::tensorf::randn(ys.shape(), 6));
      CHECK(y1.to_vector() == y_many);
    }
    CHECK(xs.grad().to_vector() == gx_many);
  }
}

TEST_CASE("conv2d rejects mismatched shapes with both shapes in the message") {
  auto x = nat::tensorf::zeros({1, 32, 8, 8});
  auto w = nat::tensorf::zeros({8, 16, 3, 3});
  try {
    nat::ops::conv2d(x, w, 1, 1);
    FAIL("no throw");
  } catch (const nat::shape_error& e) {
    const std::string m = e.what();
    CHECK(m.find("conv2d") != std::string::npos);
    CHECK(m.find("[1, 32, 8, 8]") != std::string::npos);
    CHECK(m.find("[8, 16, 3, 3]") != std::string::npos);
  }
  CHECK_THROWS_AS(nat::ops::conv2d(x, nat::tensorf::zeros({8, 32, 3}), 1, 1), nat::shape_error);
  CHECK_THROWS_AS(nat::ops::conv2d(x, nat::tensorf::zeros({9, 16, 1, 1}), 1, 0, 2),
                  nat::shape_error);
  CHECK_THROWS_AS(nat::ops::conv2d(x, nat::tensorf::zeros({8, 32, 1, 1}), 0, 0), nat::shape_error);
}

TEST_CASE("depthwise_conv2d: k 3/5/7, stride 1/2 against the reference; gradients") {
  // 7, 14, 28: the 28 px supernet's maps, run by the channel-blocked AVX-512 kernels as column
  // chunks (16+8+4, 8+4+2, 4+2+1); 13 and 5 x 11 exercise odd widths.
  const std::size_t maps[][2] = {{7, 7}, {14, 14}, {28, 28}, {13, 13}, {5, 11}};
  for (const auto& hw : maps)
    for (std::size_t k : {3u, 5u, 7u})
      for (std::size_t stride : {1u, 2u}) {
        const std::size_t h = hw[0], wd = hw[1];
        CAPTURE(h);
        CAPTURE(wd);
        CAPTURE(k);
        CAPTURE(stride);
        auto x = nat::tensorf::randn({3, 13, h, wd}, 5).set_requires_grad(true);
        auto w = nat::tensorf::randn({13, 1, k, k}, 6).set_requires_grad(true);
        auto y = nat::ops::depthwise_conv2d(x, w, stride, k / 2);
        nat::ops::depthwise_shape s{3, 13, h, wd, k, stride, k / 2};
        REQUIRE(y.shape() == nat::shape{3, 13, s.out_h(), s.out_w()});
        // Oracle: the grouped naive conv (groups = channels) — independent of the depthwise code.
        nat::ops::conv2d_shape g{3, 13, h, wd, 13, k, k, stride, k / 2, 13};
        std::vector<float> ref(y.numel()), gx(x.numel()), gw(w.numel());
        nat::ops::reference::conv2d_forward<float>(x.data(), w.data(), nullptr, ref.data(), g);
        CHECK(rel_error(y.to_vector(), ref) < 1e-5);
        auto gy = nat::tensorf::randn(y.shape(), 7);
        nat::autograd::backward(y, gy);
        nat::ops::reference::conv2d_backward_input(gy.data(), w.data(), gx.data(), g);
        nat::ops::reference::conv2d_backward_weight<float>(x.data(), gy.data(), gw.data(), nullptr,
                                                           g);
        CHECK(rel_error(x.grad().to_vector(), gx) < 1e-5);
        CHECK(rel_error(w.grad().to_vector(), gw) < 1e-5);
      }
  {  // only one operand wants a gradient: the unfused kernels, same results as the fused one
    auto x = nat::tensorf::randn({3, 13, 7, 7}, 5).set_requires_grad(true);
    auto w = nat::tensorf::randn({13, 1, 5, 5}, 6).set_requires_grad(true);
    auto gy = nat::tensorf::randn({3, 13, 4, 4}, 7);
    nat::autograd::backward(nat::ops::depthwise_conv2d(x, w, 2, 2), gy);
    auto x_only = x.detach().clone().set_requires_grad(true);
    auto w_only = w.detach().clone().set_requires_grad(true);
    nat::autograd::backward(nat::ops::depthwise_conv2d(x_only, w.detach(), 2, 2), gy);
    nat::autograd::backward(nat::ops::depthwise_conv2d(x.detach(), w_only, 2, 2), gy);
    CHECK(rel_error(x_only.grad().to_vector(), x.grad().to_vector()) < 1e-5);
    CHECK(rel_error(w_only.grad().to_vector(), w.grad().to_vector()) < 1e-5);
  }
  auto x = param({2, 3, 6, 6}, 1);
  auto w = param({3, 1, 5, 5}, 2);
  check_gradients(
      [](const std::vector<nat::tensord>& in) {
        return nat::ops::depthwise_conv2d(in[0], in[1], 2, 2);
      },
      {x, w});
  CHECK_THROWS_AS(nat::ops::depthwise_conv2d(nat::tensorf::zeros({1, 32, 8, 8}),
                                             nat::tensorf::zeros({16, 1, 3, 3}), 1, 1),
                  nat::shape_error);
}

TEST_CASE("linear, matmul, matmul_nt: values and gradients") {
  auto x = nat::tensorf::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
  auto w = nat::tensorf::from_vector({2, 3}, {1, 0, -1, 2, 1, 0});
  auto b = nat::tensorf::from_vector({2}, {10, 20});
  CHECK(nat::ops::linear(x, w, b).to_vector() == std::vector<float>{8, 24, 8, 33});
  CHECK(nat::ops::matmul_nt(x, w).to_vector() == std::vector<float>{-2, 4, -2, 13});
  CHECK_THROWS_AS(nat::ops::linear(x, nat::tensorf::zeros({2, 4})), nat::shape_error);
  check_gradients(
      [](const std::vector<nat::tensord>& in) { return nat::ops::linear(in[0], in[1], in[2]); },
      {param({3, 5}, 1), param({4, 5}, 2), param({4}, 3)});
  check_gradients(
      [](const std::vector<nat::tensord>& in) { return nat::ops::matmul(in[0], in[1]); },
      {param({3, 5}, 1), param({5, 2}, 2)});
  // OFA's kernel transform: filter[C, 25] · M75ᵀ, gradients to both.
  check_gradients(
      [](const std::vector<nat::tensord>& in) { return nat::ops::matmul_nt(in[0], in[1]); },
      {param({13, 25}, 1), param({25, 25}, 2)});
}
