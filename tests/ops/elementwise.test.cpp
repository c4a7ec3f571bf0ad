#include <doctest/doctest.h>

#include <cmath>
#include <nat/ops/activation.hpp>
#include <nat/ops/arith.hpp>
#include <nat/ops/batch_norm.hpp>
#include <nat/ops/dropout.hpp>
#include <nat/ops/loss.hpp>
#include <nat/ops/pool.hpp>
#include <nat/ops/reference/batch_norm.hpp>
#include <nat/ops/view.hpp>

#include "helpers.hpp"

using nat_test::check_gradients;
using nat_test::param;
using nat_test::rel_error;

namespace {
using fn_t = nat::tensord (*)(const nat::tensord&);
}

TEST_CASE("activations: values against scalar formulas, gradients by finite differences") {
  const double xs[] = {-7, -3.5, -1, -0.25, 0.5, 2, 3.5, 6.5};
  auto x = nat::tensord::from_vector({8}, std::vector<double>(std::begin(xs), std::end(xs)));
  auto r6 = [](double v) { return std::min(std::max(v, 0.0), 6.0); };
  const auto relu = nat::ops::relu(x).to_vector(), relu6 = nat::ops::relu6(x).to_vector(),
             hs = nat::ops::hsigmoid(x).to_vector(), hw = nat::ops::hswish(x).to_vector(),
             sg = nat::ops::sigmoid(x).to_vector();
  for (int i = 0; i < 8; ++i) {
    CHECK(relu[i] == doctest::Approx(std::max(xs[i], 0.0)));
    CHECK(relu6[i] == doctest::Approx(r6(xs[i])));
    CHECK(hs[i] == doctest::Approx(r6(xs[i] + 3) / 6));
    CHECK(hw[i] == doctest::Approx(xs[i] * r6(xs[i] + 3) / 6));
    CHECK(sg[i] == doctest::Approx(1 / (1 + std::exp(-xs[i]))));
  }
  const fn_t fns[] = {nat::ops::relu<double>, nat::ops::relu6<double>, nat::ops::hsigmoid<double>,
                      nat::ops::hswish<double>, nat::ops::sigmoid<double>};
  for (auto f : fns) {
    // Spread of 4 so every branch (x < -3, |x| < 3, x > 6) is exercised.
    check_gradients([f](const std::vector<nat::tensord>& in) { return f(in[0]); },
                    {param({3, 13, 7, 7}, 11, 4.0)});
  }
}

TEST_CASE("activation and batch norm backwards reuse only gradient buffers nobody else holds") {
  auto x = nat::tensorf::from_vector({1, 2, 1, 2}, {-1.f, 2.f, 3.f, -4.f}).set_requires_grad(true);
  // relu's gradient arrives as one tensor handed to both inputs of add: not reusable.
  auto y = nat::ops::relu(x);
  auto z = nat::ops::hswish(nat::ops::add(y, y));
  auto gz = nat::tensorf::full(z.shape(), 1.f);
  nat::autograd::backward(z, gz);
  for (float v : gz.to_vector()) CHECK(v == 1.f);  // the caller's gradient is never written
  // d hswish(2 relu(x)) / dx at x = 2, 3 (2x = 4, 6 > 3: slope 1): 2; at x < 0: 0.
  const auto g = x.grad().to_vector();
  CHECK(g[0] == 0.f);
  CHECK(g[1] == doctest::Approx(2.f));
  CHECK(g[2] == doctest::Approx(2.f));
  CHECK(g[3] == 0.f);
  // Batch norm given its gradient by a preceding activation computes gx in that buffer.
  auto xb = nat::tensorf::randn({4, 3, 2, 2}, 5).set_requires_grad(true);
  auto yb = nat::ops::relu(nat::ops::batch_norm(xb, nat::tensorf(), nat::tensorf(), nat::tensorf(),
                                                nat::tensorf(), true));
  auto gyb = nat::tensorf::randn(yb.shape(), 6);
  nat::autograd::backward(yb, gyb);
  // Oracle: the reference BN backward of relu's masked gradient.
  const nat::ops::batch_norm_shape sh{4, 3, 4};
  std::vector<float> bn_out(xb.numel()), mean(3), var(3), masked = gyb.to_vector();
  nat::ops::reference::batch_norm_train_forward<float>(xb.data(), nullptr, nullptr, bn_out.data(),
                                                       mean.data(), var.data(), 1e-5f, sh);
  for (std::size_t i = 0; i < masked.size(); ++i)
    if (bn_out[i] <= 0) masked[i] = 0;
  std::vector<float> one(3, 1.f), gx(xb.numel()), gw(3), gb(3);
  nat::ops::reference::batch_norm_train_backward<float>(xb.data(), masked.data(), one.data(), 1e-5f,
                                                        gx.data(), gw.data(), gb.data(), sh);
  CHECK(rel_error(xb.grad().to_vector(), gx) < 1e-5);
}

