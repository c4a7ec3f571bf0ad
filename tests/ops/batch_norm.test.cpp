#include <doctest/doctest.h>

#include <nat/ops/batch_norm.hpp>
#include <nat/ops/reference/batch_norm.hpp>

#include "helpers.hpp"

using nat_test::check_gradients;
using nat_test::param;
using nat_test::rel_error;

TEST_CASE("batch_norm training matches the reference, forward and backward (float, odd sizes)") {
  const std::size_t n = 3, c = 13, h = 7;
  auto x = nat::tensorf::randn({n, c, h, h}, 1, 0.5f, 2.0f).set_requires_grad(true);
  auto w = nat::tensorf::randn({c}, 2).set_requires_grad(true);
  auto b = nat::tensorf::randn({c}, 3).set_requires_grad(true);
  auto y = nat::ops::batch_norm(x, w, b, nat::tensorf(), nat::tensorf(), true);
  nat::ops::batch_norm_shape s{n, c, h * h};
  std::vector<float> ref(y.numel()), mean(c), var(c);
  nat::ops::reference::batch_norm_train_forward(x.data(), w.data(), b.data(), ref.data(),
                                                mean.data(), var.data(), 1e-5f, s);
  CHECK(rel_error(y.to_vector(), ref) < 1e-5);
  auto gy = nat::tensorf::randn(y.shape(), 4);
  nat::autograd::backward(y, gy);
  std::vector<float> gx(x.numel()), gw(c), gb(c);
  nat::ops::reference::batch_norm_train_backward(x.data(), gy.data(), w.data(), 1e-5f, gx.data(),
                                                 gw.data(), gb.data(), s);
  CHECK(rel_error(x.grad().to_vector(), gx) < 1e-5);
  CHECK(rel_error(w.grad().to_vector(), gw) < 1e-5);
  CHECK(rel_error(b.grad().to_vector(), gb) < 1e-5);
}

TEST_CASE("batch_norm updates running statistics in place through prefix views (PyTorch rule)") {
  const std::size_t n = 3, c = 5, h = 4, cmax = 8;
  auto x = nat::tensord::randn({n, c, h, h}, 1, 1.0, 3.0);
  auto rm = nat::tensord::full({cmax}, 0.5), rv = nat::tensord::full({cmax}, 2.0);
  nat::ops::batch_norm(x, nat::tensord(), nat::tensord(), rm.slice(0, c), rv.slice(0, c), true);
  const double cnt = n * h * h;
  for (std::size_t ch = 0; ch < c; ++ch) {
    double m = 0, v = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t p = 0; p < h * h; ++p) m += x.at(i, ch, p / h, p % h);
    m /= cnt;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t p = 0; p < h * h; ++p) v += std::pow(x.at(i, ch, p / h, p % h) - m, 2);
    CHECK(rm.at(ch) == doctest::Approx(0.9 * 0.5 + 0.1 * m));
    CHECK(rv.at(ch) == doctest::Approx(0.9 * 2.0 + 0.1 * v / (cnt - 1)));  // unbiased
  }
  for (std::size_t ch = c; ch < cmax; ++ch) {  // the rest of the buffer is untouched
    CHECK(rm.at(ch) == 0.5);
    CHECK(rv.at(ch) == 2.0);
  }
  // Evaluation normalises with the running statistics.
  auto y = nat::ops::batch_norm(x, nat::tensord(), nat::tensord(), rm.slice(0, c), rv.slice(0, c),
                                false);
  CHECK(y.at(1, 2, 3, 1) ==
        doctest::Approx((x.at(1, 2, 3, 1) - rm.at(2)) / std::sqrt(rv.at(2) + 1e-5)));
}

TEST_CASE("batch_norm gradients (double): training and evaluation, NCHW and NC") {
  using V = std::vector<nat::tensord>;
  check_gradients(
      [](const V& in) {
        return nat::ops::batch_norm(in[0], in[1], in[2], nat::tensord(), nat::tensord(), true);
      },
      {param({3, 4, 3, 3}, 1, 2.0), param({4}, 2), param({4}, 3)});
  check_gradients(
      [](const V& in) {
        return nat::ops::batch_norm(in[0], in[1], in[2], nat::tensord(), nat::tensord(), true);
      },
      {param({5, 3}, 1), param({3}, 2), param({3}, 3)});
  auto rm = nat::tensord::randn({4}, 7), rv = nat::tensord::uniform({4}, 8, 0.5, 2.0);
  check_gradients(
      [rm, rv](const V& in) { return nat::ops::batch_norm(in[0], in[1], in[2], rm, rv, false); },
      {param({3, 4, 3, 3}, 1), param({4}, 2), param({4}, 3)});
}

TEST_CASE("batch_norm rejects channel mismatches and missing statistics") {
  auto x = nat::tensorf::zeros({2, 6, 3, 3});
  CHECK_THROWS_AS(nat::ops::batch_norm(x, nat::tensorf::ones({5}), nat::tensorf(), nat::tensorf(),
                                       nat::tensorf(), true),
                  nat::shape_error);
  CHECK_THROWS_AS(nat::ops::batch_norm(x, nat::tensorf(), nat::tensorf(), nat::tensorf(),
                                       nat::tensorf(), false),
                  nat::shape_error);
  CHECK_THROWS_AS(nat::ops::batch_norm(nat::tensorf::zeros({2, 6, 3}), nat::tensorf(),
                                       nat::tensorf(), nat::tensorf(), nat::tensorf(), true),
                  nat::shape_error);
}
