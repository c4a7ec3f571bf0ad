// Finite-difference gradient checks of nn's local primitives (prefix slice, kernel crop+transform,
// prefix BatchNorm, pooling) and their forward values against direct formulas.
#include <doctest/doctest.h>

#include <cmath>
#include <nat/autograd/grad_check.hpp>
#include <nat/nn/detail/ops.hpp>

using nat::tensord;
namespace nd = nat::nn::detail;

TEST_CASE("prefix: values and scattered gradient") {
  auto w = tensord::randn({4, 5, 1, 1}, 1).set_requires_grad(true);
  auto y = nd::prefix(w, {2, 3});
  CHECK(y.shape() == nat::shape{2, 3, 1, 1});
  CHECK(y.at(1, 2, 0, 0) == w.at(1, 2, 0, 0));
  auto r = nat::autograd::grad_check([](const auto& in) { return nd::prefix(in[0], {2, 3}); }, {w});
  CHECK_MESSAGE(r.ok, r.worst);
}

TEST_CASE("crop_transform: identity matrix = plain centre crop; gradients to kernel and matrix") {
  auto w = tensord::randn({3, 1, 7, 7}, 2).set_requires_grad(true);
  auto eye = tensord::zeros({25, 25});
  for (int i = 0; i < 25; ++i) eye.at(i, i) = 1;
  auto y = nd::crop_transform(w, eye, 5);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j) CHECK(y.at(c, 0, i, j) == w.at(c, 0, i + 1, j + 1));
  // M·v with v the row-major flattened crop (ofa_spec §2.1): check one entry by hand
  auto m = tensord::randn({25, 25}, 3).set_requires_grad(true);
  auto z = nd::crop_transform(w, m, 5);
  double e = 0;
  for (int b = 0; b < 25; ++b) e += m.at(7, b) * w.at(2, 0, 1 + b / 5, 1 + b % 5);
  CHECK(z.at(2, 0, 7 / 5, 7 % 5) == doctest::Approx(e).epsilon(1e-12));
  // the whole 7 -> 5 -> 3 chain, gradients to W and both matrices
  auto m53 = tensord::randn({9, 9}, 4).set_requires_grad(true);
  auto r = nat::autograd::grad_check(
      [](const auto& in) {
        return nd::crop_transform(nd::crop_transform(nd::prefix(in[0], {2}), in[1], 5), in[2], 3);
      },
      {w, m, m53});
  CHECK_MESSAGE(r.ok, r.worst);
}

TEST_CASE("batch_norm on a channel prefix: values, running stats in place, gradients") {
  auto x = tensord::randn({3, 2, 4, 5}, 5, 0.5, 2.0).set_requires_grad(true);
  auto g = tensord::randn({4}, 6).set_requires_grad(true);
  auto b = tensord::randn({4}, 7).set_requires_grad(true);
  auto rm = tensord::zeros({4}), rv = tensord::ones({4});
  auto y = nd::batch_norm(x, g, b, rm, rv, true, 0.1, 1e-5);
  // channel 1: mean of y must be b[1], biased variance g[1]^2 (up to eps)
  double s = 0, q = 0, mu = 0, var = 0;
  for (int n = 0; n < 3; ++n)
    for (int i = 0; i < 20; ++i) mu += x.data()[(n * 2 + 1) * 20 + i];
  mu /= 60;
  for (int n = 0; n < 3; ++n)
    for (int i = 0; i < 20; ++i) {
      const double d = x.data()[(n * 2 + 1) * 20 + i] - mu;
      var += d * d;
      s += y.data()[(n * 2 + 1) * 20 + i];
    }
  var /= 60;
  for (int n = 0; n < 3; ++n)
    for (int i = 0; i < 20; ++i) {
      const double d = y.data()[(n * 2 + 1) * 20 + i] - b.at(1);
      q += d * d;
    }
  CHECK(s / 60 == doctest::Approx(b.at(1)));
  CHECK(q / 60 == doctest::Approx(g.at(1) * g.at(1) * var / (var + 1e-5)));
  CHECK(rm.at(1) == doctest::Approx(0.1 * mu));
  CHECK(rv.at(1) == doctest::Approx(0.9 + 0.1 * var * 60 / 59));
  CHECK(rm.at(2) == 0.0);  // outside the prefix: untouched
  CHECK(rv.at(3) == 1.0);
  for (bool training : {true, false}) {
    CAPTURE(training);
    auto r = nat::autograd::grad_check(
        [&](const auto& in) {
          return nd::batch_norm(in[0], in[1], in[2], rm, rv, training, 0.1, 1e-5, false);
        },
        {x, g, b});
    CHECK_MESSAGE(r.ok, r.worst);
  }
}

TEST_CASE("global_avg_pool and reshape gradients") {
  auto x = tensord::randn({2, 3, 3, 2}, 8).set_requires_grad(true);
  auto r = nat::autograd::grad_check(
      [](const auto& in) {
        return nd::reshape(nd::global_avg_pool(in[0]), {2, 3});
      },
      {x});
  CHECK_MESSAGE(r.ok, r.worst);
  auto y = nd::global_avg_pool(x);
  double s = 0;
  for (int i = 0; i < 6; ++i) s += x.data()[6 + i];
  CHECK(y.at(0, 1, 0, 0) == doctest::Approx(s / 6));
}