TEST_CASE("broadcast add/sub/mul: residual, SE scaling, bias; gradients reduce") {
  auto a = nat::tensorf::randn({3, 13, 7, 7}, 1), s = nat::tensorf::randn({3, 13, 1, 1}, 2),
       b = nat::tensorf::randn({1, 13, 1, 1}, 3);
  auto y = nat::ops::mul(a, s);
  for (std::size_t n = 0; n < 3; ++n)
    for (std::size_t c = 0; c < 13; ++c)
      CHECK(y.at(n, c, 4, 5) == a.at(n, c, 4, 5) * s.at(n, c, 0, 0));
  auto z = nat::ops::add(a, b);
  CHECK(z.at(2, 7, 1, 3) == a.at(2, 7, 1, 3) + b.at(0, 7, 0, 0));
  auto d = nat::ops::sub(b, a);  // broadcast on the left operand
  CHECK(d.at(2, 7, 1, 3) == b.at(0, 7, 0, 0) - a.at(2, 7, 1, 3));
  CHECK_THROWS_AS(nat::ops::add(a, nat::tensorf::zeros({3, 12, 7, 7})), nat::shape_error);
  CHECK_THROWS_AS(nat::ops::add(a, nat::tensorf::zeros({13, 1, 1})), nat::shape_error);
  using V = std::vector<nat::tensord>;
  check_gradients([](const V& in) { return nat::ops::mul(in[0], in[1]); },
                  {param({3, 5, 4, 4}, 1), param({3, 5, 1, 1}, 2)});
  check_gradients([](const V& in) { return nat::ops::mul(in[0], in[1]); },
                  {param({2, 3, 1, 4}, 1), param({1, 3, 5, 1}, 2)});
  check_gradients([](const V& in) { return nat::ops::add(in[0], in[1]); },
                  {param({3, 5, 4, 4}, 1), param({1, 5, 1, 1}, 2)});
  check_gradients([](const V& in) { return nat::ops::sub(in[0], in[1]); },
                  {param({3, 5}, 1), param({3, 5}, 2)});
  check_gradients([](const V& in) { return nat::ops::mean(nat::ops::scale(in[0], 3.0)); },
                  {param({4, 3}, 1)});
}

TEST_CASE("global_avg_pool, flatten, reshape") {
  auto x = nat::tensorf::randn({3, 13, 7, 7}, 1);
  auto p = nat::ops::global_avg_pool(x);
  REQUIRE(p.shape() == nat::shape{3, 13, 1, 1});
  double m = 0;
  for (std::size_t i = 0; i < 49; ++i) m += x.at(1, 4, i / 7, i % 7);
  CHECK(p.at(1, 4, 0, 0) == doctest::Approx(m / 49).epsilon(1e-6));
  CHECK(nat::ops::flatten(p).shape() == nat::shape{3, 13});
  using V = std::vector<nat::tensord>;
  check_gradients([](const V& in) { return nat::ops::global_avg_pool(in[0]); },
                  {param({3, 5, 3, 3}, 1)});
  check_gradients([](const V& in) { return nat::ops::flatten(in[0]); }, {param({2, 3, 2, 2}, 1)});
  check_gradients(
      [](const V& in) {
        return nat::ops::reshape(in[0], {6, 4});
      },
      {param({2, 3, 4}, 1)});
}

TEST_CASE("slice of a parameter and centre_crop of a kernel scatter gradients back") {
  auto w = nat::tensorf::randn({8, 6, 1, 1}, 1).set_requires_grad(true);
  auto s = nat::ops::slice(w, {5, 4});
  REQUIRE(s.shape() == nat::shape{5, 4, 1, 1});
  CHECK(s.at(4, 3, 0, 0) == w.at(4, 3, 0, 0));
  nat::autograd::backward(nat::ops::sum(s));
  CHECK(w.grad().at(4, 3, 0, 0) == 1.0f);
  CHECK(w.grad().at(5, 0, 0, 0) == 0.0f);
  CHECK(w.grad().at(0, 4, 0, 0) == 0.0f);
  auto k = nat::tensorf::randn({3, 1, 7, 7}, 2);
  auto c = nat::ops::centre_crop(k, 5);
  CHECK(c.at(2, 0, 0, 0) == k.at(2, 0, 1, 1));
  CHECK(nat::ops::centre_crop(k, 3).at(1, 0, 2, 2) == k.at(1, 0, 4, 4));
  CHECK_THROWS_AS(nat::ops::centre_crop(k, 9), nat::shape_error);
  CHECK_THROWS_AS(nat::ops::slice(w, 0, 9), nat::shape_error);
  using V = std::vector<nat::tensord>;
  check_gradients([](const V& in) { return nat::ops::slice(in[0], 1, 2); }, {param({3, 4, 2}, 1)});
  check_gradients([](const V& in) { return nat::ops::centre_crop(in[0], 3); },
                  {param({2, 1, 5, 5}, 1)});
}

TEST_CASE("dropout: seeded mask, scaling, identity when not training") {
  auto x = nat::tensorf::ones({1000});
  auto a = nat::ops::dropout(x, 0.2, 7), b = nat::ops::dropout(x, 0.2, 7),
       c = nat::ops::dropout(x, 0.2, 8);
  CHECK(a.to_vector() == b.to_vector());
  CHECK(a.to_vector() != c.to_vector());
  std::size_t zeros = 0;
  for (float v : a.to_vector()) {
    CHECK((v == 0.0f || v == doctest::Approx(1.25f)));
    zeros += v == 0.0f;
  }
  CHECK(zeros > 150);
  CHECK(zeros < 250);
  CHECK(nat::ops::dropout(x, 0.2, 7, false).shares_storage_with(x));
  CHECK_THROWS_AS(nat::ops::dropout(x, 1.0, 7), nat::config_error);
  check_gradients(
      [](const std::vector<nat::tensord>& in) { return nat::ops::dropout(in[0], 0.3, 5); },
      {param({4, 6}, 1)});
}

TEST_CASE("log_softmax, cross_entropy with label smoothing, soft_cross_entropy") {
  auto logits = nat::tensord::from_vector({2, 3}, {1, 2, 3, 0, 0, 5});
  const auto ls = nat::ops::log_softmax(logits).to_vector();
  const double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  CHECK(ls[0] == doctest::Approx(1 - lse0));
  const std::vector<int> labels{2, 0};
  const double lse1 = std::log(2 + std::exp(5.0));
  const double plain = ((lse0 - 3) + (lse1 - 0)) / 2;
  CHECK(nat::ops::cross_entropy(logits, labels).item() == doctest::Approx(plain));
  // PyTorch's smoothing: (1−ε)·nll + ε·mean_k(−log p_k).
  const double eps = 0.1;
  const double u0 = (3 * lse0 - 6) / 3, u1 = (3 * lse1 - 5) / 3;
  CHECK(nat::ops::cross_entropy(logits, labels, eps).item() ==
        doctest::Approx((1 - eps) * plain + eps * (u0 + u1) / 2));
  CHECK_THROWS_AS(nat::ops::cross_entropy(logits, std::vector<int>{3, 0}), nat::shape_error);
  CHECK_THROWS_AS(nat::ops::cross_entropy(logits, std::vector<int>{0}), nat::shape_error);
  using V = std::vector<nat::tensord>;
  check_gradients([](const V& in) { return nat::ops::log_softmax(in[0]); }, {param({3, 5}, 1)});
  check_gradients(
      [](const V& in) {
        return nat::ops::cross_entropy(in[0], std::vector<std::size_t>{1, 4, 0}, 0.1);
      },
      {param({3, 5}, 2)});
  auto t = nat::tensord::uniform({3, 5}, 3, 0.1, 1.0);
  for (std::size_t r = 0; r < 3; ++r) {
    double s = 0;
    for (std::size_t j = 0; j < 5; ++j) s += t.at(r, j);
    for (std::size_t j = 0; j < 5; ++j) t.at(r, j) /= s;
  }
  check_gradients([t](const V& in) { return nat::ops::soft_cross_entropy(in[0], t); },
                  {param({3, 5}, 4)});
}
